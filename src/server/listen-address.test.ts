import { describe, expect, it } from "vitest";
import { formatAddress, parseListenAddress } from "./listen-address.js";

describe("listen addresses", () => {
  it.each([
    ["0.0.0.0:7000", { host: "0.0.0.0", port: 7000 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["[::]:7001", { host: "::", port: 7001 }],
    ["[::1]:65535", { host: "::1", port: 65535 }],
  ])("parses %s", (text, address) => {
    expect(parseListenAddress(text, "--listen")).toEqual(address);
    expect(formatAddress(address.host, address.port)).toBe(text);
  });

  it.each(["7000", ":7000", "host:", "host:65536", "::1:7000", "a b:1", "http://h:1"])("rejects %s", (text) => {
    expect(() => parseListenAddress(text, "SWITCHBOARD_LISTEN")).toThrow(`SWITCHBOARD_LISTEN: expected host:port`);
  });
});
