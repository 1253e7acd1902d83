import { describe, expect, it } from "vitest";
import { insecureExposureWarning } from "./insecure-warning.js";

describe("insecureExposureWarning", () => {
  it.each(["0.0.0.0:7000", "[::]:7000", "10.1.2.3:7000", "switchboard.internal:7000"])(
    "warns for %s without TLS or auth",
    (listen) => {
      expect(insecureExposureWarning({ listen, tls: false, auth: false })).toMatch(/without TLS or authentication/);
    },
  );

  it.each(["127.0.0.1:7000", "127.0.0.2:0", "[::1]:7000", "localhost:7000"])("stays quiet on loopback %s", (listen) => {
    expect(insecureExposureWarning({ listen, tls: false, auth: false })).toBeUndefined();
  });

  it("stays quiet when TLS or auth is on", () => {
    expect(insecureExposureWarning({ listen: "0.0.0.0:7000", tls: true, auth: false })).toBeUndefined();
    expect(insecureExposureWarning({ listen: "0.0.0.0:7000", tls: false, auth: true })).toBeUndefined();
  });
});
