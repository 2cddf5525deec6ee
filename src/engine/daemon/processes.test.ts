import { describe, expect, test } from "bun:test";
import { dockerdPaths } from "./plan.ts";
import { shimSocket } from "./processes.ts";

describe("engine processes", () => {
  const e = dockerdPaths({ runDir: "/run/icon-testbed/xpx-A", dataRoot: "/var/lib/icon-testbed/xpx/A", cgroupParent: "/icon-testbed/xpx-A", fix: "" });
  const id = "ff14029656abba2e2f850e594ae5d4db4238f7de031d457e91f74c3b29385c54";
  const shim = (address: string) => ["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", id, "-address", address];

  test("a shim's socket path is the one containerd made for it", () => {
    // The file containerd 1.6 created for this container of an engine started by hand with these paths.
    expect(shimSocket(shim("/run/icon-testbed/xpx-A/x/containerd/containerd.sock"), e))
      .toBe("/run/containerd/s/94f181b8150f1302f9cab3de863610338c7af20bd440c1be19cc2c71b074c6c6");
  });

  test("shims of other engines (the main one, another testbed's) are not ours", () => {
    expect(shimSocket(shim("/var/run/docker/containerd/containerd.sock"), e)).toBeUndefined();
    expect(shimSocket(shim("/run/icon-testbed/xpx-AB/x/containerd/containerd.sock"), e)).toBeUndefined();
    expect(shimSocket(["dockerd", "--exec-root", e.execRoot], e)).toBeUndefined();
  });
});
