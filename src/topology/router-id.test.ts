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
  test("IPv6 addresses mask to their link's /64, whatever the IPv4 mask", () => {
    // thesis testbed, per-link numbering: both ends of link 3 share its /64; other links do not
    expect(routerIdOf("2d00:1c0:2:3::1", 29)).toBe("2d00:1c0:2:3::/64");
    expect(routerIdOf("2d00:1c0:2:3::2", 24)).toBe("2d00:1c0:2:3::/64");
    expect(routerIdOf("2d00:1c0:2:4::1", 29)).not.toBe(routerIdOf("2d00:1c0:2:3::1", 29));
    // one address, written two ways, is one id
    expect(routerIdOf("2D00:01C0:0002:0003:0000:0000:0000:0001", 29)).toBe("2d00:1c0:2:3::/64");
    expect(clientKeyOf("2d00:1c0:1:1:a:b:c:d", 24)).toBe("2d00:1c0:1:1::/64");
    expect(clientKeyOf("2d00:1c0:1:1::10", 24)).toBe(clientKeyOf("2d00:1c0:1:1:a:b:c:d", 24));
    expect(() => routerIdOf("2d00::1::2", 29)).toThrow('"2d00::1::2" is not an IP address');
  });
});
