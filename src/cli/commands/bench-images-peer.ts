import { IconError } from "../../errors.ts";
import { defineCommand } from "../command.ts";
import { numberFlag } from "../flags.ts";

export const command = defineCommand({
  name: "bench images-peer",
  usage: "icon bench images-peer --role source|target --socket SOCK --listen ADDR [--image REF | --source ID@ADDR:PORT --image-id ID --diff-ids A,B --iterations N]",
  options: {
    role: { type: "string", arg: "ROLE", doc: "source or target." },
    socket: { type: "string", arg: "SOCK", doc: "The Docker engine's socket." },
    listen: { type: "string", arg: "ADDR", doc: "Address of the peer network." },
    image: { type: "string", arg: "REF", doc: "source: the image to serve." },
    source: { type: "string", arg: "ID@ADDR:PORT", doc: "target: the source to fetch from." },
    "image-id": { type: "string", arg: "ID", doc: "target: the image's id." },
    "diff-ids": { type: "string", arg: "LIST", doc: "target: its layers, comma-separated." },
    iterations: { type: "string", arg: "N", doc: "target: fetches (default 3)." },
  },
  async run({ values }) {
    const { runSource, runTarget } = await import("../../bench/images/peer.ts");
    const need = (k: keyof typeof values) => {
      const v = values[k];
      if (typeof v !== "string") throw new IconError("USAGE", `--${String(k)} is required`);
      return v;
    };
    if (values.role === "source") return void (await runSource({ socket: need("socket"), listen: need("listen"), image: need("image") }));
    const m = /^([0-9a-f]{40})@([\d.]+):(\d+)$/.exec(need("source"));
    if (!m) throw new IconError("USAGE", "--source is NODEID@ADDR:PORT");
    await runTarget({
      socket: need("socket"), listen: need("listen"), source: { nodeId: m[1]!, address: m[2]!, port: Number(m[3]) },
      image: { id: need("image-id"), diffIds: need("diff-ids").split(",") }, iterations: numberFlag(values, "iterations", 3, { int: true, min: 1 }),
    });
  },
});
