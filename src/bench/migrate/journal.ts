/**
 * A long migration run in parts. N = 1000 per case is hours of testbed; a run that is stopped (a reboot, a
 * session's end, Ctrl-C) must lose nothing and go on where it stopped. With `--out DIR` every sample is
 * appended to DIR/journal.ndjson as it is taken, after a line describing the part it belongs to (its binary,
 * command, network figures). `--resume` reads the journal, takes only the samples still missing per case
 * (each case of a part starts from new nodes and a discarded dry run, as always), and the report is drawn
 * from every part's samples. A part is only resumed by the same binary and the same command line: a run's
 * samples all come from one build and one procedure.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { IconError } from "../../errors.ts";
import { CASES, type Case } from "./cases.ts";
import type { MigrateBenchResult, RunInfo, Sample } from "./run.ts";
import { summarize } from "./summary.ts";

export const JOURNAL = "journal.ndjson";

/** What a part measured before its samples: the run's figures that are not per sample. */
export type PartInfo = RunInfo & { command: string };

export interface PartSummary {
  part: number;
  startedAt: string;
  /** From its start to its last sample (a part that was stopped has no end line). */
  elapsedMs: number;
  floorMs: number;
  pathBytesPerSec?: number;
  samples: Partial<Record<Case, number>>;
}

type Line =
  | ({ type: "part"; part: number } & PartInfo)
  | { type: "sample"; part: number; case: Case; k: number; at: number; sample: Sample };

export class Journal {
  private readonly parts: (PartInfo & { part: number; startMs: number; lastMs: number })[] = [];
  private readonly samples = new Map<Case, { part: number; sample: Sample }[]>();

  private constructor(private readonly file: string) {}

  /**
   * The journal of DIR for a run of `command` by this binary. Without `resume` an existing journal is refused
   * (hours of samples are not overwritten by accident); with it, its parts must be of the same version and
   * command.
   */
  static open(dir: string, o: { resume: boolean; command: string; version: string }): Journal {
    const j = new Journal(join(dir, JOURNAL));
    if (!existsSync(j.file)) {
      if (o.resume) throw new IconError("NOT_FOUND", `--resume: ${j.file} does not exist`, "Start the run without --resume (it writes the journal), or pass the --out of the run to resume.");
      mkdirSync(dir, { recursive: true });
      return j;
    }
    if (!o.resume)
      throw new IconError("CONFLICT", `${j.file} holds the samples of a run already`, `Go on with it: the same command with --resume; or choose another --out (or remove ${j.file}).`);
    readFileSync(j.file, "utf8").split("\n").forEach((text, i) => text.trim() && j.take(parseLine(text, `${j.file}:${i + 1}`)));
    const mismatch = j.parts.find((p) => p.version !== o.version || p.command !== o.command);
    if (mismatch)
      throw new IconError(
        "CONFLICT",
        `${j.file} was started by icon ${mismatch.version} with \`${mismatch.command}\`, not icon ${o.version} with \`${o.command}\``,
        "Resume with the same binary (its version includes the commit) and the same options, so that every sample comes from one build and one procedure.",
      );
    return j;
  }

  /** Samples taken so far for a case. */
  have(c: Case): number {
    return this.samples.get(c)?.length ?? 0;
  }

  /** Starts a new part; its samples follow. */
  startPart(info: PartInfo): void {
    const part = this.parts.length + 1;
    this.append({ type: "part", part, ...info });
  }

  addSample(c: Case, k: number, sample: Sample): void {
    this.append({ type: "sample", part: this.parts.length, case: c, k, at: Date.now(), sample });
  }

