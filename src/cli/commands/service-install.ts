import { defaultDataDir } from "../../api/client.ts";
import { installService } from "../../service/install.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { UNIT_OPTIONS, serviceHost, unitLocation } from "./service-common.ts";

export const command = defineCommand({
  name: "service install",
  usage: "icon service install [--data-dir DIR] [--config FILE] [--name NAME] [--unit-dir DIR] [--no-start] [--json]",
  description:
    "Writes /etc/systemd/system/icon.service (icon-NAME.service with --name): this binary's `node start`\n" +
    "with the absolute data dir and config, JSON logs, restart on failure, after the network and Docker,\n" +
    "and the hardening that leaves Docker working. The unit is checked with systemd-analyze verify\n" +
    "before it is written; then systemctl daemon-reload, enable and restart. Installing again replaces\n" +
    "the unit and restarts the node. Where systemd is not running, the unit is written, and the command\n" +
    "fails (exit 9) unless --no-start says that only the unit was wanted. Needs root, and the compiled\n" +
    "binary (not `bun src/cli/main.ts`). See docs/operations.md.",
  options: {
    ...DATA_DIR_OPTION,
    config: { type: "string", arg: "FILE", doc: "JSON config file the node reads (checked now, as the service will read it)." },
    ...UNIT_OPTIONS,
    "no-start": { type: "boolean", doc: "Only write the unit: no daemon-reload, enable or start." },
    ...JSON_OPTION,
  },
  examples: [
    "sudo icon service install --data-dir /var/lib/icon",
    "sudo icon service install --name edge2 --data-dir /var/lib/icon-edge2 --config /etc/icon/edge2.json",
  ],
  async run({ values, out }) {
    const r = await installService({
      ...unitLocation(values),
      dataDir: defaultDataDir(values["data-dir"]),
      configFile: values.config,
      start: values["no-start"] !== true,
    }, serviceHost());
    for (const w of r.warnings) out.warn(w);
    out.data(r, () =>
      `${r.replaced ? "replaced" : "wrote"} ${r.path} (${r.verified === "ok" ? "verified by systemd-analyze" : "not verified"})\n` +
      (r.started ? `enabled and started ${r.unit}; see it with: icon service status${values.name ? ` --name ${values.name}` : ""}`
        : `not started (--no-start); to start it: systemctl daemon-reload && systemctl enable --now ${r.unit}`));
  },
});
