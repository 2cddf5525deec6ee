import { afterEach, beforeEach, expect, test } from "bun:test";
import { chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareDataDir } from "./data-dir.ts";

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), "icon-datadir-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

test("a new data dir is made 0700, an open one is closed to 0700, a file in its place is refused", async () => {
  await prepareDataDir(join(dir, "new"));
  expect((await stat(join(dir, "new"))).mode & 0o777).toBe(0o700);
  await mkdir(join(dir, "open"), { mode: 0o777 });
  await prepareDataDir(join(dir, "open"));
  expect((await stat(join(dir, "open"))).mode & 0o777).toBe(0o700);
  await writeFile(join(dir, "file"), "");
  await expect(prepareDataDir(join(dir, "file"))).rejects.toMatchObject({ code: "CONFIG", message: expect.stringContaining("is not a directory") });
});

test.if(process.getuid?.() === 0)("a data dir of another user is refused, not taken over (root only: chown)", async () => {
  const theirs = join(dir, "theirs");
  await mkdir(theirs, { mode: 0o755 });
  await chown(theirs, 65534, 65534);
  await symlink(theirs, join(dir, "link"));
  await expect(prepareDataDir(join(dir, "link"))).rejects.toMatchObject({ code: "CONFIG", message: expect.stringContaining("belongs to uid 65534") });
  expect((await stat(theirs)).mode & 0o777).toBe(0o755);
});
