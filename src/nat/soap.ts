/**
 * UPnP control over HTTP: a device's description (its services and their control URLs) and SOAP actions
 * on a service, for the IGD's connection service (upnp.ts) and its IPv6 firewall (upnp-firewall.ts).
 * node:http rather than fetch, for two reasons: a request can be sent from a chosen address (a router in
 * secure mode lets a host open ports only for the address it asks from, and a host may have several), and
 * fetch refuses the router's link-local IPv6 URL.
 */
import { request } from "node:http";
import { IconError } from "../errors.ts";

const HTTP_TIMEOUT_MS = 3000;

/** An answer the gateway refused, with its UPnP error code ("718") when it gave one. */
export type UpnpFault = IconError & { upnpCode?: string };

/** An HTTP request from `localAddress` (when given); the status and body. */
export function httpText(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port || 80, path: `${u.pathname}${u.search}`, method: o.method ?? "GET",
      headers: { ...o.headers, ...(o.body !== undefined ? { "content-length": String(Buffer.byteLength(o.body)) } : {}) },
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      timeout: HTTP_TIMEOUT_MS,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new IconError("TIMEOUT", `${url} did not answer within ${HTTP_TIMEOUT_MS / 1000} s`)));
    req.on("error", (e) => reject(e instanceof IconError ? e : new IconError("UNREACHABLE", `${url}: ${e.message}`)));
    req.end(o.body);
  });
}

/** The services a device description at `location` lists: service type to absolute control URL. */
export async function readServices(location: string, localAddress?: string): Promise<Map<string, string>> {
  const { status, text } = await httpText(location, { localAddress });
  if (status < 200 || status >= 300) throw new IconError("UNREACHABLE", `the gateway's description ${location} answered ${status}`);
  const found = new Map<string, string>();
  for (const m of text.matchAll(/<service>([\s\S]*?)<\/service>/g)) {
    const type = /<serviceType>\s*([^<\s]+)\s*</.exec(m[1]!)?.[1];
    const control = /<controlURL>\s*([^<\s]+)\s*</.exec(m[1]!)?.[1];
    if (type && control) found.set(type, new URL(control, location).toString());
  }
  return found;
}

/** A SOAP action on `service` at `control`; the answer's body, or a UpnpFault. */
export async function soapAction(control: string, service: string, action: string, args: Record<string, string | number>, localAddress?: string): Promise<string> {
  const inner = Object.entries(args).map(([k, v]) => `<${k}>${v}</${k}>`).join("");
  const body = `<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:${action} xmlns:u="${service}">${inner}</u:${action}></s:Body></s:Envelope>\r\n`;
  const res = await httpText(control, { method: "POST", headers: { "content-type": 'text/xml; charset="utf-8"', soapaction: `"${service}#${action}"` }, body, localAddress });
  if (res.status >= 200 && res.status < 300) return res.text;
  const code = /<errorCode>\s*(\d+)\s*</.exec(res.text)?.[1];
  const what = /<errorDescription>\s*([^<]*)</.exec(res.text)?.[1];
  const err = new IconError("FAILED", `the gateway refused ${action}: ${code ? `UPnP error ${code} ${what ?? ""}`.trim() : `HTTP ${res.status}`}`) as UpnpFault;
  err.upnpCode = code;
  throw err;
}

/** The text of element `name` in a SOAP answer. */
export function field(body: string, name: string): string | undefined {
  return new RegExp(`<${name}>\\s*([^<\\s]*)\\s*<`).exec(body)?.[1];
}
