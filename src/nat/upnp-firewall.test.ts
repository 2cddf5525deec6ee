import { afterEach, expect, test } from "bun:test";
import { fakeIgd } from "../../test/support/fake-igd.ts";
import { UpnpFirewall } from "./upnp-firewall.ts";

let igd: ReturnType<typeof fakeIgd> | undefined;
afterEach(() => igd?.stop());

test("the firewall's status, and AddPinhole with any remote, the node's address, the IANA protocol and the lease", async () => {
  igd = fakeIgd({ inboundAllowed: false });
  const fw = await UpnpFirewall.at(igd.location, "::1");
  expect(await fw.status()).toEqual({ enabled: true, inboundAllowed: false });
  expect(await fw.open("udp", 4100, 3600)).toEqual({ id: "1", lifetimeSec: 3600 });
  const add = igd.calls.find((c) => c.action === "AddPinhole")!;
  expect(add.soapAction).toBe('"urn:schemas-upnp-org:service:WANIPv6FirewallControl:1#AddPinhole"');
  expect(add.args).toEqual({ RemoteHost: "", RemotePort: "0", InternalClient: "::1", InternalPort: "4100", Protocol: "17", LeaseTime: "3600" });
  expect(add.client).toBe("::1"); // sent from the node's address, as secure mode wants
  await fw.open("tcp", 4101, 3600);
  expect(igd.pinholes.get("2")?.Protocol).toBe("6");
});

test("a renewal updates the pinhole by its UniqueID; one the router lost is added anew; DeletePinhole closes it", async () => {
  igd = fakeIgd();
  const fw = await UpnpFirewall.at(igd.location, "::1");
  const { id } = await fw.open("tcp", 4101, 3600);
  expect(await fw.open("tcp", 4101, 1800, id)).toEqual({ id, lifetimeSec: 1800 });
  expect(igd.calls.at(-1)).toMatchObject({ action: "UpdatePinhole", args: { UniqueID: id, NewLeaseTime: "1800" } });
  igd.pinholes.clear(); // the router restarted
  expect(await fw.open("tcp", 4101, 3600, id)).toEqual({ id: "2", lifetimeSec: 3600 });
  await fw.remove("tcp", 4101, "2");
  expect(igd.calls.at(-1)).toMatchObject({ action: "DeletePinhole", args: { UniqueID: "2" } });
  expect(igd.pinholes.size).toBe(0);
});

test("a refusal names its UPnP error; a gateway without the firewall service is refused at once", async () => {
  igd = fakeIgd({ fail: { AddPinhole: "606", UpdatePinhole: "606" } });
  const fw = await UpnpFirewall.at(igd.location, "::1");
  await expect(fw.open("tcp", 4101, 3600)).rejects.toThrow("the gateway refused AddPinhole: UPnP error 606 Failing");
  // Only a lost pinhole (704) is added anew: another refusal of the renewal stands.
  await expect(fw.open("tcp", 4101, 3600, "9")).rejects.toThrow("UpdatePinhole: UPnP error 606");
  igd.stop();
  igd = fakeIgd({ firewall: false });
  await expect(UpnpFirewall.at(igd.location, "::1")).rejects.toThrow("offers no WANIPv6FirewallControl service");
});
