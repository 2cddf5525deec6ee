/**
 * Shape checks for the runtime protocol's requests: whatever a container sends is untrusted input, so
 * each request is checked before the yard or the services see it. Errors are INVALID_INPUT with a fix
 * addressed to the ICON's author.
 */
import { POLICY_FIELDS, PROTOCOL_VERSION, type Policy, type Request } from "./protocol.ts";
import { isIPv4 } from "../util/ipv4.ts";
import { familyOf } from "../util/ipv6.ts";

/** Dotted IPv4 or IPv6 (not IPv4-mapped IPv6: the ICON strips "::ffff:", as the sample app does). */
const isIP = (s: unknown): s is string => typeof s === "string" && (isIPv4(s) || familyOf(s) === 6);
import { IconError } from "../errors.ts";

const bad = (message: string, fix?: string) => new IconError("INVALID_INPUT", message, fix);
const obj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const isPort = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;

export function checkPolicy(p: unknown): Policy {
  if (!obj(p)) throw bad("policy must be an object");
  const out: Policy = {};
  for (const [k, v] of Object.entries(p)) {
    if (!(POLICY_FIELDS as readonly string[]).includes(k)) throw bad(`unknown policy field "${k}"`, `Known fields: ${POLICY_FIELDS.join(", ")}.`);
    if (k === "prefetch") {
      if (typeof v !== "boolean") throw bad("policy.prefetch must be true or false");
      out.prefetch = v;
      continue;
    }
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw bad(`policy.${k} must be a number >= 0`);
    out[k as Exclude<keyof Policy, "prefetch">] = v;
  }
  return out;
}

/** Validates one parsed line; returns a typed request or throws (the id, when readable, is kept for the answer). */
export function checkRequest(msg: unknown): Request {
  if (!obj(msg)) throw bad("a request must be a JSON object");
  const { id, op } = msg;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) throw bad("a request needs a numeric id");
  switch (op) {
    case "hello":
      if (typeof msg.protocol !== "number") throw bad("hello needs the protocol version");
      if (msg.protocol !== PROTOCOL_VERSION)
        throw new IconError("UNSUPPORTED", `runtime protocol ${msg.protocol} is not supported (this node speaks ${PROTOCOL_VERSION})`,
          "Rebuild the ICON on the icon-runtime image of this node's version (icon runtime build).");
      return { id, op, protocol: msg.protocol, runtime: typeof msg.runtime === "string" ? msg.runtime.slice(0, 100) : undefined };
    case "ready":
      if (!isPort(msg.port))
        throw bad("ready needs the port the server listens on", "Call icon.ready(icon.port).");
      return { id, op, port: msg.port };
    case "findCloser":
      if (!isIP(msg.client)) throw bad("findCloser needs the client's IPv4 or IPv6 address");
      return { id, op, client: msg.client };
    case "replicate": {
      const t = msg.target;
      if (!obj(t) || typeof t.nodeId !== "string" || !/^[0-9a-f]{40}$/.test(t.nodeId))
        throw bad("replicate needs a target with a 40-hex-digit nodeId", "Pass a candidate returned by icon.findCloser().");
      if (t.address !== undefined && !isIP(t.address)) throw bad("target.address must be an IPv4 or IPv6 address");
      if (t.peerPort !== undefined && !isPort(t.peerPort)) throw bad("target.peerPort must be a port");
      const o = msg.options ?? {};
      if (!obj(o)) throw bad("replicate options must be an object");
      if (o.env !== undefined && (!obj(o.env) || Object.entries(o.env).some(([k, v]) => typeof v !== "string" || k.startsWith("ICON_"))))
        throw bad("options.env must map names to strings, and ICON_* names are reserved");
      return {
        id,
        op,
        target: { nodeId: t.nodeId, address: t.address as string | undefined, peerPort: t.peerPort as number | undefined },
        options: { state: o.state, env: o.env as Record<string, string> | undefined },
      };
    }
    case "sendToParent":
    case "sendToChildren":
      if (!("data" in msg)) throw bad(`${op} needs data`);
      return { id, op, data: msg.data };
    case "policy":
      return { id, op, policy: checkPolicy(msg.policy) };
    case "clients":
      if (typeof msg.count !== "number" || !Number.isInteger(msg.count) || msg.count < 0)
        throw bad("clients needs the number of clients served now", "Call icon.clients(n) with a whole number >= 0.");
      return { id, op, count: msg.count };
    default:
      throw bad(`unknown op ${JSON.stringify(op)}`, "Use the icon-runtime library of this node's version.");
  }
}
