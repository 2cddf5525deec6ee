import { describe, expect, test } from "bun:test";
import { REGISTRY } from "./registry.ts";
import { commandHelp, main } from "./main.ts";

// Tailscale's habit: walk every command and check that its help is complete.
describe("every command", () => {
  for (const entry of REGISTRY) {
    test(`${entry.name} has help with usage and documented flags`, async () => {
      const { command } = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.usage.startsWith(`icon ${entry.name}`)).toBe(true);
      const help = commandHelp(command, entry.summary);
      expect(help).toContain("usage: icon " + entry.name);
      expect(help).toContain(`\n\n${entry.summary}.`);
      for (const [flag, spec] of Object.entries(command.options ?? {})) {
        expect(help).toContain(`--${flag}`);
        expect(spec.doc.length).toBeGreaterThan(5);
      }
    });
  }
});

test("icon --help lists every visible command once, under a heading", async () => {
  const { topHelp } = await import("./main.ts");
  const help = topHelp();
  // Names padded to the widest: "topology" and "topology flush" are told apart.
  const width = Math.max(...REGISTRY.filter((x) => !x.hidden).map((x) => x.name.length));
  for (const e of REGISTRY.filter((x) => !x.hidden)) expect(help.split("\n").filter((l) => l.startsWith(`  ${e.name.padEnd(width)}  `)).length).toBe(1);
  for (const e of REGISTRY.filter((x) => x.hidden)) expect(help).not.toContain(`  ${e.name} `);
});

describe("main", () => {
  test("unknown commands and flags exit with the usage status", async () => {
    expect(await main(["no-such-command"])).toBe(2);
    expect(await main(["version", "--no-such-flag"])).toBe(2);
  });
  test("version --json prints the version object", async () => {
    const chunks: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
    try {
      expect(await main(["version", "--json"])).toBe(0);
    } finally {
      process.stdout.write = orig;
    }
    const parsed = JSON.parse(chunks.join(""));
    expect(typeof parsed.version).toBe("string");
    expect(parsed.version.length).toBeGreaterThan(0);
  });
});
