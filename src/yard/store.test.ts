import { afterEach, expect, test } from "bun:test";
import { lstatSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../log.ts";
import { chmodSocket } from "./runtime-server.ts";
import { IconStore } from "./store.ts";

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "icon-store-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("an ICON's socket directory is the node's: traversable (0711), not writable by others", async () => {
  const store = new IconStore(scratch(), silentLogger);
  await store.prepare("web");
  expect(statSync(store.socketDir("web")).mode & 0o7777).toBe(0o711);
  expect(statSync(store.dir("web")).mode & 0o7777).toBe(0o700);
});

test("a symlink planted where a directory of the ICON's belongs is refused, and what it points to keeps its mode", async () => {
  const root = scratch();
  const store = new IconStore(root, silentLogger);
  const victim = join(root, "victim");
  await mkdir(victim, { mode: 0o700 });
  await mkdir(store.dir("web"), { recursive: true, mode: 0o700 });
  symlinkSync(victim, store.socketDir("web"));
  await expect(store.prepare("web")).rejects.toMatchObject({ code: "CONFLICT" });
  expect(statSync(victim).mode & 0o7777).toBe(0o700);
});

test("the socket's chmod changes the socket, never the file a symlink in its place points to", () => {
  const root = scratch();
  const sock = join(root, "icon.sock");
  const listener = Bun.listen({ unix: sock, socket: { data() {} } });
  try {
    chmodSocket(sock, 0o666);
    expect(lstatSync(sock).mode & 0o777).toBe(0o666);
  } finally {
    listener.stop(true);
  }
  const target = join(root, "secret");
  writeFileSync(target, "x", { mode: 0o600 });
  const link = join(root, "link.sock");
  symlinkSync(target, link);
  expect(() => chmodSocket(link, 0o666)).toThrow(/not the socket the node made/);
  expect(statSync(target).mode & 0o777).toBe(0o600);
});
