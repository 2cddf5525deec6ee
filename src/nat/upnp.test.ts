import { afterEach, expect, test } from "bun:test";
import { fakeIgd } from "../../test/support/fake-igd.ts";
import { UpnpGateway } from "./upnp.ts";

let igd: ReturnType<typeof fakeIgd> | undefined;
afterEach(() => igd?.stop());

test("the IGD's connection service over IPv4, from the node's LAN address: its external address, a mapping, permanent when leases are refused (725)", async () => {
  igd = fakeIgd({ hostname: "127.0.0.1", fail: { AddPortMapping: "725" } });
  const gw = await UpnpGateway.open(igd.location, "127.0.0.1");
  expect(await gw.externalAddress()).toBe("6.0.3.2");
  expect(await gw.map("udp", 4100, 4100, 3600)).toEqual({ externalPort: 4100, lifetimeSec: 0 });
  const adds = igd.calls.filter((c) => c.action === "AddPortMapping");
  expect(adds.map((c) => c.args.NewLeaseDuration)).toEqual(["3600", "0"]);
  expect(adds[1]).toMatchObject({ soapAction: '"urn:schemas-upnp-org:service:WANIPConnection:2#AddPortMapping"', client: "127.0.0.1" });
  expect(adds[1]!.args).toMatchObject({ NewRemoteHost: "", NewExternalPort: "4100", NewProtocol: "UDP", NewInternalPort: "4100", NewInternalClient: "127.0.0.1", NewEnabled: "1" });
  await gw.unmap("udp", 4100, 4100);
  expect(igd.calls.at(-1)).toMatchObject({ action: "DeletePortMapping", args: { NewExternalPort: "4100", NewProtocol: "UDP" } });
});
