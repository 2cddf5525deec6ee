import { answer, clientFor } from "../../api/client.ts";
import { DATA_DIR_OPTION, JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";

export const command = defineCommand({
  name: "ps",
  usage: "icon ps [--all] [--data-dir DIR] [--json]",
  description:
    'Without --all, only ICONs that are starting or running. --json prints\n[{"name", "image", "state", "address", "port", "role", "parent", "children", "createdAt",\n' +
    '"network": {"egress": "internet"|"none"|"unfiltered", "address"}, ...}]: what the node lets each ICON reach, and\nits address on the node\'s bridge while it runs.',
  options: { ...DATA_DIR_OPTION, all: { type: "boolean", short: "a", doc: "Also list stopped and failed ICONs." }, ...JSON_OPTION },
  async run({ values, out }) {
    const list = await answer(clientFor(values).v1.icons.$get({ query: values.all ? { all: "1" } : {} }));
    out.data(list, () =>
      list.length === 0
        ? values.all ? "no ICONs on this node" : 'no ICON is running (see "icon ps --all")'
        : table(
            ["NAME", "IMAGE", "STATE", "ENDPOINT", "ROLE", "PARENT", "CHILDREN", "CREATED"],
            list.map((v) => [v.name, v.image, v.state, `${v.address}:${v.port}`, v.role, v.parent ?? "-", v.children.length, v.createdAt.slice(0, 19).replace("T", " ")]),
          ),
    );
  },
});
