import { expect, test } from "bun:test";
import { generateIdentity } from "../identity/identity.ts";
import { Dht } from "./dht.ts";
import { SimNetwork } from "./sim/network.ts";
import { uniformLinks } from "./transport/memory-hub.ts";

test("a client (behind a NAT, announced nowhere) uses the DHT but enters nobody's routing table until it is a server", async () => {
  const net = new SimNetwork({ links: uniformLinks(10), seed: 3 });
  await net.grow(12, 5);
  let client = true;
  const seed = net.nodes[0]!;
  const home = new Dht({ identity: generateIdentity(), transport: net.hub.endpoint(), clock: net.clock, bootstrap: [{ address: seed.opts.transport.address, port: seed.port }], client: () => client });
  net.nodes.push(home);
  await home.start();
  await net.run(home.join());
  const holding = () => net.nodes.filter((n) => n !== home && n.table.get(home.nodeId)).length;

  // It knows the others, looks up and stores; they answer it, and keep it out of their tables.
  expect(home.table.size).toBeGreaterThan(5);
  expect((await net.run(home.put("from home", "hi"))).ok).toBe(true);
  const got = await net.run(net.nodes[5]!.get("from home", { publisher: home.nodeId }));
  expect(got && new TextDecoder().decode(got.value)).toBe("hi");
  await net.clock.advance(10_000);
  expect(holding()).toBe(0);

  // Peers dialled it back (mapped): its next requests make it a contact like any other.
  client = false;
  await net.run(home.put("from home", "again"));
  await net.clock.advance(10_000);
  expect(holding()).toBeGreaterThan(3);
  await net.stopAll();
});
