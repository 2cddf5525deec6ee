/**
 * A peer node as a process of its own, for hostile tests that need nodes on two testbed hosts: a
 * PeerNetwork on the host's address whose "replicate" handler only records what it was asked. Driven by
 * JSON lines on stdin ({dial}, {request}, {seen}, {connected}); answers one JSON line each on stdout.
 *
 *   bun peer-node.ts '{"listen":"10.0.0.2","port":4101}'
 */
import { generateIdentity } from "../../../src/identity/identity.ts";
import { silentLogger } from "../../../src/log.ts";
import { PeerNetwork, type PeerEndpoint } from "../../../src/peer/network.ts";

const { listen, port } = JSON.parse(process.argv[2]!) as { listen: string; port: number };
const network = new PeerNetwork({ identity: generateIdentity(), log: silentLogger, listen, port, advertisedAddress: () => listen });
const seen: unknown[] = [];
network.handle("replicate", async (body) => {
  seen.push(body);
  return { accepted: true };
});
await network.start();
const say = (v: unknown) => process.stdout.write(JSON.stringify(v) + "\n");
say({ ok: true, body: { nodeId: network.nodeId, port: network.port } });

type Command = { dial?: PeerEndpoint; request?: { to: PeerEndpoint; op: string; body: unknown }; seen?: true; connected?: string };
for await (const line of console) {
  const cmd = JSON.parse(line) as Command;
  try {
    if (cmd.dial) say({ ok: true, body: (await network.connect(cmd.dial)).nodeId });
    else if (cmd.request) say({ ok: true, body: await (await network.connect(cmd.request.to)).request(cmd.request.op, cmd.request.body, { timeoutMs: 3000 }) });
    else if (cmd.seen) say({ ok: true, body: seen });
    else if (cmd.connected) say({ ok: true, body: network.connection(cmd.connected) !== undefined });
  } catch (e) {
    say({ ok: false, error: (e as Error).message, code: (e as { code?: string }).code });
  }
}
