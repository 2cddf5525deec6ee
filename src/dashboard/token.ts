/**
 * The dashboard's access token. On loopback (127.0.0.0/8) and on its Unix socket the read-only pages need
 * none: only this machine (or, for the socket, the node's user) reaches them. On any other address every
 * HTTP and websocket request must carry the token: as `Authorization: Bearer`, or as the cookie a first
 * visit with `?token=` sets. A new token is made at each start, printed once, and kept 0600 in the data
 * dir so that `icon dashboard` can print the URL with it.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { IconError } from "../errors.ts";

export const TOKEN_FILE = "dashboard.token";
export const TOKEN_COOKIE = "icon_dashboard";

export function isLoopback(host: string): boolean {
  return host.startsWith("127.");
}

/** A fresh token, written 0600 to the data dir (replacing the last run's). */
export async function newToken(dataDir: string): Promise<string> {
  const token = randomBytes(24).toString("base64url");
  const path = join(dataDir, TOKEN_FILE);
  await rm(path, { force: true });
  await writeFile(path, token + "\n", { mode: 0o600 });
  await chmod(path, 0o600);
  return token;
}

/** The running dashboard's token, if it has one. */
export async function readToken(dataDir: string): Promise<string | undefined> {
  return (await readFile(join(dataDir, TOKEN_FILE), "utf8").catch(() => "")).trim() || undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Refuses any request without the token; a first visit with ?token= gets the cookie and a clean URL. */
export function requireToken(token: string): MiddlewareHandler {
  return async (c, next) => {
    const bearer = c.req.header("authorization")?.replace(/^Bearer\s+/i, "");
    if ((bearer && same(bearer, token)) || same(getCookie(c, TOKEN_COOKIE) ?? "", token)) return next();
    const asked = c.req.query("token");
    if (asked && same(asked, token)) {
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/" });
      const url = new URL(c.req.url);
      url.searchParams.delete("token");
      return c.redirect(url.pathname + url.search, 303);
    }
    throw new IconError("UNAUTHORIZED", "the dashboard needs its token on this address",
      "Open the URL the node printed at start, or run \"icon dashboard\" on the node's machine for it (it has ?token=...).");
  };
}
