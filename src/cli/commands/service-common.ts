/** Flags every `icon service` command shares, and the host they act on. */
import { hostSystemd } from "../../service/systemd.ts";
import type { ServiceHost, UnitLocation } from "../../service/install.ts";
import { isCompiled } from "../../testbed/self.ts";
import { VERSION } from "../../version.ts";
import type { Options } from "../command.ts";

export const UNIT_OPTIONS = {
  name: { type: "string", arg: "NAME", doc: "One of several nodes on this machine: the unit is icon-NAME.service (default icon.service)." },
  "unit-dir": { type: "string", arg: "DIR", doc: "Directory of the unit file (default /etc/systemd/system; another one for tests and staging)." },
} as const satisfies Options;

export function unitLocation(values: { name?: string; "unit-dir"?: string }): UnitLocation {
  return { name: values.name, unitDir: values["unit-dir"] };
}

export function serviceHost(): ServiceHost {
  return { systemd: hostSystemd, uid: process.getuid?.() ?? -1, exec: isCompiled ? process.execPath : undefined, version: VERSION };
}
