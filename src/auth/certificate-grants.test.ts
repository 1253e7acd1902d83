import { describe, expect, it } from "vitest";
import { parseCertificateGrants } from "./certificate-grants.js";

describe("parseCertificateGrants", () => {
  it("reads CLI-form and object-form grants per identity", () => {
    const grants = parseCertificateGrants(
      JSON.stringify({
        "spiffe://shop/orders": ["register@shop/orders", "read@shop"],
        "ops-laptop": [
          { namespace: "*", role: "admin" },
          { namespace: "shop", service: "*", role: "write" },
        ],
      }),
    );
    expect([...grants]).toEqual([
      [
        "spiffe://shop/orders",
        [
          { role: "register", namespace: "shop", service: "orders" },
          { role: "read", namespace: "shop" },
        ],
      ],
      [
        "ops-laptop",
        [
          { role: "admin", namespace: "*" },
          { role: "write", namespace: "shop" },
        ],
      ],
    ]);
  });

  it("names the file and the entry at fault", () => {
    expect(() => parseCertificateGrants("{", "grants.json")).toThrow(/^grants\.json: not valid JSON/);
    expect(() => parseCertificateGrants("[]", "grants.json")).toThrow("grants.json: expected an object");
    expect(() => parseCertificateGrants('{"a": []}', "g")).toThrow('g: "a": expected a list of 1..64 grants');
    expect(() => parseCertificateGrants('{" a": ["read@x"]}', "g")).toThrow("without surrounding spaces");
    expect(() => parseCertificateGrants('{"a": ["read@x", "owner@x"]}', "g")).toThrow('g: "a"[1]: grant.role: expected one of');
    expect(() => parseCertificateGrants('{"a": [{"namespace": "x", "role": "read", "scope": 1}]}', "g")).toThrow(
      'g: "a"[0]: unknown field "scope"',
    );
    expect(() => parseCertificateGrants('{"a": [{"namespace": "*", "service": "s", "role": "read"}]}', "g")).toThrow(
      'a service needs a namespace, not "*"',
    );
  });
});
