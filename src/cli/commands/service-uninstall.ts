import { uninstallService } from "../../service/install.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { UNIT_OPTIONS, serviceHost, unitLocation } from "./service-common.ts";

export const command = defineCommand({
  name: "service uninstall",
  usage: "icon service uninstall [--name NAME] [--unit-dir DIR] [--json]",
  description:
    "systemctl disable --now, then the unit file is removed and systemd reloaded. Where systemd is not\n" +
    "running, only the file is removed. The data dir (identity, state) is kept.",
  options: { ...UNIT_OPTIONS, ...JSON_OPTION },
  examples: ["sudo icon service uninstall", "sudo icon service uninstall --name edge2"],
  async run({ values, out }) {
    const r = await uninstallService(unitLocation(values), serviceHost());
    out.data(r, () =>
      `${r.stopped ? `stopped and disabled ${r.unit}, removed` : "removed"} ${r.path}` +
      (r.dataDir ? `\nkept the data dir ${r.dataDir} (the node's identity and state)` : ""));
  },
});
