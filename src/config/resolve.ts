/**
 * Resolves a node's configuration once: defaults, then the config file, then ICON_* environment,
 * then flags, then one validation pass whose errors name the bad field and where it came from.
 */
import { IconError } from "../errors.ts";
import { SCHEMA, envName, type Config, type ConfigKey, type FieldSpec } from "./schema.ts";

export interface Resolved {
  config: Config;
  /** Config files that were read, so the node can say which ones it loaded. */
  files: string[];
  /** Where each value came from. */
  sources: Record<ConfigKey, "default" | "file" | "env" | "flag">;
}

export interface ResolveInput {
  /** Flag values already parsed, keyed by config key (not flag name). */
  flags?: Partial<Record<ConfigKey, unknown>>;
  env?: Record<string, string | undefined>;
  /** Explicit config file; when absent, `<dataDir>/config.json` is read if it exists. */
  configFile?: string;
}

const KEYS = Object.keys(SCHEMA) as ConfigKey[];

function coerce(key: ConfigKey, spec: FieldSpec, raw: unknown, origin: string): unknown {
  const bad = (what: string) =>
    new IconError("CONFIG", `${origin}: ${key} ${what} (got ${JSON.stringify(raw)})`, `Set ${key} to a valid value: ${spec.doc}`);
  switch (spec.type) {
    case "string":
      if (typeof raw !== "string") throw bad("must be a string");
      return raw;
    case "enum":
      if (typeof raw !== "string" || !spec.values!.includes(raw)) throw bad(`must be one of ${spec.values!.join(", ")}`);
      return raw;
    case "int":
    case "number": {
      const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
      if (typeof n !== "number" || !Number.isFinite(n)) throw bad("must be a number");
      if (spec.type === "int" && !Number.isInteger(n)) throw bad("must be an integer");
      if (spec.min !== undefined && n < spec.min) throw bad(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw bad(`must be at most ${spec.max}`);
      return n;
    }
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw bad("must be true or false");
    case "list":
      if (typeof raw === "string") return raw.split(",").map((s) => s.trim()).filter(Boolean);
      if (Array.isArray(raw) && raw.every((x) => typeof x === "string")) return raw;
      throw bad("must be a list of strings");
  }
}

async function readConfigFile(path: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  const file = Bun.file(path);
  if (!(await file.exists())) {
    if (required) throw new IconError("CONFIG", `config file ${path} does not exist`, "Pass an existing file to --config, or leave it out.");
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await file.text());
  } catch (e) {
    throw new IconError("CONFIG", `config file ${path} is not valid JSON: ${(e as Error).message}`, "Fix the JSON syntax in the file.");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new IconError("CONFIG", `config file ${path} must hold a JSON object`, 'Write it as {"dhtPort": 4100, ...}.');
  for (const k of Object.keys(parsed)) {
    if (!(k in SCHEMA))
      throw new IconError("CONFIG", `config file ${path}: unknown field "${k}"`, `Known fields: ${KEYS.join(", ")}.`);
  }
  return parsed as Record<string, unknown>;
}

export async function resolveConfig(input: ResolveInput = {}): Promise<Resolved> {
  const env = input.env ?? process.env;
  const config = {} as Record<ConfigKey, unknown>;
  const sources = {} as Resolved["sources"];
  for (const k of KEYS) {
    config[k] = SCHEMA[k].default;
    sources[k] = "default";
  }
  const set = (k: ConfigKey, raw: unknown, origin: string, source: Resolved["sources"][ConfigKey]) => {
    config[k] = coerce(k, SCHEMA[k] as FieldSpec, raw, origin);
    sources[k] = source;
  };

  // The data dir decides where the default config file lives, so settle it first.
  const envDataDir = env[envName("dataDir")];
  const dataDir = (input.flags?.dataDir as string | undefined) ?? envDataDir ?? (SCHEMA.dataDir.default as string);
  const files: string[] = [];
  const path = input.configFile ?? env.ICON_CONFIG ?? `${dataDir}/config.json`;
  const fileValues = await readConfigFile(path, input.configFile !== undefined || env.ICON_CONFIG !== undefined);
  if (fileValues) {
    files.push(path);
    for (const [k, v] of Object.entries(fileValues)) set(k as ConfigKey, v, `config file ${path}`, "file");
  }
  for (const k of KEYS) {
    const v = env[envName(k)];
    if (v !== undefined && v !== "") set(k, v, `environment ${envName(k)}`, "env");
  }
  for (const [k, v] of Object.entries(input.flags ?? {})) {
    if (v !== undefined) set(k as ConfigKey, v, `flag --${(SCHEMA[k as ConfigKey] as FieldSpec).flag ?? k}`, "flag");
  }
  for (const k of KEYS) {
    const spec = SCHEMA[k] as FieldSpec;
    const msg = spec.check?.(config[k] as never);
    if (msg)
      throw new IconError("CONFIG", `${k} (from ${sources[k]}) ${msg}`, `Set ${k} to a valid value: ${spec.doc}`);
  }
  return { config: config as Config, files, sources };
}
