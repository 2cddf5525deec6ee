import { describe, expect, test } from "bun:test";
import { formatCidr, parseCidr } from "../../util/ipv4.ts";
import { pickSubnet, type InUse } from "./subnet.ts";

const use = (cidr: string, dev: string): InUse => ({ cidr: parseCidr(cidr, 0, 32)!, dev });

describe("the ICONs' subnet", () => {
  test("auto takes a /24 of 10.201.0.0/16 that nothing on the host overlaps, starting where the key points", () => {
    const key = "0000"; // start at 10.201.0.0/24
    expect(formatCidr(pickSubnet("auto", key, "icon-x", []))).toBe("10.201.0.0/24");
    const taken = [use("10.201.0.0/24", "icon-y"), use("10.201.1.7/32", "eth1")];
    expect(formatCidr(pickSubnet("auto", key, "icon-x", taken))).toBe("10.201.2.0/24");
    // A LAN that covers the whole pool leaves nothing.
    expect(() => pickSubnet("auto", key, "icon-x", [use("10.0.0.0/8", "eth0")])).toThrow(/every \/24 of 10.201.0.0\/16 overlaps/);
  });

  test("different keys start at different /24s", () => {
    expect(formatCidr(pickSubnet("auto", "0001", "a", []))).toBe("10.201.1.0/24");
    expect(formatCidr(pickSubnet("auto", "00ff", "a", []))).toBe("10.201.255.0/24");
  });

  test("the node's own bridge does not count against it (a restarted node finds its bridge up)", () => {
    expect(formatCidr(pickSubnet("10.201.7.0/24", "0000", "icon-x", [use("10.201.7.0/24", "icon-x")]))).toBe("10.201.7.0/24");
  });

  test("a given subnet is only checked: overlapping one of the host's is a CONFIG error naming it", () => {
    expect(() => pickSubnet("192.168.1.0/24", "0000", "icon-x", [use("192.168.0.0/16", "wlan0")])).toThrow("iconSubnet 192.168.1.0/24 overlaps 192.168.0.0/16 on wlan0");
    expect(() => pickSubnet("10.1.2.0/30", "0000", "icon-x", [])).toThrow(/not an IPv4 CIDR with a prefix of 16-28/);
  });
});
