import { expect, test } from "bun:test";
import { planReplica } from "./replica-plan.ts";

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const IMAGE = { id: d(9), diffIds: [d(1), d(2), d(3)] };
const nothing = { imageHeld: false, chains: [] };

test("a replica running the asked image: direct; paused: warm; stopped or failed: hot; nothing to fetch", () => {
  const whole = { replace: false, held: 3, fetch: [] };
  expect(planReplica(IMAGE, { ...nothing, replica: { state: "RUNNING", imageId: IMAGE.id } })).toEqual({ mode: "direct", ...whole });
  expect(planReplica(IMAGE, { ...nothing, replica: { state: "PAUSED", imageId: IMAGE.id } })).toEqual({ mode: "warm", ...whole });
  expect(planReplica(IMAGE, { ...nothing, replica: { state: "STOPPED", imageId: IMAGE.id } })).toEqual({ mode: "hot", ...whole });
  expect(planReplica(IMAGE, { ...nothing, replica: { state: "FAILED", imageId: IMAGE.id } }).mode).toBe("hot");
  expect(planReplica(IMAGE, { ...nothing, replica: { state: "WAITING_READY", imageId: IMAGE.id } }).mode).toBe("hot");
});

test("no replica but the image is here (a prefetch brought it): a new replica, nothing to fetch", () => {
  expect(planReplica(IMAGE, { imageHeld: true, chains: [] })).toEqual({ mode: "prefetched", replace: false, held: 3, fetch: [] });
});

test("cold: only the layers above the longest held chain are fetched; a chain must match from the base", () => {
  expect(planReplica(IMAGE, nothing)).toEqual({ mode: "cold", replace: false, held: 0, fetch: IMAGE.diffIds });
  expect(planReplica(IMAGE, { imageHeld: false, chains: [[d(1)], [d(1), d(2), d(7)]] })).toEqual({ mode: "cold", replace: false, held: 2, fetch: [d(3)] });
  // The same layer above another base is not the same chain: Docker cannot reuse it.
  expect(planReplica(IMAGE, { imageHeld: false, chains: [[d(7), d(2), d(3)]] }).fetch).toEqual(IMAGE.diffIds);
});

test("a replica running another image (or one whose image is gone) is replaced", () => {
  expect(planReplica(IMAGE, { imageHeld: false, chains: [[d(1), d(2)]], replica: { state: "RUNNING", imageId: d(8) } }))
    .toEqual({ mode: "cold", replace: true, held: 2, fetch: [d(3)] });
  expect(planReplica(IMAGE, { imageHeld: true, chains: [], replica: { state: "STOPPED", imageId: undefined } }))
    .toEqual({ mode: "prefetched", replace: true, held: 3, fetch: [] });
});
