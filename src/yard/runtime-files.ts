/**
 * The icon-runtime library's sources, embedded in the binary as text, so that `icon runtime build`
 * works from the single executable anywhere. Bun's `with { type: "text" }` import attribute does it;
 * TypeScript does not model text imports of .ts files, hence the expect-error comments. (src/ must never
 * import these files as modules too: see protocol.ts.)
 */
// @ts-expect-error -- text import (Bun import attribute), not a module import
import indexTs from "../../icon-runtime/src/index.ts" with { type: "text" };
// @ts-expect-error -- text import (Bun import attribute), not a module import
import connectionTs from "../../icon-runtime/src/connection.ts" with { type: "text" };
// @ts-expect-error -- text import (Bun import attribute), not a module import
import protocolTs from "../../icon-runtime/src/protocol.ts" with { type: "text" };

/** Files of the library package, relative to its folder, for /node_modules/icon-runtime in the image. */
export function runtimeLibraryFiles(version: string): Record<string, string> {
  const pkg = {
    name: "icon-runtime",
    version,
    description: "The ICON's side of the icon orchestrator (embedded in the icon-runtime image)",
    type: "module",
    exports: "./src/index.ts",
    types: "./src/index.ts",
  };
  return {
    "package.json": JSON.stringify(pkg, null, 2) + "\n",
    "src/index.ts": indexTs as string,
    "src/connection.ts": connectionTs as string,
    "src/protocol.ts": protocolTs as string,
  };
}
