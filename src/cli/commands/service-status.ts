import { EXIT_CODES } from "../../errors.ts";
import { serviceStatus } from "../../service/status.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { UNIT_OPTIONS, serviceHost, unitLocation } from "./service-common.ts";

export const command = defineCommand({
  name: "service status",
  usage: "icon service status [--name NAME] [--unit-dir DIR] [--json]",
  description:
    "Reads the unit, asks systemctl (when systemd runs) and asks the node on the local API socket of the\n" +
    "unit's data dir. Exit status: 0 the node answers, 1 no unit is installed, 3 installed but the node\n" +
    "does not answer.\n" +
    "JSON: {unit, path, installed, dataDir, systemd: {running, enabled, active}, node: {answers, nodeId,\n" +
    "version, pid} or {answers: false, error}}.",
  options: { ...UNIT_OPTIONS, ...JSON_OPTION },
  async run({ values, out }) {
    const s = await serviceStatus(unitLocation(values), serviceHost());
    out.data(s, () => {
      const sd = s.systemd.running ? `${s.systemd.enabled ?? "?"}, ${s.systemd.active ?? "?"}` : "not running on this machine";
      const node = s.node.answers ? `answers: node ${s.node.nodeId}, version ${s.node.version}, pid ${s.node.pid}` : `does not answer: ${s.node.error}`;
      const rows = [["unit", `${s.path} (${s.installed ? "installed" : "not installed"})`], ["data dir", s.dataDir], ["systemd", sd], ["node", node]];
      return table(["", ""], rows).split("\n").slice(1).join("\n");
    });
    return s.node.answers ? 0 : s.installed ? EXIT_CODES.NOT_RUNNING : EXIT_CODES.NOT_FOUND;
  },
});
