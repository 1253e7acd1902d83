import { describe, expect, it } from "vitest";
import { channelTarget } from "./channel-target.js";

describe("channelTarget", () => {
  it("sends IP literals with a port to grpc-js' ip resolvers", () => {
    expect(channelTarget("127.0.0.1:7000")).toBe("ipv4:127.0.0.1:7000");
    expect(channelTarget("10.0.0.5:443")).toBe("ipv4:10.0.0.5:443");
    expect(channelTarget("[::1]:7000")).toBe("ipv6:[::1]:7000");
    expect(channelTarget("[fe80::1:2]:7000")).toBe("ipv6:[fe80::1:2]:7000");
  });

  it("leaves names, schemes, missing ports and non-addresses alone", () => {
    for (const address of [
      "localhost:7000",
      "cp-1.internal:7000",
      "127.0.0.1",
      "[::1]",
      "dns:///127.0.0.1:7000",
      "ipv4:127.0.0.1:7000",
      "https://127.0.0.1:7000",
      "unix:/tmp/sb.sock",
      "999.1.1.1:7000",
      "1.2.3:7000",
    ]) {
      expect(channelTarget(address)).toBe(address);
    }
  });
});
