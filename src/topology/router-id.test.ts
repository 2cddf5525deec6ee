import { describe, expect, test } from "bun:test";
import { formatIPv4 } from "../util/ipv4.ts";
import { clientKeyOf, maskOf, networkOf, routerIdOf } from "./router-id.ts";

describe("routerId maths", () => {
  test("masks", () => {
    expect(formatIPv4(maskOf(29))).toBe("255.255.255.248");
    expect(formatIPv4(maskOf(24))).toBe("255.255.255.0");
    expect(maskOf(32)).toBe(0xffffffff);
    expect(maskOf(0)).toBe(0);
    expect(() => maskOf(33)).toThrow();
  });
  test("thesis figure 3.2: both directions of one router mask to the same /29", () => {
    expect(routerIdOf("109.68.134.25", 29)).toBe("109.68.134.24/29");
    expect(routerIdOf("109.68.134.26", 29)).toBe("109.68.134.24/29");
    expect(routerIdOf("87.236.158.94", 29)).toBe(routerIdOf("87.236.158.95", 29));
    // the data-centre routers the thesis greyed out do not match
    expect(routerIdOf("52.93.81.42", 29)).not.toBe(routerIdOf("52.93.81.75", 29));
  });
  test("high addresses stay unsigned", () => {
    expect(networkOf("203.0.113.200", 25)).toBe("203.0.113.128");
    expect(routerIdOf(0xfffffffe, 31)).toBe("255.255.255.254/31");
  });
  test("client keys are the /24 by default", () => {
    expect(clientKeyOf("198.51.100.77", 24)).toBe("198.51.100.0/24");
  });
});
