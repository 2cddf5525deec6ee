/**
 * The `icon` entry point: finds the subcommand, parses its flags, runs it, and turns errors into a
 * message with a fix and an exit status. Heavy modules load only inside the command that needs them.
 */
import { parseArgs } from "node:util";
import { EXIT_CODES, IconError, toIconError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { CommandSpec, OptionSpec } from "./command.ts";
import { createOutput } from "./output.ts";
import { GROUPS, REGISTRY, type Entry } from "./registry.ts";

function findEntry(argv: string[]): { entry: Entry; rest: string[] } | undefined {
  let best: { entry: Entry; rest: string[] } | undefined;
  for (const entry of REGISTRY) {
    const words = entry.name.split(" ");
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.entry.name.split(" ").length))
      best = { entry, rest: argv.slice(words.length) };
  }
  return best;
}

export function topHelp(): string {
  const visible = REGISTRY.filter((e) => !e.hidden);
  const width = Math.max(...visible.map((e) => e.name.length));
  const sections = GROUPS.map(([heading, words]) => {
    const lines = visible.filter((e) => words.includes(e.name.split(" ")[0]!)).map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`);
    return `${heading}:\n${lines.join("\n")}`;
  });
  return `icon ${VERSION}: run intelligent containers on an independent edge provider

usage: icon <command> [flags]

${sections.join("\n\n")}

Run "icon <command> --help" for a command's flags. Environment: ICON_* variables set node settings
(ICON_DATA_DIR, ICON_DHT_PORT, ...); NO_COLOR turns colours off.`;
}

function optionLine(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""}`;
  return `  ${flag.padEnd(30)} ${o.doc}${o.multiple ? " (repeatable)" : ""}`;
}

/** A command's --help; its one-line summary comes from the registry, which lists commands without loading them. */
export function commandHelp(spec: CommandSpec, summary: string): string {
  const help: OptionSpec = { type: "boolean", short: "h", doc: "Show this help." };
  const opts = Object.entries({ ...spec.options, help });
  let text = `usage: ${spec.usage}\n\n${summary}.`;
  if (spec.description) text += `\n\n${spec.description}`;
  text += `\n\nflags:\n${opts.map(([n, o]) => optionLine(n, o)).join("\n")}`;
  if (spec.examples?.length) text += `\n\nexamples:\n${spec.examples.map((e) => `  ${e}`).join("\n")}`;
  return text;
}

function subcommandsOf(prefix: string): Entry[] {
  return REGISTRY.filter((e) => !e.hidden && e.name.startsWith(prefix + " "));
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--version" || argv[0] === "-v") {
    process.stdout.write(VERSION + "\n");
    return 0;
  }
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    process.stdout.write(topHelp() + "\n");
    return 0;
  }
  const found = findEntry(argv);
  if (!found) {
    const subs = subcommandsOf(argv[0]!);
    if (subs.length) {
      const wanted = argv.length > 1 && !argv[1]!.startsWith("-") ? `unknown command "${argv.slice(0, 2).join(" ")}"` : undefined;
      const list = subs.map((e) => `  icon ${e.name.padEnd(16)} ${e.summary}`).join("\n");
      if (wanted) process.stderr.write(`error: ${wanted}\n`);
      process.stdout.write(`"icon ${argv[0]}" has subcommands:\n${list}\n`);
      return wanted ? EXIT_CODES.USAGE : 0;
    }
    process.stderr.write(`error: unknown command "${argv[0]}"\n  fix: run "icon --help" to see the commands.\n`);
    return EXIT_CODES.USAGE;
  }
  const { command } = await found.entry.load();
  const dashdash = found.rest.indexOf("--");
  const own = dashdash >= 0 ? found.rest.slice(0, dashdash) : found.rest;
  const rest = dashdash >= 0 ? found.rest.slice(dashdash + 1) : [];
  if (own.includes("--help") || own.includes("-h")) {
    process.stdout.write(commandHelp(command, found.entry.summary) + "\n");
    return 0;
  }
  const wantsJson = own.includes("--json");
  const out = createOutput(wantsJson);
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: own, options: (command.options ?? {}) as never, allowPositionals: true, strict: true });
    } catch (e) {
      throw new IconError("USAGE", (e as Error).message.replace(/\. To specify.*$/s, ""), `Run "icon ${command.name} --help".`);
    }
    const [min, max] = command.positionals ?? [0, 0];
    const n = parsed.positionals.length;
    if (n < min || n > max) {
      const what = n < min ? "missing arguments" : `unexpected argument "${parsed.positionals[max]}"`;
      throw new IconError("USAGE", `${what}; usage: ${command.usage}`, `Run "icon ${command.name} --help".`);
    }
    const code = await command.run({ values: parsed.values as never, positionals: parsed.positionals, out, rest });
    return code ?? 0;
  } catch (e) {
    const err = toIconError(e);
    if (wantsJson) process.stderr.write(JSON.stringify(err.toJSON()) + "\n");
    else {
      const red = out.color ? "\x1b[31merror:\x1b[0m" : "error:";
      process.stderr.write(`${red} ${err.message}\n${err.fix ? `  fix: ${err.fix}\n` : ""}`);
      if (err.code === "INTERNAL" && err.stack && process.env.ICON_DEBUG) process.stderr.write(err.stack + "\n");
    }
    return EXIT_CODES[err.code];
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // Long-running commands (node start) never return here until they are done.
  process.exit(code);
}
