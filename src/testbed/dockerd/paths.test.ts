import { describe, expect, test } from "bun:test";
import { dockerdPlan } from "./paths.ts";

describe("engine paths", () => {
  test("derive from testbed and host; the socket is absolute and short enough for containerd's sockets", () => {
    const e = dockerdPlan("icon", "IEP2", "/run/icon-testbed");
    expect(e).toMatchObject({
      dataRoot: "/var/lib/icon-testbed/icon/IEP2", socket: "/run/icon-testbed/icon-IEP2/d.sock",
      execRoot: "/run/icon-testbed/icon-IEP2/x", cgroupParent: "/icon-testbed/icon-IEP2",
    });
    for (const p of [e.socket, e.pidfile, e.log, e.config, e.execRoot]) expect(p.startsWith(`${e.runDir}/`)).toBe(true);
    const longest = dockerdPlan("a".repeat(20), "b".repeat(12), "/run/icon-testbed");
    expect(`${longest.execRoot}/containerd/containerd.sock.ttrpc`.length).toBeLessThanOrEqual(107);
  });

  test("a state directory too long for Unix sockets is refused with a fix", () => {
    expect(() => dockerdPlan("icon", "IEP1", `/tmp/${"d".repeat(60)}`)).toThrow(/too long/);
  });
});
