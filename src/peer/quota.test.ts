import { describe, expect, test } from "bun:test";
import { parseQuota, quotaFrom, type Quota } from "../config/quota.ts";
import { QUOTA_DEFAULTS } from "../config/schema.ts";
import { LOG_BYTES, QuotaLedger, type Holding, type Quotas } from "./quota.ts";

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const big: Quota = { replicas: 100, memoryBytes: 100 * GiB, cpus: 100, diskBytes: 100 * GiB };
const holding = (name: string, o: Partial<Holding> = {}): Holding => ({ name, owner: "alice", requester: "n1", imageId: "img-a", memoryBytes: 256 * MiB, cpus: 1, ...o });

function ledger(quotas: Partial<Quotas>, holdings: Holding[] = [], sizes: Record<string, number> = {}) {
  return new QuotaLedger({ quotas: { perOwner: big, perPeer: big, total: big, ...quotas }, holdings: () => holdings, imageSize: async (id) => sizes[id] });
}

describe("quota settings", () => {
  test("a list over the defaults: dimensions left out keep theirs; sizes and counts are checked", () => {
    expect(quotaFrom(["replicas=2", "memory=512m"], QUOTA_DEFAULTS.perPeer)).toEqual({ replicas: 2, memoryBytes: 512 * MiB, cpus: 4, diskBytes: 2 * GiB });
    expect(quotaFrom(["disk=0"], QUOTA_DEFAULTS.total).diskBytes).toBe(0);
    expect(parseQuota(["replicas=1.5"], big)).toContain("whole number");
    expect(parseQuota(["memory=lots"], big)).toContain("a size such as 2g");
    expect(parseQuota(["gpus=1"], big)).toContain("one of replicas, memory, cpus, disk");
    expect(parseQuota(["replicas=1"])).toBe("needs memory, cpus, disk");
    expect(() => quotaFrom(["cpus=-1"], QUOTA_DEFAULTS.perOwner)).toThrow(expect.objectContaining({ code: "CONFIG" }));
  });
});

describe("the quota ledger", () => {
  test("each scope refuses with QUOTA naming itself and what is over, and counts it", async () => {
    const held = [holding("a"), holding("b", { owner: "bob", requester: "n2" })];
    const byOwner = ledger({ perOwner: { ...big, replicas: 1 } }, held);
    await expect(byOwner.reserve(holding("c"))).rejects.toMatchObject({ code: "QUOTA", message: expect.stringContaining("owner quota: replicas 2 > 1") });
    expect(byOwner.refused).toEqual({ perOwner: 1, perPeer: 0, total: 0 });
    await expect(byOwner.reserve(holding("c", { owner: "carol" }))).resolves.toBeFunction();

    const byPeer = ledger({ perPeer: { ...big, memoryBytes: 512 * MiB } }, held);
    await expect(byPeer.reserve(holding("c", { owner: "carol", memoryBytes: 300 * MiB }))).rejects.toThrow("requesting node quota: memory 556 MiB > 512 MiB");
    const total = ledger({ total: { ...big, cpus: 2.5 } }, held);
    await expect(total.reserve(holding("c", { owner: "carol", requester: "n3" }))).rejects.toThrow("node-wide quota: cpus 3 > 2.5");
  });

  test("a reservation holds until released: two requests for the last slot, one gets it", async () => {
    const l = ledger({ total: { ...big, replicas: 2 } }, [holding("a")]);
    const results = await Promise.allSettled([l.reserve(holding("b")), l.reserve(holding("c"))]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const release = (results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<() => void>).value;
    release();
    await expect(l.reserve(holding("d"))).resolves.toBeFunction();
  });

  test("disk counts each image once, plus every replica's capped logs; a replaced replica does not count", async () => {
    const sizes = { "img-a": GiB, "img-b": GiB };
    const disk = (replicas: number, images: number) => images * GiB + replicas * LOG_BYTES;
    const l = ledger({ perOwner: { ...big, diskBytes: disk(3, 1) } }, [holding("a"), holding("b")], sizes);
    await expect(l.reserve(holding("c"))).resolves.toBeFunction(); // same image: only logs more
    const two = [holding("a"), holding("b", { imageId: "img-b" })];
    const tight = ledger({ perOwner: { ...big, diskBytes: disk(2, 2) } }, two, sizes);
    await expect(tight.reserve(holding("c"))).rejects.toThrow("owner quota: disk 2108 MiB > 2088 MiB");
    await expect(tight.reserve(holding("b"), (h) => h.name === "b")).resolves.toBeFunction(); // b now runs img-a
  });
});
