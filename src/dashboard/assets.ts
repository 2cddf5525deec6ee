/**
 * The dashboard page's script and style (ui/), with the graph library inside: no CDN, works offline.
 * build.ts bundles them with Bun.build and embeds them in the binary as assets; running from source, they
 * are bundled here on first use (the pattern of lab/app-image.ts).
 */
import { join } from "node:path";
import { IconError } from "../errors.ts";

export const UI_ASSETS = { js: "dashboard.js", css: "dashboard.css" } as const;
export const UI_ENTRY = join(import.meta.dir, "ui/app.ts");

export interface UiBundle {
  js: string;
  css: string;
}

/** Bundles ui/app.ts (and the CSS it imports) for the browser. */
export async function bundleUi(): Promise<UiBundle> {
  if (!(await Bun.file(UI_ENTRY).exists()))
    throw new IconError("NOT_FOUND", `the dashboard's source ${UI_ENTRY} is missing and this binary has none embedded`, "Build the binary with build.ts, which embeds it.");
  const out = await Bun.build({ entrypoints: [UI_ENTRY], target: "browser", minify: true });
  const js = out.outputs.find((o) => o.path.endsWith(".js"));
  const css = out.outputs.find((o) => o.path.endsWith(".css"));
  if (!out.success || !js || !css) throw new IconError("FAILED", `bundling the dashboard failed: ${out.logs.map((l) => l.message).join("; ") || "no script or style came out"}`);
  return { js: await js.text(), css: await css.text() };
}

let cached: Promise<UiBundle> | undefined;

/** The embedded bundle, or one made from source once per process. */
export function uiBundle(): Promise<UiBundle> {
  return (cached ??= (async () => {
    const embedded = (name: string) => Bun.embeddedFiles.find((f) => (f as File).name.endsWith(name));
    const js = embedded(UI_ASSETS.js);
    const css = embedded(UI_ASSETS.css);
    if (js && css) return { js: await js.text(), css: await css.text() };
    return bundleUi();
  })().catch((e) => {
    cached = undefined;
    throw e;
  }));
}
