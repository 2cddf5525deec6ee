import { expect, test } from "bun:test";
import { ExternalAddress } from "./external-address.ts";

const at = (address: string, port = 4100) => ({ address, port });

test("an address is trusted only when enough distinct peers agree", () => {
  const e = new ExternalAddress(3);
  expect(e.vote("a", at("198.51.100.7"))).toBe(false);
  expect(e.vote("a", at("198.51.100.7"))).toBe(false); // one peer repeating itself is still one vote
  expect(e.vote("b", at("198.51.100.7"))).toBe(false);
  expect(e.get()).toBeUndefined();
  expect(e.vote("c", at("198.51.100.7"))).toBe(true);
  expect(e.get()).toEqual(at("198.51.100.7"));
});

test("a few liars do not move it; a new majority does", () => {
  const e = new ExternalAddress(3);
  for (const v of ["a", "b", "c", "d"]) e.vote(v, at("198.51.100.7"));
  e.vote("x", at("203.0.113.66"));
  e.vote("y", at("203.0.113.66"));
  expect(e.get()).toEqual(at("198.51.100.7"));
  // The node moved (new NAT mapping): its peers now all see the new address.
  for (const v of ["a", "b", "c"]) e.vote(v, at("203.0.113.9", 5000));
  expect(e.get()).toEqual(at("203.0.113.9", 5000));
});

test("a tie is not trusted", () => {
  const e = new ExternalAddress(2);
  e.vote("a", at("10.0.0.1"));
  e.vote("b", at("10.0.0.1"));
  expect(e.get()).toEqual(at("10.0.0.1"));
  e.vote("c", at("10.0.0.2"));
  e.vote("d", at("10.0.0.2"));
  expect(e.get()).toEqual(at("10.0.0.1")); // tie: keep what we had
});
