/**
 * Compiles the single `icon` executable: `bun build.ts [--target x64|arm64|all] [--outdir dist]`.
 * x64 is the default; arm64 cross-compiles with the Bun runtime for that platform taken from npm
 * (@oven/bun-linux-aarch64), since no other download source is assumed.
 *
 * `--release [--sign-key FILE]` also writes <outdir>/release/: the binaries as icon-linux-<arch>,
 * SHA256SUMS and its ed25519 signature SHA256SUMS.sig (key: --sign-key or $ICON_RELEASE_KEY, a PEM
 * file kept out of the repository). `icon verify-release` checks them.
 *
 * The binary never autoloads .env or bunfig.toml from the directory it is started in: an operator's
 * working directory must not change how the node behaves.
 */
import type { KeyObject } from "node:crypto";
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import pkg from "./package.json" with { type: "json" };
import { APP_ASSET, appBundle } from "./src/lab/app-image.ts";
import { UI_ASSETS, bundleUi } from "./src/dashboard/assets.ts";
import { RELEASE_PUBLIC_KEY, loadSigningKey, publicKeyText } from "./src/release/keys.ts";
import { signRelease } from "./src/release/sign.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    target: { type: "string", default: "x64" },
    outdir: { type: "string", default: "dist" },
    release: { type: "boolean", default: false },
    "sign-key": { type: "string" },
  },
});
const root = import.meta.dir;
const outdir = resolve(root, values.outdir!);
const git = Bun.spawnSync(["git", "-C", root, "rev-parse", "--short", "HEAD"], { stderr: "ignore" });
const commit = git.exitCode === 0 ? git.stdout.toString().trim() : "";
/**
 * A tree with changes not committed gets a digest of them in its version: images are tagged by version
 * (icon-runtime:<version>), and two checkouts of one commit with different edits must not share a tag.
 */
function dirtySuffix(): string {
  const diff = Bun.spawnSync(["git", "-C", root, "diff", "HEAD", "--", "src", "icon-runtime", "examples", "build.ts", "package.json"], { stderr: "ignore" });
  const untracked = Bun.spawnSync(["git", "-C", root, "ls-files", "--others", "--exclude-standard", "--", "src", "icon-runtime", "examples"], { stderr: "ignore" });
  const files = untracked.stdout.toString().split("\n").filter(Boolean);
  if (!diff.stdout.length && !files.length) return "";
  const h = new Bun.CryptoHasher("sha256").update(diff.stdout);
  for (const f of files) h.update(f).update(readFileSync(join(root, f)));
  return `.dirty-${h.digest("hex").slice(0, 8)}`;
}
const version = process.env.ICON_BUILD_VERSION ?? (commit ? `${pkg.version}+${commit}${dirtySuffix()}` : pkg.version);

/** Fetches the Bun runtime for another platform from npm once, into node_modules/.cache. */
async function runtimeFor(target: string): Promise<string | undefined> {
  if (target === "x64") return undefined; // the Bun running this script
  const name = "@oven/bun-linux-aarch64";
  const dir = join(root, "node_modules/.cache/bun-aarch64");
  const exe = join(dir, "package/bin/bun");
  if (await Bun.file(exe).exists()) return exe;
  await mkdir(dir, { recursive: true });
  const packed = Bun.spawnSync(["npm", "pack", `${name}@${Bun.version}`, "--silent"], { cwd: dir, stderr: "inherit" });
  if (packed.exitCode !== 0) throw new Error(`npm pack ${name}@${Bun.version} failed; is the npm registry reachable?`);
  const tgz = packed.stdout.toString().trim().split("\n").pop()!;
  const untar = Bun.spawnSync(["tar", "-xzf", tgz], { cwd: dir, stderr: "inherit" });
  if (untar.exitCode !== 0) throw new Error(`could not unpack ${tgz}`);
  return exe;
}

/**
 * The sample ICON's server (examples/migrate-app), bundled with Hono into one file that `icon demo` and
 * `icon bench migrate` put into its image: the binary embeds it as an asset. Bundled the same way as
 * when icon runs from source (src/lab/app-image.ts), once for every target.
 */
async function bundleSampleApp(): Promise<string> {
  const path = join(outdir, "assets", APP_ASSET);
  await Bun.write(path, await appBundle());
  return path;
}

/** The dashboard page's script (the graph library inside) and style, embedded the same way (src/dashboard/assets.ts). */
async function bundleDashboard(): Promise<string[]> {
  const ui = await bundleUi();
  const paths = [join(outdir, "assets", UI_ASSETS.js), join(outdir, "assets", UI_ASSETS.css)];
  await Bun.write(paths[0]!, ui.js);
  await Bun.write(paths[1]!, ui.css);
  return paths;
}

type Target = "x64" | "arm64";
const outfileOf = (target: Target) => join(outdir, target === "x64" ? "icon" : "icon-linux-arm64");

async function build(target: Target, assets: string[]) {
  const outfile = outfileOf(target);
  const args = [
    process.execPath, "build", "--compile", "--bytecode", "--format=esm", "--minify-syntax", "--minify-whitespace",
    `--target=bun-linux-${target}`,
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    `--define`, `ICON_VERSION=${JSON.stringify(version)}`,
    ...assets.map((a) => `--asset=${relative(root, a)}`),
    "--outfile", outfile, join(root, "src/cli/main.ts"),
  ];
  const exe = await runtimeFor(target);
  if (exe) args.splice(3, 0, `--compile-executable-path=${exe}`);
  const started = performance.now();
  const proc = Bun.spawnSync(args, { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (proc.exitCode !== 0) throw new Error(`bun build for ${target} failed (exit ${proc.exitCode})`);
  const size = Bun.file(outfile).size;
  console.error(`built ${outfile} (${target}, ${version}, ${(size / 1e6).toFixed(1)} MB, ${Math.round(performance.now() - started)} ms)`);
}

/** Copies the binaries into a fresh <outdir>/release and signs it. */
async function release(targets: readonly Target[], key: KeyObject) {
  const dir = join(outdir, "release");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const t of targets) await copyFile(outfileOf(t), join(dir, `icon-linux-${t}`));
  const files = await signRelease(dir, key);
  const pub = publicKeyText(key);
  console.error(`signed ${dir}: ${files.map((f) => f.name).join(", ")} with key ${pub}`);
  if (pub !== RELEASE_PUBLIC_KEY) console.error(`note: not the project's release key; verify with: icon verify-release ${dir} --public-key ${pub}`);
}

await mkdir(outdir, { recursive: true });
const targets = values.target === "all" ? (["x64", "arm64"] as const) : [values.target as Target];
for (const t of targets) if (t !== "x64" && t !== "arm64") throw new Error(`unknown --target ${t}; use x64, arm64 or all`);
// The key is read before building, so a missing key fails in a second rather than after the builds.
const keyPath = values["sign-key"] ?? process.env.ICON_RELEASE_KEY;
if (values.release && !keyPath) throw new Error("--release needs the signing key: --sign-key FILE or $ICON_RELEASE_KEY (a PEM ed25519 private key)");
const key = values.release ? loadSigningKey(keyPath!) : undefined;
const assets = [await bundleSampleApp(), ...(await bundleDashboard())];
for (const t of targets) {
  await rm(outfileOf(t), { force: true });
  await build(t, assets);
}
if (key) await release(targets, key);
