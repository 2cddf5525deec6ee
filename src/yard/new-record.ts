/**
 * Turns a run request into the record of a new ICON: the checks an operator's flags (or a peer's
 * replica request) must pass, and the defaults from config. Everything here is about meaning; the local
 * API has already checked the types (routes.ts).
 */
import { cpus } from "node:os";
import { IconError } from "../errors.ts";
import { parseBytes } from "./container-spec.ts";
import type { ImageInfo } from "../engine/container-engine.ts";
import type { Policy } from "./protocol.ts";
import { checkPolicy } from "./request-check.ts";
import type { IconRecord, RunRequest } from "./types.ts";
import type { YardConfig } from "./yard.ts";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/**
 * A request the yard cannot run, from an operator's flags or a peer's replicate alike: errors name the
 * request's fields (the CLI's flags carry the same names), never a flag a peer could not have passed.
 */
const bad = (message: string, fix: string) => new IconError("INVALID_INPUT", message, fix);

export function imageMissing(ref: string): IconError {
  return new IconError("NOT_FOUND", `image ${ref} is not on this node (no registry is used: images are built or loaded locally)`,
    `Build it first (docker build -t ${ref} .); for the base image run "icon runtime build".`);
}

/** A name from the image ("reg/hello-icon:1" → "hello-icon", then "hello-icon-2"...). */
export function nameFromImage(image: string, taken: (name: string) => boolean): string {
  const base = (image.split("/").pop() ?? "icon").split(/[:@]/)[0]!.toLowerCase().replace(/[^a-z0-9_.-]/g, "-").slice(0, 30) || "icon";
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (!taken(name)) return name;
  }
}

/** The record, with limits checked against this host; the user is chosen (user.ts) and the port claimed by the caller. */
export function newRecord(req: RunRequest, name: string, port: number, image: ImageInfo, config: YardConfig, user: string): IconRecord {
  const env = req.env ?? {};
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k) || typeof v !== "string") throw bad(`env ${k}: not a valid environment variable`, "Name it with letters, digits and '_' (not starting with a digit), with a string value.");
    if (k.startsWith("ICON_")) throw bad(`env ${k}: ICON_* variables are set by the node`, "Rename the variable.");
  }
  const memory = parseBytes(req.memory ?? config.iconMemory);
  if (!memory || memory < 6 * 2 ** 20) // Docker's own minimum
    throw bad(`memory "${req.memory ?? config.iconMemory}" is not a size of at least 6m`, "Ask for a size such as 256m.");
  const cpuLimit = req.cpus ?? config.iconCpus;
  if (!(cpuLimit >= 0.01 && cpuLimit <= cpus().length))
    throw bad(`cpus ${cpuLimit} is outside 0.01-${cpus().length} (this host's CPUs)`, `Ask for at most ${cpus().length}.`);
  const pids = req.pids ?? config.iconPids;
  if (!(Number.isInteger(pids) && pids >= 16)) throw bad(`pids ${pids} is below 16`, "Ask for at least 16.");
  return {
    name, image: req.image, role: "root", port, env, user, volumes: image.volumes, limits: { memoryBytes: memory, cpus: cpuLimit, pids },
    createdAt: new Date().toISOString(), children: [], policy: policyFromLabels(image.labels ?? {}), lastState: "STOPPED",
  };
}

const POLICY_LABEL = "icon.policy.";

/**
 * An ICON's policy as its image states it (`LABEL icon.policy.minRttGainMs=20` in its Dockerfile): the
 * starting point, which the running ICON may change with icon.policy().
 */
export function policyFromLabels(labels: Record<string, string>): Policy {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (!k.startsWith(POLICY_LABEL)) continue;
    const field = k.slice(POLICY_LABEL.length);
    raw[field] = field === "prefetch" ? (v === "true" ? true : v === "false" ? false : v) : v.trim() === "" ? v : Number(v);
  }
  try {
    return checkPolicy(raw);
  } catch (e) {
    throw bad(`the image's ${POLICY_LABEL}* labels are wrong: ${(e as Error).message}`, `Fix the LABEL lines of its Dockerfile (${POLICY_LABEL}minRttGainMs=20, ${POLICY_LABEL}prefetch=false, ...).`);
  }
}
