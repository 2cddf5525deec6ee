/** A seeded random Internet comes up and every host reaches every other (root). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomTopology } from "../src/testbed/builtin.ts";
import { down, up } from "../src/testbed/lifecycle.ts";
import { pingMatrix } from "../src/testbed/ping.ts";
import type { TestbedStatus } from "../src/testbed/state.ts";
import { describeWith, rttShowsDelay } from "./support/needs.ts";

const NAME = "tbrandom";

describeWith(["root"], "testbed: random topology", () => {
  const topology = randomTopology({ seed: 11, hosts: 6 });
  let st: TestbedStatus;
  beforeAll(async () => {
    await down(NAME);
    st = await up({ name: NAME, topology, docker: false });
  });
  afterAll(async () => {
    await down(NAME);
  });

  test("the plan's hosts and routers exist under predictable names", () => {
    expect(st.hosts.map((h) => h.name)).toEqual(["IEP1", "IEP2", "IEP3", "UD1", "UD2", "UD3"]);
    expect(st.routers.length).toBe(topology.routers.length);
    expect(st.delayd).toBe("running");
  });

  test("every host reaches every other, at about the computed RTT", async () => {
    const results = await pingMatrix(st, topology, { count: 10, interval: 0.02 });
    expect(results).toHaveLength(15);
    for (const r of results) {
      expect(r.received).toBeGreaterThan(0);
      expect({ pair: `${r.from}-${r.to}`, ok: rttShowsDelay(r.medianMs!, r.targetMs) }).toEqual({ pair: `${r.from}-${r.to}`, ok: true });
    }
  }, 20_000);
});
