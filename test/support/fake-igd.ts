/**
 * A UPnP IGD's HTTP side on loopback for the tests of src/nat (a seam: the product talks to real routers):
 * it serves a device description and answers the WANIPv6FirewallControl actions, keeping pinholes in a map
 * as miniupnpd does (UniqueIDs from 1), and the few WANIPConnection ones the node uses; it records every
 * action with the client's address.
 */
const FC = "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1";

export interface FakeIgdOptions {
  /** "::1" (default) or "127.0.0.1". */
  hostname?: string;
  /** Offer the firewall service (default true). */
  firewall?: boolean;
  enabled?: boolean;
  inboundAllowed?: boolean;
  /** UPnP error code answered for an action, once. */
  fail?: Record<string, string>;
}

export interface SoapCall {
  action: string;
  soapAction: string;
  args: Record<string, string>;
  client: string;
}

export function fakeIgd(o: FakeIgdOptions = {}) {
  const calls: SoapCall[] = [];
  const pinholes = new Map<string, Record<string, string>>();
  let next = 1;
  const fault = (code: string, what: string) =>
    new Response(`<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>${code}</errorCode><errorDescription>${what}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`, { status: 500 });
  const ok = (action: string, inner = "") => new Response(`<?xml version="1.0"?>\r\n<s:Envelope><s:Body><u:${action}Response xmlns:u="${FC}">${inner}</u:${action}Response></s:Body></s:Envelope>`);
  const server = Bun.serve({
    hostname: o.hostname ?? "::1",
    port: 0,
    async fetch(req, srv) {
      const path = new URL(req.url).pathname;
      if (path === "/rootDesc.xml") {
        const services = [["urn:schemas-upnp-org:service:WANIPConnection:2", "/ctl/IPConn"], ...(o.firewall === false ? [] : [[FC, "/ctl/IP6FCtl"]])];
        return new Response(`<root><device><serviceList>${services.map(([t, c]) => `<service><serviceType>${t}</serviceType><controlURL>${c}</controlURL></service>`).join("")}</serviceList></device></root>`);
      }
      if (!["/ctl/IP6FCtl", "/ctl/IPConn"].includes(path) || req.method !== "POST") return new Response("not found", { status: 404 });
      const soapAction = req.headers.get("soapaction") ?? "";
      const body = await req.text();
      const action = /<u:(\w+) /.exec(body)?.[1] ?? "";
      const args = Object.fromEntries([...body.matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((m) => [m[1]!, m[2]!]));
      calls.push({ action, soapAction, args, client: srv.requestIP(req)?.address ?? "" });
      const code = o.fail?.[action];
      if (code) {
        delete o.fail![action];
        return fault(code, "Failing");
      }
      switch (action) {
        case "GetFirewallStatus":
          return ok(action, `<FirewallEnabled>${o.enabled === false ? 0 : 1}</FirewallEnabled><InboundPinholeAllowed>${o.inboundAllowed === false ? 0 : 1}</InboundPinholeAllowed>`);
        case "AddPinhole": {
          const id = String(next++);
          pinholes.set(id, args);
          return ok(action, `<UniqueID>${id}</UniqueID>`);
        }
        case "UpdatePinhole":
          return pinholes.has(args.UniqueID!) ? ok(action) : fault("704", "NoSuchEntry");
        case "DeletePinhole":
          return pinholes.delete(args.UniqueID!) ? ok(action) : fault("704", "NoSuchEntry");
        case "GetExternalIPAddress":
          return ok(action, "<NewExternalIPAddress>6.0.3.2</NewExternalIPAddress>");
        case "AddPortMapping":
        case "DeletePortMapping":
          return ok(action);
      }
      return fault("401", "Invalid Action");
    },
  });
  const host = server.hostname!.includes(":") ? `[${server.hostname}]` : server.hostname;
  return { location: `http://${host}:${server.port}/rootDesc.xml`, calls, pinholes, stop: () => server.stop(true) };
}
