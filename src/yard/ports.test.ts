import { expect, test } from "bun:test";
import { PortAllocator, parseRange, portFree } from "./ports.ts";

test("allocation skips pinned and busy ports; claims refuse taken ones with a fix", async () => {
  const pinned = new Set([20000]);
  const busy = new Set([20001]);
  const a = new PortAllocator(parseRange("20000-20003"), () => pinned, async (p) => !busy.has(p));
  expect(await a.allocate()).toBe(20002);
  pinned.add(20002).add(20003);
  await expect(a.allocate()).rejects.toThrow("no free port left in portRange 20000-20003");
  await expect(a.claim(20000)).rejects.toThrow("taken by another ICON");
  await expect(a.claim(20001)).rejects.toThrow("something on this host already listens");
  expect(await a.claim(8080)).toBe(8080);
  await expect(a.claim(70000)).rejects.toThrow("not a TCP port");
  expect(() => parseRange("9-1")).toThrow("FIRST-LAST");
});

test("portFree sees a real listener", async () => {
  const srv = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    expect(await portFree(srv.port, "127.0.0.1")).toBe(false);
  } finally {
    srv.stop(true);
  }
  expect(await portFree(srv.port, "127.0.0.1")).toBe(true);
});
