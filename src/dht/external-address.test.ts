import { expect, test } from "bun:test";
import { ExternalAddress } from "./external-address.ts";

const at = (address: string, port = 4100) => ({ address, port });
/** A voter in a /24 of its own, by letter. */
const voter = (v: string) => `192.0.${v.charCodeAt(0)}.10`;

test("an address is trusted only when enough distinct /24s agree", () => {
  const e = new ExternalAddress(3);
  expect(e.vote(voter("a"), at("198.51.100.7"))).toBe(false);
  expect(e.vote(voter("a"), at("198.51.100.7"))).toBe(false); // one peer repeating itself is still one vote
  expect(e.vote(voter("b"), at("198.51.100.7"))).toBe(false);
  expect(e.get()).toBeUndefined();
  expect(e.vote(voter("c"), at("198.51.100.7"))).toBe(true);
  expect(e.get()).toEqual(at("198.51.100.7"));
});

test("many voters in one /24 are one vote", () => {
  const e = new ExternalAddress(3);
  for (let i = 1; i <= 64; i++) expect(e.vote(`203.0.113.${i}`, at("198.51.100.66"))).toBe(false);
  expect(e.get()).toBeUndefined();
  e.vote(voter("a"), at("198.51.100.66"));
  expect(e.get()).toBeUndefined(); // two /24s so far
  expect(e.vote(voter("b"), at("198.51.100.66"))).toBe(true);
});

test("a few liars do not move it; a new majority does", () => {
  const e = new ExternalAddress(3);
  for (const v of ["a", "b", "c", "d"]) e.vote(voter(v), at("198.51.100.7"));
  e.vote(voter("x"), at("203.0.113.66"));
  e.vote(voter("y"), at("203.0.113.66"));
  expect(e.get()).toEqual(at("198.51.100.7"));
  // The node moved (new NAT mapping): its peers now all see the new address.
  for (const v of ["a", "b", "c"]) e.vote(voter(v), at("203.0.113.9", 5000));
  expect(e.get()).toEqual(at("203.0.113.9", 5000));
});

test("a tie is not trusted", () => {
  const e = new ExternalAddress(2);
  e.vote(voter("a"), at("10.0.0.1"));
  e.vote(voter("b"), at("10.0.0.1"));
  expect(e.get()).toEqual(at("10.0.0.1"));
  e.vote(voter("c"), at("10.0.0.2"));
  e.vote(voter("d"), at("10.0.0.2"));
  expect(e.get()).toEqual(at("10.0.0.1")); // tie: keep what we had
});

test("every reported address is listed before any quorum, once each", () => {
  const e = new ExternalAddress(3);
  e.vote(voter("a"), at("6.0.3.2", 4100));
  e.vote(voter("b"), at("6.0.3.2", 4200));
  e.vote(voter("c"), at("198.51.100.7"));
  expect(e.get()).toBeUndefined();
  expect(e.reported().sort()).toEqual(["198.51.100.7", "6.0.3.2"]);
});
