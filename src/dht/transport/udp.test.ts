import { expect, test } from "bun:test";
import { generateIdentity } from "../../identity/identity.ts";
import { Dht } from "../dht.ts";
import { UdpTransport } from "./udp.ts";

test("datagrams travel between two sockets on loopback", async () => {
  const [a, b] = [await UdpTransport.open("127.0.0.1", 0), await UdpTransport.open("127.0.0.1", 0)];
  const got = new Promise<[number[], string, number]>((resolve) => b.onDatagram((d, addr, port) => resolve([[...d], addr, port])));
  a.send(new Uint8Array([7, 8, 9]), "127.0.0.1", b.port);
  expect(await got).toEqual([[7, 8, 9], "127.0.0.1", a.port]);
  a.close();
  b.close();
});

test("an ICMP error from a stopped peer is counted, not thrown or printed, and the node's status shows it", async () => {
  const a = await UdpTransport.open("127.0.0.1", 0);
  const node = new Dht({ identity: generateIdentity(), transport: a });
  const gone = await UdpTransport.open("127.0.0.1", 0);
  const port = gone.port;
  gone.close();
  a.send(new Uint8Array([1]), "127.0.0.1", port);
  for (let i = 0; i < 50 && a.receiveErrors === 0; i++) await Bun.sleep(10);
  expect(a.receiveErrors).toBeGreaterThan(0);
  expect(node.status().socketErrors).toEqual({ send: 0, receive: a.receiveErrors });
  a.close();
});
