import { describe, expect, test } from "bun:test";
import { containerName, containerSpec, LABELS, parseBytes } from "./container-spec.ts";
import { DEFAULT_USER } from "./user.ts";
import { createBody } from "../engine/docker-engine.ts";
import type { IconRecord } from "./types.ts";
import { publishedNetwork } from "../engine/icon-network.ts";
import { MemoryEngine } from "../engine/memory-engine.ts";

const NODE = "0123456789abcdef0123456789abcdef01234567";
const rec: IconRecord = {
  name: "hello", image: "hello-icon:1", role: "replica", parent: { nodeId: "ff".repeat(20), icon: "root1" }, port: 20001,
  env: { GREETING: "hi" }, user: DEFAULT_USER, createdAt: "", children: [], policy: {},
  limits: { memoryBytes: 128 * 2 ** 20, cpus: 0.5, pids: 64 }, lastState: "STOPPED",
};
const published = publishedNetwork(new MemoryEngine(), { networkContainer: "", hostIp: "0.0.0.0" });
const ctx = { nodeId: NODE, socketDir: "/data/icons/hello/sock", network: published.spec(rec.port, rec.name) };

describe("container spec", () => {
  test("hardening defaults reach the Docker create body", () => {
    const body = createBody(containerSpec(rec, ctx));
    const h = body.HostConfig!;
    expect(h.CapDrop).toEqual(["ALL"]);
    expect(h.CapAdd).toBeUndefined();
    expect(h.SecurityOpt).toEqual(["no-new-privileges"]);
    expect(h.ReadonlyRootfs).toBe(true);
    expect(Object.keys(h.Tmpfs!)).toEqual(["/tmp"]);
    expect(h.Sysctls).toEqual({ "net.ipv6.conf.all.disable_ipv6": "1" });
    expect(h.Memory).toBe(128 * 2 ** 20);
    expect(h.MemorySwap).toBe(h.Memory);
    expect(h.NanoCpus).toBe(5e8);
    expect(h.PidsLimit).toBe(64);
    expect(h.Privileged).toBe(false);
    expect(h.IpcMode).toBe("private");
    expect(h.Init).toBe(true);
    expect(body.User).toBe("65534:65534");
    // The only mount is the ICON's own socket directory; never the Docker socket.
    expect(h.Binds).toEqual(["/data/icons/hello/sock:/run/icon:rw"]);
  });

  test("labels, name, env and a pinned published port", () => {
    const s = containerSpec(rec, ctx);
    expect(s.name).toBe(containerName(NODE, "hello"));
    expect(s.name).toBe("icon-0123456789ab-hello");
    expect(s.labels).toEqual({ [LABELS.node]: NODE, [LABELS.name]: "hello", [LABELS.role]: "replica", [LABELS.parent]: `${"ff".repeat(20)}/root1`, [LABELS.port]: "20001" });
    expect(s.env).toMatchObject({ GREETING: "hi", ICON_PORT: "20001", ICON_NAME: "hello", ICON_SOCKET: "/run/icon/icon.sock" });
    const body = createBody(s);
    expect(body.HostConfig!.PortBindings).toEqual({ "20001/tcp": [{ HostIp: "", HostPort: "20001" }] });
    expect(body.HostConfig!.NetworkMode).toBe("bridge");
  });

  test("the testbed's Docker mode joins the IEP container's namespace and publishes nothing", () => {
    const network = publishedNetwork(new MemoryEngine(), { networkContainer: "icon-tb-IEP2", hostIp: "0.0.0.0" }).spec(rec.port, rec.name);
    const body = createBody(containerSpec(rec, { ...ctx, network }));
    expect(body.HostConfig!.NetworkMode).toBe("container:icon-tb-IEP2");
    expect(body.HostConfig!.PortBindings).toBeUndefined();
    expect(body.HostConfig!.Sysctls).toBeUndefined(); // another container's namespace: not ours to set
    expect(body.ExposedPorts).toBeUndefined();
  });

  test("on the node's own engine an ICON joins the node's network and publishes nothing through Docker", () => {
    const body = createBody(containerSpec(rec, { ...ctx, network: { mode: "network", network: "icon" } }));
    expect(body.HostConfig!.NetworkMode).toBe("icon");
    expect(body.HostConfig!.PortBindings).toBeUndefined();
    expect(body.HostConfig!.Sysctls).toEqual({ "net.ipv6.conf.all.disable_ipv6": "1" });
  });

  test("each of the image's VOLUMEs is a size-capped tmpfs, never an anonymous volume on the host's disk", () => {
    const h = createBody(containerSpec({ ...rec, volumes: ["/data", "/var/cache"] }, ctx)).HostConfig!;
    expect(h.Tmpfs).toEqual({ "/tmp": "rw,nosuid,nodev,size=64m", "/data": "rw,nosuid,nodev,size=64m", "/var/cache": "rw,nosuid,nodev,size=64m" });
    expect(h.Binds).toEqual(["/data/icons/hello/sock:/run/icon:rw"]);
  });

  test("an ICON's env cannot override the ICON_* variables", () => {
    const s = containerSpec({ ...rec, env: { ICON_PORT: "1" } }, ctx);
    expect(s.env.ICON_PORT).toBe("20001");
  });

  test("parseBytes reads Docker-style sizes", () => {
    expect(parseBytes("256m")).toBe(256 * 2 ** 20);
    expect(parseBytes("1g")).toBe(2 ** 30);
    expect(parseBytes("512k")).toBe(512 * 1024);
    expect(parseBytes("1000")).toBe(1000);
    expect(parseBytes("lots")).toBeUndefined();
    expect(parseBytes("0m")).toBeUndefined();
  });
});
