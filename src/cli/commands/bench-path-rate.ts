import { IconError } from "../../errors.ts";
import { defineCommand } from "../command.ts";
import { numberFlag } from "../flags.ts";
import { parseHostPort } from "../../util/ipv6.ts";

/** ADDR:PORT (IPv6 as [ADDR]:PORT) as two values. */
function endpoint(v: string): [string, number] {
  const ep = parseHostPort(v);
  if (!ep) throw new IconError("USAGE", `${v} is not ADDR:PORT`);
  return [ep.address, ep.port];
}

export const command = defineCommand({
  name: "bench path-rate",
  usage: "icon bench path-rate --sink ADDR:PORT [--dial] | --send ADDR:PORT [--listen] [--bytes N]",
  options: {
    sink: { type: "string", arg: "ADDR:PORT", doc: "Receive one transfer there and print its rate." },
    send: { type: "string", arg: "ADDR:PORT", doc: "Send --bytes to the sink there." },
    dial: { type: "boolean", doc: "The sink dials the source at ADDR:PORT instead of listening there (a sink behind a NAT)." },
    listen: { type: "boolean", doc: "The source listens at ADDR:PORT for the sink instead of dialling it." },
    bytes: { type: "string", arg: "N", doc: "Bytes to send (default 4 MiB)." },
  },
  async run({ values }) {
    const { runRateSink, runRateSource } = await import("../../bench/migrate/path-rate.ts");
    if (values.sink) return void (await runRateSink(...endpoint(values.sink), !values.dial));
    if (!values.send) throw new IconError("USAGE", "give --sink ADDR:PORT or --send ADDR:PORT");
    await runRateSource(...endpoint(values.send), numberFlag(values, "bytes", 4 * 2 ** 20, { int: true, min: 1 }), values.listen === true);
  },
});
