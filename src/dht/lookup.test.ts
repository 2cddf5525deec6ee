import { describe, expect, test } from "bun:test";
import { FakeClock } from "../util/clock.ts";
import { MsgType, zeroToken, type Body } from "./codec.ts";
import { randomId } from "./id.ts";
import { Lookup, type LookupDeps } from "./lookup.ts";
import { RecordKind, type SignedRecord } from "./record.ts";
import type { RequestOptions, RpcResult, RpcTarget } from "./rpc.ts";

const RTT = 100;
/** The RPC timeout the fake network gives every query: far longer than its RTT, as a prior for a contact never measured is. */
const RTO = 1000;
const record = {} as SignedRecord;

/**
 * A lookup over a fake network: every query to a node in `silent` is never answered; the others answer RTT
 * ms after each datagram that gets through (`lostUntil`: datagrams sent before then are lost, as when this
 * node's own link is down); `holder` answers with the value, the rest with no contacts. Each query goes slow
 * after RTO and fails after 3 RTO, as an RPC does.
 */
function network(o: { nodes: number; holder: number; target?: number; silent?: number[]; lostUntil?: number; expectedRtt?: number; quantile?: number; resendable?: boolean }) {
  const clock = new FakeClock(0);
  const ids = Array.from({ length: o.nodes }, () => randomId());
  const datagrams: number[] = [];
  /** When each node was first asked. */
  const asked = new Map<number, number>();
  const deps: LookupDeps = {
    self: randomId(),
    clock,
    request(to: RpcTarget, _body: Body, opts: RequestOptions): Promise<RpcResult> {
      const i = ids.findIndex((id) => id === to.id);
      if (!asked.has(i)) asked.set(i, clock.now());
      return new Promise((resolve) => {
        let done = false;
        const end = (r: RpcResult) => {
          if (!done) (done = true), resolve(r);
        };
        const transmit = () => {
          const sentAt = clock.now();
          datagrams.push(sentAt);
          opts.onSend?.();
          if (sentAt < (o.lostUntil ?? 0) || o.silent?.includes(i)) return;
          const body: Body = i === o.holder ? { type: MsgType.VALUE, kind: RecordKind.VALUE, records: [record] } : { type: MsgType.NODES, contacts: [] };
          clock.setTimeout(() => end({ ok: true, rttMs: RTT, proven: true, packet: { flags: 0, rid: new Uint8Array(8), sender: ids[i]!, token: zeroToken(), body } }), RTT);
        };
        opts.onResend?.(() => (done || o.resendable === false ? false : (transmit(), true)));
        transmit();
        clock.setTimeout(() => !done && opts.onSlow?.(), RTO);
        clock.setTimeout(() => end({ ok: false, reason: "timeout" }), 3 * RTO);
      });
    },
    wantsProof: () => false,
    expectedRtt: () => o.expectedRtt,
    rttQuantile: () => o.quantile,
    onFailure: () => {},
    validRecords: (_k, _key, records) => records,
    mayQuery: () => true,
  };
  const lookup = (alpha = 3) => {
    const initial = ids.map((id, n) => ({ id, address: `10.0.0.${n + 1}`, port: 4100 }));
    return clock.run(new Lookup(deps, { target: ids[o.target ?? o.holder]!, initial, kind: RecordKind.VALUE, alpha }).done);
  };
  return { lookup, datagrams, asked };
}

describe("lookup", () => {
  test("a node cut off resumes within a probe interval and an RTT of the outage's end, not after its timeouts", async () => {
    const net = network({ nodes: 6, holder: 0, lostUntil: 300, quantile: RTT });
    const r = await net.lookup();
    expect(r.records?.length).toBe(1);
    // Quiet for the 75th percentile of RTTs, then one probe every 50 ms: the first after 300 ms is answered
    // (not necessarily the holder's); that answer sends again the queries lost meanwhile, the holder's among them.
    expect(r.ms).toBeLessThanOrEqual(300 + 50 + 2 * RTT);
    // Without probes the first answer would come after the first timeout (RTO) plus an RTT.
    expect(r.ms).toBeLessThan(RTO);
  });

  test("probes are bounded: a node cut off for good sends at most 16 of them beyond its queries", async () => {
    const net = network({ nodes: 20, holder: 0, lostUntil: Infinity, quantile: RTT });
    const r = await net.lookup();
    expect(r.records).toBeUndefined();
    // 20 queries (each slow after RTO, so all of them go out) plus at most 16 probes.
    expect(net.datagrams.length).toBeLessThanOrEqual(20 + 16);
    expect(net.datagrams.length).toBeGreaterThan(20);
  });

  test("when no query may be sent again (addresses that never answered), a probe asks the next node", async () => {
    const net = network({ nodes: 10, holder: 0, lostUntil: Infinity, quantile: RTT, resendable: false });
    await net.lookup();
    // Queries to 3 nodes at first, 3 more when cut off (2 alpha), then one new node per probe: all 10 well
    // before the first timeout would have freed a slot.
    const firstAsked = [...net.asked.values()].sort((a, b) => a - b);
    expect(firstAsked.length).toBe(10);
    expect(firstAsked[9]!).toBeLessThan(RTO / 2);
  });

  test("a value lookup asks the next node once a query to a node never measured outlasts the expected RTT", async () => {
    // alpha 1: the node nearest the key never answers; the next one holds the value.
    const net = network({ nodes: 2, holder: 1, target: 0, silent: [0], expectedRtt: 150 });
    const r = await net.lookup(1);
    expect(r.records?.length).toBe(1);
    expect(r.ms).toBe(150 + RTT);
  });

  test("without an expected RTT (the contact was measured) the query waits for its own timeout", async () => {
    const net = network({ nodes: 2, holder: 1, target: 0, silent: [0] });
    const r = await net.lookup(1);
    expect(r.ms).toBe(RTO + RTT);
  });
});
