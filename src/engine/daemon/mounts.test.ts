import { describe, expect, test } from "bun:test";
import { isUnder, mountPoints, mountsUnder } from "./mounts.ts";
import { dockerdPaths } from "./plan.ts";

const INFO = [
  "26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "43 26 254:0 /var/lib/icon-testbed/tb/IEP1 /var/lib/icon-testbed/tb/IEP1 rw,relatime shared:4 - ext4 /dev/vda rw",
  "51 43 0:52 / /var/lib/icon-testbed/tb/IEP1/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=/x",
  "60 26 0:4 net:[4026532177] /run/icon-testbed/tb-IEP1/x/netns/default rw shared:2 - nsfs nsfs rw",
  "61 26 0:4 net:[4026532178] /run/netns/tb-IEP1 rw shared:2 - nsfs nsfs rw",
  "62 26 0:53 / /var/lib/icon-testbed/tb/IEP10 rw - ext4 /dev/vda rw",
  "63 26 0:54 / /var/lib/icon-testbed/tb/IEP1/with\\040space rw - tmpfs tmpfs rw",
  "70 26 0:55 / /var/lib/docker/overlay2/def/merged rw - overlay overlay rw",
].join("\n");

describe("engine mounts", () => {
  test("mount points are field 5, with mountinfo's octal escapes undone", () => {
    expect(mountPoints(INFO)).toContain("/var/lib/icon-testbed/tb/IEP1/with space");
    expect(mountPoints(INFO)).toHaveLength(8);
  });

  test("only mounts at or under the engine's directories, deepest first; never a sibling with a longer name", () => {
    const e = dockerdPaths({ runDir: "/run/icon-testbed/tb-IEP1", dataRoot: "/var/lib/icon-testbed/tb/IEP1", cgroupParent: "/icon-testbed/tb-IEP1", fix: "" });
    expect(mountsUnder([e.runDir, e.dataRoot], INFO)).toEqual([
      "/var/lib/icon-testbed/tb/IEP1/overlay2/abc/merged",
      "/run/icon-testbed/tb-IEP1/x/netns/default",
      "/var/lib/icon-testbed/tb/IEP1/with space",
      "/var/lib/icon-testbed/tb/IEP1",
    ]);
  });

  test("isUnder compares whole path components", () => {
    expect(isUnder("/a/b", "/a/b")).toBe(true);
    expect(isUnder("/a/b/c", "/a/b")).toBe(true);
    expect(isUnder("/a/bc", "/a/b")).toBe(false);
    expect(isUnder("/a/b/c", "/a/b/")).toBe(true);
  });
});