  /**
   * Every part's samples as one result: per case against the floor of the parts its samples come from
   * (undefined before the first part measured its network).
   */
  result(): MigrateBenchResult | undefined {
    const last = this.parts.at(-1);
    if (!last) return undefined;
    const parts: PartSummary[] = this.parts.map((p) => ({
      part: p.part,
      startedAt: p.startedAt,
      elapsedMs: p.lastMs - p.startMs,
      floorMs: p.floorMs,
      ...(p.pathBytesPerSec ? { pathBytesPerSec: p.pathBytesPerSec } : {}),
      samples: Object.fromEntries([...this.samples].map(([c, list]) => [c, list.filter((s) => s.part === p.part).length]).filter(([, n]) => n)),
    }));
    const cases: MigrateBenchResult["cases"] = {};
    const samples: MigrateBenchResult["samples"] = {};
    const all = [...this.samples.values()].flat();
    for (const c of CASES) {
      const list = this.samples.get(c);
      if (!list?.length) continue;
      samples[c] = list.map((s) => s.sample);
      cases[c] = summarize(samples[c]!, this.weighted(list, (p) => p.floorMs)!, this.weighted(list, (p) => p.pathBytesPerSec));
    }
    const first = this.parts[0]!;
    const rtt = (k: keyof PartInfo["rttMs"]) => round2(this.weighted(all, (p) => p.rttMs[k])!);
    return {
      ...first,
      pathBytesPerSec: this.weighted(all, (p) => p.pathBytesPerSec),
      machine: last.machine,
      rttMs: { clientOrigin: rtt("clientOrigin"), clientEdge: rtt("clientEdge"), originEdge: rtt("originEdge") },
      floorMs: round2(this.weighted(all, (p) => p.floorMs)!),
      elapsedMs: parts.reduce((sum, p) => sum + p.elapsedMs, 0),
      cases,
      samples,
      ...(parts.length > 1 ? { parts } : {}),
    };
  }

  /** A part's figure averaged over samples (each sample weighs its own part's figure); undefined where no part has it. */
  private weighted(list: { part: number }[], figure: (p: PartInfo) => number | undefined): number | undefined {
    let sum = 0;
    let n = 0;
    for (const s of list) {
      const v = figure(this.parts[s.part - 1]!);
      if (v === undefined) continue;
      sum += v;
      n++;
    }
    return n ? sum / n : undefined;
  }

  private append(line: Line): void {
    appendFileSync(this.file, JSON.stringify(line) + "\n");
    this.take(line);
  }

  private take(line: Line): void {
    if (line.type === "part") {
      const at = Date.parse(line.startedAt);
      this.parts.push({ ...line, startMs: at, lastMs: at });
      return;
    }
    const part = this.parts[line.part - 1];
    if (!part) throw new IconError("INVALID_INPUT", `${this.file}: a sample of part ${line.part} before that part's line`, "The journal was edited or cut; restore it or start another --out.");
    part.lastMs = Math.max(part.lastMs, line.at);
    const list = this.samples.get(line.case) ?? [];
    this.samples.set(line.case, list);
    list.push({ part: line.part, sample: line.sample });
  }
}

const round2 = (v: number) => Math.round(v * 100) / 100;

function parseLine(text: string, where: string): Line {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    // A run killed in the middle of a write leaves at most its last line cut: that sample is lost, no other.
    throw new IconError("INVALID_INPUT", `${where}: not JSON (${(e as Error).message})`, "Remove that line (a run stopped while writing it) and resume again.");
  }
  const l = v as Partial<Line> & Record<string, unknown>;
  const ok =
    (l.type === "part" && typeof l.part === "number" && typeof l.version === "string" && typeof l.command === "string" && typeof l.floorMs === "number" && typeof l.startedAt === "string") ||
    (l.type === "sample" && typeof l.part === "number" && (CASES as readonly unknown[]).includes(l.case) && typeof l.k === "number" && typeof l.at === "number" && typeof l.sample === "object" && l.sample !== null);
  if (!ok) throw new IconError("INVALID_INPUT", `${where}: not a line of a migration run's journal`, "Pass the --out of a run of icon bench migrate.");
  return l as Line;
}
