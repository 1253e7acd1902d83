import { describe, expect, it } from "vitest";
import { certificateIdentity } from "./peer-identity.js";

// Subjects as node:tls reports them (getPeerCertificate()).
const subject = (cn?: string | string[]) => (cn === undefined ? {} : { CN: cn }) as never;

describe("certificateIdentity", () => {
  it("takes the first URI subjectAltName", () => {
    expect(
      certificateIdentity({
        subject: subject("orders"),
        subjectaltname: "DNS:orders.local, URI:spiffe://shop/orders, URI:https://x",
      }),
    ).toBe("spiffe://shop/orders");
  });

  it("unquotes a URI that node:tls quoted because it holds a comma", () => {
    expect(certificateIdentity({ subject: subject("x"), subjectaltname: 'URI:"spiffe://shop/a,b"' })).toBe("spiffe://shop/a,b");
  });

  it("falls back to the common name, the first when there are several", () => {
    expect(certificateIdentity({ subject: subject("orders"), subjectaltname: "DNS:orders.local" })).toBe("orders");
    expect(certificateIdentity({ subject: subject(["first", "second"]), subjectaltname: undefined as never })).toBe("first");
  });

  it("has none without URI SAN and CN", () => {
    expect(certificateIdentity({ subject: subject(), subjectaltname: "DNS:a" })).toBeUndefined();
  });
});
