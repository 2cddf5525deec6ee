/**
 * The bench's hostile processes: the attacker in its host's namespace and the on-path relay in a router's,
 * each this binary's hidden `bench hostile-attacker` with its spec in a file. They print JSON lines; closing
 * their stdin stops them. Their stderr goes to a log file beside the nodes' logs.
 */
import { closeSync, openSync } from "node:fs";
import { IconError } from "../../errors.ts";
import { inHost, type TestbedStatus } from "../../testbed/index.ts";
import { selfCommand } from "../../testbed/self.ts";
import { lines } from "../../util/lines.ts";

export class HostileProcess<E extends { type: string }> {
  private readonly proc;
  private readonly seen: E[] = [];
  private failed?: IconError;
  private readonly reading: Promise<void>;
  readonly ready: Promise<void>;

  constructor(st: TestbedStatus, host: string, args: string[], readonly logPath: string, onEvent: (e: E) => void = () => {}) {
    const log = openSync(logPath, "a");
    const proc = Bun.spawn(inHost(st, host, selfCommand(["bench", "hostile-attacker", ...args])), { stdin: "pipe", stdout: "pipe", stderr: log });
    this.proc = proc;
    closeSync(log);
    let ready!: () => void;
    this.ready = new Promise<void>((resolve) => (ready = resolve));
    this.reading = (async () => {
      for await (const line of lines(proc.stdout)) {
        const e = JSON.parse(line) as E;
        this.seen.push(e);
        if (e.type === "ready") ready();
        onEvent(e);
      }
    })();
    // A process that dies before it is ready says why in its log.
    void proc.exited.then(async (code) => {
      if (!this.seen.some((e) => e.type === "ready")) {
        const why = (await Bun.file(logPath).text().catch(() => "")).trim().split("\n").slice(-15).join("\n");
        this.failed = new IconError("FAILED", `the hostile process in ${host} exited ${code} before it was ready:\n${why}`);
        ready();
      }
    });
  }

  /** Resolves once the process is ready; throws if it died first. */
  async started(): Promise<void> {
    await this.ready;
    if (this.failed) throw this.failed;
  }

  /** Closes its stdin and waits for it to finish (killing it after `graceMs`): every event it printed. */
  async stop(graceMs = 600_000): Promise<E[]> {
    this.proc.stdin.end();
    const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
    if (!exited) this.proc.kill("SIGKILL");
    await this.reading.catch(() => {});
    return this.seen;
  }
}
