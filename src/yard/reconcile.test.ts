import { describe, expect, test } from "bun:test";
import { LABELS } from "./container-spec.ts";
import type { ContainerSummary } from "../engine/container-engine.ts";
import { planReconcile } from "./reconcile.ts";
import type { IconRecord } from "./types.ts";

const rec = (name: string, over: Partial<IconRecord> = {}): IconRecord => ({
  name, image: "img", role: "root", port: 1, env: {}, user: "", createdAt: "", children: [], policy: {},
  limits: { memoryBytes: 1, cpus: 1, pids: 1 }, lastState: "RUNNING", ...over,
});
const ctr = (id: string, name: string, status: ContainerSummary["status"] = "running", created = 100): ContainerSummary => ({
  id, name: `icon-x-${name}`, status, created, labels: { [LABELS.name]: name },
});

describe("planReconcile", () => {
  test("a record keeps its own container; others with its name are duplicates", () => {
    const p = planReconcile([rec("a", { containerId: "c1" })], [ctr("c1", "a", "exited", 1), ctr("c2", "a", "running", 9)]);
    expect(p.keep.get("a")?.id).toBe("c1");
    expect(p.remove).toEqual([{ id: "c2", name: "a", why: "duplicate" }]);
  });

  test("killed between create and record: the record adopts the running, then newest, container", () => {
    const p = planReconcile([rec("a")], [ctr("old", "a", "exited", 1), ctr("new", "a", "exited", 5), ctr("up", "a", "running", 2)]);
    expect(p.keep.get("a")?.id).toBe("up");
    expect(p.remove.map((r) => r.id).sort()).toEqual(["new", "old"]);
    const q = planReconcile([rec("a", { containerId: "gone" })], [ctr("old", "a", "exited", 1), ctr("new", "a", "exited", 5)]);
    expect(q.keep.get("a")?.id).toBe("new");
  });

  test("containers without a record are orphans; a record without a container keeps nothing", () => {
    const p = planReconcile([rec("a")], [ctr("z", "ghost")]);
    expect(p.keep.has("a")).toBe(true);
    expect(p.keep.get("a")).toBeUndefined();
    expect(p.remove).toEqual([{ id: "z", name: "ghost", why: "orphan" }]);
  });

  test("a record marked removing has its removal finished", () => {
    const p = planReconcile([rec("a", { removing: true, containerId: "c1" })], [ctr("c1", "a")]);
    expect(p.finishRemoval).toEqual(["a"]);
    expect(p.remove).toEqual([{ id: "c1", name: "a", why: "removing" }]);
    expect(p.keep.has("a")).toBe(false);
  });
});
