import { expect, test } from "bun:test";
import { announceFrom, type AnnounceInputs } from "./announce-as.ts";

const ports = { dhtPort: 4100, peerPort: 4101 };
const unknown = { reach: "unknown", reason: "0 of the 2 networks needed have dialled back so far" } as const;
const base: AnnounceInputs = { v4: unknown, v6: unknown, behindNat: () => undefined, ports };

test("IPv4 reached: its address, and the IPv6 one besides: verified, else the node's own while IPv6 is unknown", () => {
  const v4 = { reach: "mapped", address: "6.0.3.2" } as const;
  expect(announceFrom({ ...base, v4, v6: { reach: "public", address: "2d00:1c0:3::2" }, own6: "2d00:1c0:3::9" })).toEqual({ address: "6.0.3.2", address6: "2d00:1c0:3::2", ...ports });
  expect(announceFrom({ ...base, v4, own6: "2d00:1c0:3::9" })).toEqual({ address: "6.0.3.2", address6: "2d00:1c0:3::9", ...ports });
  expect(announceFrom({ ...base, v4, v6: { reach: "unreachable", reason: "firewalled" }, own6: "2d00:1c0:3::9" })).toEqual({ address: "6.0.3.2", ...ports });
});

test("IPv4 unreachable (carrier-grade NAT) but IPv6 verified: the IPv6 address instead; unverified IPv6 is not enough", () => {
  const v4 = { reach: "unreachable", reason: "peers in 2 networks (/24) could not open the DHT (UDP) port at 100.64.1.2" } as const;
  expect(announceFrom({ ...base, v4, v6: { reach: "public", address: "2d00:1c0:4::2" } })).toEqual({ address: "2d00:1c0:4::2", ...ports });
  expect(announceFrom({ ...base, v4, own6: "2d00:1c0:4::2" })).toEqual({ held: `unreachable: ${v4.reason}` });
});

test("nothing verified: held behind a NAT, else announced as before", () => {
  expect(announceFrom({ ...base, behindNat: () => "peers see it at 6.0.3.2, not an address of its own" })).toEqual({ held: `peers see it at 6.0.3.2, not an address of its own; waiting until peers have dialled it back (${unknown.reason})` });
  expect(announceFrom({ ...base, own6: "2d00:1c0:3::9" })).toBeUndefined();
});
