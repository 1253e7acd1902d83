import { isIPv6 } from "node:net";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { addressProblem } from "./address.js";
import { validateAddress } from "./validation.js";

const ACCEPTED: ReadonlyArray<[string, string]> = [
  ["10.0.0.1", "IPv4"],
  ["0.0.0.0", "IPv4 zeros"],
  ["255.255.255.255", "IPv4 maximum"],
  ["127.0.0.1", "IPv4 loopback"],
  ["::1", "IPv6 loopback"],
  ["2001:db8::7", "IPv6 compressed"],
  ["2001:0db8:0000:0000:0000:0000:0000:0007", "IPv6 full"],
  ["::ffff:10.0.0.1", "IPv6 with an embedded IPv4"],
  ["localhost", "single label"],
  ["orders", "service name"],
  ["orders-1.shop.svc.cluster.local", "hyphens and dots"],
  ["Orders.Example.COM", "upper case"],
  ["example.com.", "absolute name (one trailing dot)"],
  ["db_1", "underscore (container names)"],
  ["a", "one character"],
  ["1e100.net", "label starting with a digit"],
  ["123.example", "numeric label that is not the last"],
  ["ab--cd.example", "hyphens at positions 3-4 outside xn--"],
  ["xn--bcher-kva.example", "valid punycode"],
  ["XN--BCHER-KVA.example", "valid punycode, upper case"],
  ["xn--ls8h.la", "punycode emoji label"],
  [`${"a".repeat(63)}.example`, "63-character label"],
  [Array.from({ length: 4 }, () => "b".repeat(61)).join(".") + ".cc", "253 characters"],
];

const REFUSED: ReadonlyArray<[string, string]> = [
  ["\ufffd27.0.0.1", "replacement character (from the fuzz run)"],
  ["a%zz", "percent sign (from the fuzz run)"],
  ["xn--", "empty punycode (from the fuzz run)"],
  ["ex@mple", "userinfo separator: a URL reads host mple (from the fuzz run)"],
  ["xn--a", "invalid punycode"],
  ["xn--zz.example", "invalid punycode in a first label"],
  ["bücher.example", "non-ASCII (punycode required)"],
  ["[::1]", "IPv6 in brackets"],
  ["[::1", "unbalanced bracket"],
  ["fe80::1%eth0", "IPv6 zone id"],
  ["1:2:3:4:5:6:7:8:9", "too many IPv6 groups"],
  ["10.0.0.1:80", "IPv4 with a port"],
  ["1.2.3", "IPv4 shorthand (a URL reads 1.2.0.3)"],
  ["256.1.1.1", "IPv4 octet out of range"],
  ["01.2.3.4", "IPv4 leading zero (octal in some parsers)"],
  ["1.2.3.4.5", "five octets"],
  ["123", "all-numeric name"],
  ["example.123", "numeric last label"],
  ["foo.0x7f", "hex last label (a URL reads an IPv4 number)"],
  ["-orders", "leading hyphen"],
  ["orders-", "trailing hyphen"],
  ["a..b", "empty label"],
  [".example", "leading dot"],
  ["example..", "two trailing dots"],
  [".", "only a dot"],
  [`${"a".repeat(64)}.example`, "64-character label"],
  [Array.from({ length: 4 }, () => "b".repeat(62)).join(".") + ".cc", "254 characters"],
  ["a b", "space"],
  ["a\tb", "control character"],
  ["host/path", "slash"],
  ["host?x", "question mark"],
  ["host#x", "hash"],
  ["a\\b", "backslash"],
  ["exa*mple", "asterisk"],
];

describe("instance addresses: IP literals and DNS names only", () => {
  it.each(ACCEPTED)("accepts %j (%s)", (address) => {
    expect(addressProblem(address)).toBeUndefined();
    expect(validateAddress(address, "instance.address")).toBe(address);
  });

  it.each(REFUSED)("refuses %j (%s)", (address) => {
    expect(addressProblem(address)).toEqual(expect.any(String));
    let thrown: unknown;
    try {
      validateAddress(address, "instance.address");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as InvalidArgumentError).field).toBe("instance.address");
    expect((thrown as Error).message).toMatch(/^instance\.address: /);
  });

  it("says what is wrong", () => {
    expect(addressProblem("xn--")).toBe('label "xn--" is not valid punycode');
    expect(addressProblem("[::1]")).toMatch(/without brackets/);
    expect(addressProblem("fe80::1%eth0")).toMatch(/zone/);
    expect(addressProblem("1.2.3")).toMatch(/IPv4/);
    expect(addressProblem("\ufffd27.0.0.1")).toMatch(/ASCII/);
    expect(addressProblem("ex@mple")).toMatch(/letters, digits/);
    // A valid IPv6 address (::0.1:0.80): IPv6 with a port cannot be told apart, hence the separate port field.
    expect(addressProblem("::1:80")).toBeUndefined();
  });

  it("every accepted address builds an HTTP check URL naming the same host", () => {
    for (const [address] of ACCEPTED) {
      const ipv6 = isIPv6(address);
      const url = new URL(`http://${ipv6 ? `[${address}]` : address}:8080/health`);
      if (ipv6) expect(isIPv6(url.hostname.slice(1, -1)), address).toBe(true);
      else expect(url.hostname, address).toBe(address.toLowerCase());
    }
  });
});
