import { DEFAULT_CAP_MS, DEFAULT_MAX_TTL, MAX_TTL_LIMIT, type Hop } from "../../topology/trace/types.ts";
import { JSON_OPTION, defineCommand } from "../command.ts";
import { table } from "../output.ts";
import { numberFlag } from "../flags.ts";

export const command = defineCommand({
  name: "trace",
  usage: "icon trace IP [--max-ttl N] [--timeout MS] [--json]",
  description:
    "Sends one UDP probe per TTL at once (ports 33434+) and reads the ICMP (ICMPv6 for an IPv6 IP) answers\n" +
    "from each socket's error queue, timed by the kernel. Ends as soon as the destination and every hop\n" +
    "before it answered; a silent destination is given up after 1.5 × the farthest hop's RTT + 5 ms\n" +
    "(at most --timeout).\n" +
    "JSON: {destination, reached, elapsedMs, hops: [{ttl, address, rttMs, kind}]}, kind one of\n" +
    "router, destination, unreachable, silent.",
  options: {
    "max-ttl": { type: "string", arg: "N", doc: `Largest TTL probed, 1-${MAX_TTL_LIMIT} (default ${DEFAULT_MAX_TTL}).` },
    timeout: { type: "string", arg: "MS", doc: `Longest the trace may take in ms (default ${DEFAULT_CAP_MS}, the thesis's fixed wait).` },
    ...JSON_OPTION,
  },
  positionals: [1, 1],
  examples: ["icon trace 10.0.0.7", "icon trace 192.0.2.10 --max-ttl 12 --json", "icon trace 2001:db8::10"],
  async run({ values, positionals, out }) {
    const maxTtl = numberFlag(values, "max-ttl", DEFAULT_MAX_TTL, { int: true, min: 1, max: MAX_TTL_LIMIT });
    const capMs = numberFlag(values, "timeout", DEFAULT_CAP_MS, { int: true, min: 1, max: 60_000 });
    const { UdpTracer } = await import("../../topology/trace/udp-tracer.ts");
    const result = await new UdpTracer().trace(positionals[0]!, {
      maxTtl,
      capMs,
      onHop: (hop: Hop) => out.progress({ type: "hop", ...hop }),
    });
    const { destination, reached, elapsedMs, hops } = result;
    out.data({ destination, reached, elapsedMs, hops, ended: result.ended }, () => {
      const rows = hops.map((h) => [h.ttl, h.address ?? "*", h.rttMs === undefined ? "" : `${h.rttMs.toFixed(3)} ms`, h.kind === "router" ? "" : h.kind]);
      const last = hops.at(-1);
      const verdict = reached ? `reached ${destination}`
        : last?.kind === "unreachable" ? `${destination} is unreachable (${last.address} said so)`
        : `${destination} did not answer`;
      return `${table(["ttl", "address", "rtt", ""], rows)}\n${verdict} in ${elapsedMs.toFixed(1)} ms (${result.ended})`;
    });
  },
});
