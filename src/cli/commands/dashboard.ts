import { answer, clientFor, defaultDataDir } from "../../api/client.ts";
import { readToken } from "../../dashboard/token.ts";
import { IconError } from "../../errors.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";

export const command = defineCommand({
  name: "dashboard",
  usage: "icon dashboard [--data-dir DIR] [--json]",
  description:
    "Prints the URL of the running node's web dashboard (node, network map, ICONs, migrations; /metrics for\n" +
    "Prometheus), with its token when it listens outside loopback. It opens nothing by itself. The node\n" +
    "serves it when started with --dashboard IP:PORT (or dashboardListen in its config).",
  options: { ...DATA_DIR_OPTION, ...JSON_OPTION },
  examples: ["icon node start --dashboard 127.0.0.1:4180 &", "icon dashboard"],
  async run({ values, out }) {
    const status = await answer(clientFor(values).v1.status.$get());
    const d = status.dashboard;
    if (!("url" in d))
      throw new IconError("NOT_FOUND", "this node serves no dashboard (dashboardListen is empty)",
        "Start the node with --dashboard 127.0.0.1:4180, or set dashboardListen in its config file or ICON_DASHBOARD_LISTEN.");
    // A node listening on every address is reached at the address it advertises.
    const url = new URL(d.url);
    if (url.hostname === "0.0.0.0") url.hostname = status.address;
    if (d.token) {
      const token = await readToken(defaultDataDir(values["data-dir"]));
      if (!token) throw new IconError("PERMISSION", "the dashboard needs a token and its file cannot be read", "Run this as the node's user (the token file is 0600 in the data dir).");
      url.searchParams.set("token", token);
    }
    out.data({ url: url.href, token: d.token }, () => url.href);
  },
});
