import { describe, expect, test } from "bun:test";
import { MemoryEngine } from "../engine/memory-engine.ts";
import { iconUser, resolveUser } from "./user.ts";

const PASSWD = "root:x:0:0::/:/bin/false\nadmin:x:0:0::/:/bin/false\napp:x:1000:1000::/:/bin/false\nwheelie:x:1001:0::/:/bin/false\nnobody:x:65534:65534::/:/bin/false\n";
const GROUP = "root:x:0:\nstaff:x:50:\n";

describe("resolving an image's USER", () => {
  test("every spelling of root is uid 0", () => {
    for (const spec of ["root", "0", "00", "root:root", "root:0", "0:0", "admin"]) expect(resolveUser(spec, { passwd: PASSWD, group: GROUP }).uid).toBe(0);
  });

  test("names through passwd and group, a uid alone through passwd by uid, else gid 0 as Docker does", () => {
    expect(resolveUser("app", { passwd: PASSWD })).toEqual({ uid: 1000, gid: 1000 });
    expect(resolveUser("app:staff", { passwd: PASSWD, group: GROUP })).toEqual({ uid: 1000, gid: 50 });
    expect(resolveUser("1000", { passwd: PASSWD })).toEqual({ uid: 1000, gid: 1000 });
    expect(resolveUser("4242", { passwd: PASSWD })).toEqual({ uid: 4242, gid: 0 });
    expect(resolveUser("4242:4242")).toEqual({ uid: 4242, gid: 4242 });
    expect(() => resolveUser("ghost", { passwd: PASSWD })).toThrow('user "ghost" is not in the image\'s /etc/passwd');
    expect(() => resolveUser("app:ghosts", { passwd: PASSWD, group: GROUP })).toThrow('group "ghosts" is not in the image\'s /etc/group');
  });
});

describe("the user an ICON runs as", () => {
  const engine = new MemoryEngine();
  const image = async (user: string) => ({ ...(await engine.addImage(`u${user.replace(/\W/g, "_")}:1`, { user, files: { "/etc/passwd": PASSWD, "/etc/group": GROUP } })), ref: `u${user.replace(/\W/g, "_")}:1` });

  test("an image whose USER is root in any spelling runs as nobody; a root group becomes nogroup", async () => {
    for (const spec of ["", "root", "00", "root:root", "root:0", "admin"])
      expect(await iconUser(engine, await image(spec), undefined, true)).toEqual({ user: "65534:65534", remapped: spec !== "" });
    expect(await iconUser(engine, await image("wheelie"), undefined, false)).toEqual({ user: "1001:65534", remapped: true });
    expect(await iconUser(engine, await image("app"), undefined, false)).toEqual({ user: "1000:1000", remapped: false });
  });

  test("root asked for by the operator: allowed with user namespaces, refused on an engine without them", async () => {
    const img = await image("app");
    expect(await iconUser(engine, img, "0:0", true)).toEqual({ user: "0:0", remapped: false });
    await expect(iconUser(engine, img, "root", false)).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("is root on the host") });
    await expect(iconUser(engine, img, "admin", false)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(await iconUser(engine, img, "app", false)).toEqual({ user: "1000:1000", remapped: false });
  });
});
