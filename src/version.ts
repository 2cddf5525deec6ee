/** Injected by build.ts (`--define ICON_VERSION=...`); from package.json when run from source. */
declare const ICON_VERSION: string | undefined;

import pkg from "../package.json" with { type: "json" };

export const VERSION: string = typeof ICON_VERSION === "string" ? ICON_VERSION : `${pkg.version}-dev`;
