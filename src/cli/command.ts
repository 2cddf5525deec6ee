/**
 * What a subcommand is. One file per subcommand under ./commands (Tailscale's layout); each exports
 * `command`, made by defineCommand so that `values` has the types its options declare. main.ts loads
 * only the module of the command being run; the one-line summary lives in registry.ts, which must not
 * import the commands.
 */
import type { Output } from "./output.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Placeholder shown in help, e.g. "DIR". */
  arg?: string;
  doc: string;
  /** The value when the flag is absent (then never undefined). */
  default?: string | boolean | string[];
}

export type Options = Record<string, OptionSpec>;

type Scalar<O extends OptionSpec> = O extends { type: "boolean" } ? boolean : O extends { type: "string" } ? string : string | boolean;
type ValueOf<O extends OptionSpec> = O extends { multiple: true } ? Scalar<O>[] : O extends { multiple: false } ? Scalar<O> : O extends { multiple: boolean } ? Scalar<O> | Scalar<O>[] : Scalar<O>;

/** What parseArgs gives for these options: a string, boolean or list each, undefined when absent without a default. */
export type OptionValues<O extends Options> = {
  -readonly [K in keyof O]: ValueOf<O[K]> | (O[K] extends { default: string | boolean | string[] } ? never : undefined);
};

export interface CommandContext<O extends Options = Options> {
  values: OptionValues<O>;
  positionals: string[];
  out: Output;
  /** Arguments after a literal `--`, for commands that run another command. */
  rest: string[];
}

export interface CommandSpec<O extends Options = Options> {
  /** e.g. "dht put" */
  name: string;
  /** The synopsis line(s) after "usage:". */
  usage: string;
  /** Longer explanation printed by --help. */
  description?: string;
  options?: O;
  /** Positional arguments accepted: [min, max]; max Infinity for any. */
  positionals?: [number, number];
  /** Examples printed by --help. */
  examples?: string[];
  // A method (not a property) so that a command's spec is a CommandSpec<Options> for main.ts.
  run(ctx: CommandContext<O>): Promise<number | void>;
}

/** A command whose `values` are typed by its own options. */
export function defineCommand<const O extends Options = {}>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/** Options shared by every command that talks to a running node. */
export const DATA_DIR_OPTION = {
  "data-dir": { type: "string", arg: "DIR", doc: "The node's data directory (default: $ICON_DATA_DIR or ~/.icon)." },
} as const satisfies Options;
export const JSON_OPTION = {
  json: { type: "boolean", doc: "Print machine-readable JSON on stdout." },
} as const satisfies Options;
