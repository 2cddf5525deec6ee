import { describe, expect, test } from "bun:test";
import { clientKeyOf, formatIPv4, isUnicastIPv4, maskOf, networkOf, parseIPv4, requireIPv4, routerIdOf } from "./ip.ts";

describe("IPv4 parsing", () => {
  test("dotted quads round-trip", () => {
    for (const s of ["0.0.0.0", "10.0.1.2", "192.0.2.255", "255.255.255.255"]) expect(formatIPv4(parseIPv4(s)!)).toBe(s);
    expect(parseIPv4("10.0.1.2")).toBe(0x0a000102);
  });
  test("anything else is refused", () => {
    for (const s of ["", "10.0.1", "10.0.1.2.3", "256.0.0.1", "10.0.0.-1", "a.b.c.d", "::1", "10.0.0.1 ", "1e1.0.0.1"])
      expect(parseIPv4(s)).toBeUndefined();
    expect(() => requireIPv4("example.org", "client")).toThrow(/client "example.org" is not an IPv4 address/);
  });
});

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
  test("unicast check", () => {
    expect(isUnicastIPv4(parseIPv4("10.0.0.1")!)).toBe(true);
    expect(isUnicastIPv4(parseIPv4("0.0.0.0")!)).toBe(false);
    expect(isUnicastIPv4(parseIPv4("224.0.0.1")!)).toBe(false);
  });
});
