import { expect, test } from "bun:test";
import { FakeClock } from "../util/clock.ts";
import { ByteQuota } from "./quota.ts";

test("bytes per peer per hour: refused with QUOTA past the limit, for that peer only, until its hour is over", async () => {
  const clock = new FakeClock();
  const q = new ByteQuota(1000, "served to", clock);
  q.take("peer-a", 600);
  q.take("peer-b", 900); // another peer has its own hour
  expect(() => q.take("peer-a", 500)).toThrow(/1000 per hour \(600 used\)/);
  const refusal = (() => {
    try {
      q.take("peer-a", 401);
    } catch (e) {
      return e as { code: string };
    }
  })();
  expect(refusal?.code).toBe("QUOTA");
  q.take("peer-a", 400); // exactly the limit
  await clock.advance(3600_000);
  q.take("peer-a", 1000);
  expect(q.status()).toEqual({ perHour: 1000, bytes: 2900, refused: 2, peers: 2 });
  expect(() => new ByteQuota(0, "x", clock).take("p", 2 ** 40)).not.toThrow(); // 0: no limit
});
