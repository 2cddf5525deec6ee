import { expect, test } from "bun:test";
import { ownDaemonArgv } from "./own-engine.ts";
import { engineKey, ownEnginePlan } from "./plan.ts";

test("a node's engine is named by its data dir: same dir, same engine; another dir, another engine", () => {
  const a = ownEnginePlan("/srv/icon/a");
  expect(ownEnginePlan("/srv/icon/./a/")).toEqual(a);
  const b = ownEnginePlan("/srv/icon/b");
  for (const k of ["key", "runDir", "dataRoot", "socket", "cgroupParent", "bridge", "chains"] as const) expect(b[k]).not.toBe(a[k]);
  expect(a.key).toBe(engineKey("/srv/icon/a"));
  expect(a.bridge.length).toBeLessThanOrEqual(15); // IFNAMSIZ
  expect(a.log).toBe("/srv/icon/a/engine.log");
  expect(a.dataRoot.startsWith("/var/lib/icon/engines/")).toBe(true);
});

test("its dockerd: own paths, user namespaces, the node's bridge, no iptables of its own, and never --bridge=none", () => {
  const p = ownEnginePlan("/srv/icon/a");
  const argv = ownDaemonArgv(p);
  expect(argv).toContain("--userns-remap=default");
  expect(argv).toContain(`--bridge=${p.bridge}`);
  expect(argv).toContain("--iptables=false");
  expect(argv).toContain("--ip-masq=false");
  // --bridge=none makes dockerd delete the interface docker0: the operator's.
  expect(argv).not.toContain("--bridge=none");
  expect(argv[argv.indexOf("--data-root") + 1]).toBe(p.dataRoot);
  expect(argv[argv.indexOf("--exec-root") + 1]).toBe(p.execRoot);
  // A registry (config registry, the comparison with IPO) is trusted over plain HTTP only when set.
  expect(argv.some((a) => a.startsWith("--insecure-registry"))).toBe(false);
  expect(ownDaemonArgv(p, "10.1.2.10:5000")).toContain("--insecure-registry=10.1.2.10:5000");
});
