/**
 * What a subcommand is. One file per subcommand under ./commands (Tailscale's layout); each exports
 * `command`, a CommandSpec. main.ts loads only the module of the command being run.
 */
import type { Output } from "./output.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. "DIR". */
  arg?: string;
  doc: string;
  default?: string | boolean;
}

export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  out: Output;
  /** Arguments after a literal `--`, for commands that run another command. */
  rest: string[];
}

export interface CommandSpec {
  /** e.g. "dht put" */
  name: string;
  summary: string;
  /** The synopsis line(s) after "usage:". */
  usage: string;
  /** Longer explanation printed by --help. */
  description?: string;
  options?: Record<string, OptionSpec>;
  /** Positional arguments accepted: [min, max]; max Infinity for any. */
  positionals?: [number, number];
  /** Examples printed by --help. */
  examples?: string[];
  run(ctx: CommandContext): Promise<number | void>;
}

/** Options shared by every command that talks to a running node. */
export const DATA_DIR_OPTION: Record<string, OptionSpec> = {
  "data-dir": { type: "string", arg: "DIR", doc: "The node's data directory (default: $ICON_DATA_DIR or ~/.icon)." },
};
export const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: "boolean", doc: "Print machine-readable JSON on stdout." },
};
