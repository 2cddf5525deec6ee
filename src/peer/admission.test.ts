import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installErrorHandler } from "../api/http.ts";
import { Admission, ADMISSION_FILE } from "./admission.ts";
import { admissionRoutes } from "./admission-routes.ts";

const SELF = "0a".repeat(32);
const ALICE = "ab".repeat(32);
let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), "icon-admission-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("admission", () => {
  test("open admits every owner; allowlist only listed ones and the node itself, counting refusals", async () => {
    const open = await Admission.open(dir, "open", SELF);
    expect(open.admits(ALICE)).toBe(true);
    const a = await Admission.open(dir, "allowlist", SELF);
    expect(a.admits(SELF)).toBe(true);
    expect(() => a.check(ALICE)).toThrow(expect.objectContaining({ code: "NOT_ADMITTED" }));
    await a.allow(ALICE.toUpperCase(), "alice");
    expect(a.admits(ALICE)).toBe(true);
    expect(() => a.check(ALICE)).not.toThrow();
    expect(a.view()).toMatchObject({ mode: "allowlist", modeFrom: "setting", owners: [{ key: ALICE, note: "alice" }], self: SELF, refused: 1 });
  });

  test("the list and the mode survive in admission.json (0600); the file's mode wins over the setting", async () => {
    const a = await Admission.open(dir, "open");
    await a.allow(ALICE);
    await a.setMode("allowlist");
    expect((await stat(join(dir, ADMISSION_FILE))).mode & 0o777).toBe(0o600);
    const again = await Admission.open(dir, "open");
    expect(again.view()).toMatchObject({ mode: "allowlist", modeFrom: "file", owners: [{ key: ALICE }] });
    await again.deny(ALICE);
    expect((await Admission.open(dir, "open")).view().owners).toEqual([]);
  });

  test("bad keys, modes, unknown owners and a broken file are refused with a fix", async () => {
    const a = await Admission.open(dir, "open");
    await expect(a.allow("xyz")).rejects.toMatchObject({ code: "USAGE" });
    await expect(a.setMode("closed")).rejects.toMatchObject({ code: "USAGE" });
    await expect(a.deny(ALICE)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await writeFile(join(dir, ADMISSION_FILE), '{"owners": [{"key": "nope"}]}');
    await expect(Admission.open(dir, "open")).rejects.toMatchObject({ code: "CONFIG", message: expect.stringContaining("is not 64 hex digits") });
  });

  test("the local API routes list, allow, deny and set the mode", async () => {
    const a = await Admission.open(dir, "open", SELF);
    const app = admissionRoutes(() => a);
    installErrorHandler(app);
    const call = async (method: string, path: string, body?: object) => {
      const res = await app.request(path, { method, body: body && JSON.stringify(body) });
      return [res.status, await res.json()] as const;
    };
    expect(await call("POST", "/owners", { key: ALICE, note: "alice" })).toMatchObject([200, { owners: [{ key: ALICE, note: "alice" }] }]);
    expect(await call("PUT", "/mode", { mode: "allowlist" })).toMatchObject([200, { mode: "allowlist", modeFrom: "file" }]);
    expect(await call("DELETE", `/owners/${ALICE}`)).toMatchObject([200, { owners: [] }]);
    expect(await call("GET", "/")).toMatchObject([200, { mode: "allowlist", self: SELF }]);
    expect(await call("PUT", "/mode", {})).toMatchObject([400, { code: "INVALID_INPUT" }]);
    expect(await call("POST", "/owners", { key: "short" })).toMatchObject([400, { code: "USAGE" }]);
  });
});
