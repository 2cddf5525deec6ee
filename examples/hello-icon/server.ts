// hello-icon: the smallest useful ICON. Everything ICON-specific is the icon-runtime calls below;
// the rest is an ordinary Bun HTTP server.
import { icon } from "icon-runtime";

// A replica starts from what its parent handed over; a root ICON from its environment.
let greeting = process.env.GREETING ?? "hello";

const server = Bun.serve({
  port: icon.port, // pinned by the orchestrator (ICON_PORT)
  async fetch(req, srv) {
    const url = new URL(req.url);
    const client = url.searchParams.get("client") ?? (srv.requestIP(req)?.address ?? "").replace(/^::ffff:/, "");
    try {
      if (url.pathname === "/closer") return Response.json(await icon.findCloser(client));
      if (url.pathname === "/replicate") {
        const [closest] = await icon.findCloser(client);
        if (!closest) return Response.json({ closer: null });
        const replica = await icon.replicate(closest, { state: { greeting } });
        return Response.json({ replica: replica.id, endpoint: await replica.running });
      }
      if (url.pathname === "/tell-children") return Response.json({ reached: await icon.sendToChildren({ greeting }) });
    } catch (e) {
      return Response.json({ error: (e as Error).message }, { status: 503 });
    }
    return new Response(`${greeting} from ${icon.name}\n`);
  },
});

icon.onMessage((m) => {
  console.log(`message from ${m.from}: ${JSON.stringify(m.data)}`);
  if (m.from === "parent") greeting = (m.data as { greeting: string }).greeting;
});
icon.onTerminate((reason) => {
  console.log(`stopping (${reason})`);
  server.stop();
});

greeting = (await icon.initialState<{ greeting: string }>())?.greeting ?? greeting;
await icon.ready(); // RUNNING: the orchestrator may now send clients here
console.log(`${icon.name} ready on port ${icon.port}`);
