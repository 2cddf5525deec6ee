/**
 * Which folder of src/ may import which. The product (what `icon node start` runs) never depends on the
 * rig that tests and measures it (testbed, lab, bench) nor on examples/, so it can be read, changed and
 * tested on its own. Every import specifier of every file is checked, type-only and dynamic ones too
 * (TypeScript's own pre-parser finds them, skipping comments and strings).
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, relative, resolve, sep } from "node:path";
import ts from "typescript";

const ROOT = resolve(import.meta.dir, "..");

/** The top-level modules every part may use. */
const BASE = ["errors", "log", "version"];
/** What the node runs. "icon-runtime" is the in-container library, whose protocol the yard speaks. */
const PRODUCT = ["util", "identity", "config", "api", "node", "dht", "topology", "engine", "yard", "peer", "nat", "images", "service", "release", "metrics", "dashboard"];
const RIG = ["testbed", "lab", "bench"];

/** Allowed targets per folder of src/ (top-level files by name; folders outside src/ by their own name). */
const RULES: Record<string, string[]> = {
  errors: [],
  log: [],
  version: ["package.json"],
  util: ["errors"],
  identity: ["errors", "util"],
  ...Object.fromEntries(PRODUCT.filter((p) => p !== "util" && p !== "identity").map((p) => [p, [...BASE, ...PRODUCT, "icon-runtime"]])),
  // The emulated Internet may run product code in it, but knows nothing of what is run on it.
  testbed: [...BASE, ...PRODUCT, "icon-runtime"],
  // The migration experiment: product nodes on a testbed.
  lab: [...BASE, ...PRODUCT, "icon-runtime", "testbed"],
  // Benchmarks may use everything but the CLI that shows them; the yard bench builds the hello ICON.
  bench: [...BASE, ...PRODUCT, "icon-runtime", "testbed", "lab", "examples"],
  cli: [...BASE, ...PRODUCT, "icon-runtime", ...RIG],
};

/** Tests may also use the shared test helpers, and check that the CLI renders what a route answers. */
const TEST_EXTRA = ["test", "cli"];

/** The folder of src/ a path is in, the top-level module's name, or the first segment outside src/. */
function partOf(path: string): string {
  const parts = relative(ROOT, path).split(sep);
  if (parts[0] !== "src") return parts[0]!;
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/(\.test)?\.ts$/, "");
}

/** The part an import specifier points at, or undefined for a package (hono, node:fs, bun:test...). */
function targetOf(file: string, spec: string): string | undefined {
  if (spec === "icon-runtime" || spec.startsWith("icon-runtime/")) return "icon-runtime";
  if (!spec.startsWith(".")) return undefined;
  return partOf(resolve(dirname(file), spec));
}

interface Violation {
  file: string;
  imports: string;
  why: string;
}

/** The imports of one file that break the rules. */
function violations(file: string, source: string): Violation[] {
  const from = partOf(file);
  const out: Violation[] = [];
  for (const { fileName: spec } of ts.preProcessFile(source, true, true).importedFiles) {
    const to = targetOf(file, spec);
    if (to === undefined || to === from) continue;
    const allowed = RULES[from];
    const why = !allowed
      ? `src/${from} has no import rule: add it to RULES`
      : allowed.includes(to) || (file.endsWith(".test.ts") && TEST_EXTRA.includes(to))
        ? undefined
        : `${from} may not import ${to}`;
    if (why) out.push({ file: relative(ROOT, file), imports: spec, why });
  }
  return out;
}

async function sources(): Promise<{ file: string; text: string }[]> {
  const out = [];
  for await (const f of new Glob("src/**/*.ts").scan(ROOT)) out.push({ file: resolve(ROOT, f), text: await Bun.file(resolve(ROOT, f)).text() });
  return out;
}

describe("import rules", () => {
  test("no file of src/ imports a part its folder may not use", async () => {
    const files = await sources();
    const found = files.flatMap((f) => violations(f.file, f.text));
    expect(found).toEqual([]);
    // Not a vacuous pass: the scan saw the tree and its imports.
    const ours = files.flatMap((f) => ts.preProcessFile(f.text, true, true).importedFiles.filter((i) => targetOf(f.file, i.fileName) !== undefined));
    expect(files.length).toBeGreaterThan(200);
    expect(ours.length).toBeGreaterThan(1000);
  });

  test("a forbidden import is found, type-only and dynamic ones too", () => {
    const dht = resolve(ROOT, "src/dht/x.ts");
    const src = [
      `import { up } from "../testbed/lifecycle.ts";`,
      `import type { Roles } from "../lab/lab.ts";`,
      `const b = () => import("../bench/dht.ts");`,
      `import { K } from "./constants.ts";`,
      `import { quantile } from "../util/stats.ts";`,
      `// import { x } from "../lab/lab.ts";`,
    ].join("\n");
    expect(violations(dht, src).map((v) => v.why)).toEqual(["dht may not import testbed", "dht may not import lab", "dht may not import bench"]);
    expect(violations(resolve(ROOT, "src/util/x.ts"), `import { log } from "../log.ts";`)[0]?.why).toBe("util may not import log");
    expect(violations(resolve(ROOT, "src/newpart/x.ts"), `import { x } from "../util/stats.ts";`)[0]?.why).toContain("no import rule");
    expect(violations(resolve(ROOT, "src/yard/x.test.ts"), `import { docker } from "../../test/support/run.ts";`)).toEqual([]);
    expect(violations(resolve(ROOT, "src/yard/x.ts"), `import { docker } from "../../test/support/run.ts";`)[0]?.why).toBe("yard may not import test");
  });
});
