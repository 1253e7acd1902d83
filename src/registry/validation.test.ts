import { describe, expect, it } from "vitest";
import { InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import { fieldOf } from "../../test/support/invalid-argument.js";
import {
  generateInstanceId,
  isDnsLabel,
  parseRevision,
  validateAddress,
  validateLeaseId,
  validateMetadata,
  validateName,
  validateNamespace,
  validatePort,
  validateState,
  validateTags,
  validateTtl,
  validateWeight,
} from "./validation.js";

describe("names", () => {
  it("accepts DNS-1123 labels and rejects the rest", () => {
    for (const ok of ["a", "orders", "orders-v2", "0a", "a".repeat(63)]) expect(isDnsLabel(ok)).toBe(true);
    for (const bad of ["", "-a", "a-", "A", "a_b", "a/b", "a.b", "a".repeat(64), "é"]) expect(isDnsLabel(bad)).toBe(false);
  });

  it("defaults an empty namespace and names the field", () => {
    expect(validateNamespace("")).toBe("default");
    expect(fieldOf(() => validateNamespace("Bad", "instance.namespace"))).toBe("instance.namespace");
    expect(fieldOf(() => validateName("", "instance.service"))).toBe("instance.service");
    expect(() => validateName("a/b", "service")).toThrow(/service: "a\/b" is not a DNS-1123 label/);
  });

  it("generates DNS-1123 instance ids", () => {
    const ids = new Set(Array.from({ length: 200 }, generateInstanceId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(isDnsLabel(id)).toBe(true);
  });
});

describe("instance fields", () => {
  it("checks address and port", () => {
    expect(validateAddress("10.0.0.1", "a")).toBe("10.0.0.1");
    expect(validateAddress("::1", "a")).toBe("::1");
    expect(fieldOf(() => validateAddress("", "instance.address"))).toBe("instance.address");
    expect(fieldOf(() => validateAddress("x".repeat(254), "instance.address"))).toBe("instance.address");
    expect(fieldOf(() => validateAddress("a b", "instance.address"))).toBe("instance.address");
    expect(validatePort(65535, "p")).toBe(65535);
    expect(fieldOf(() => validatePort(0, "instance.port"))).toBe("instance.port");
    expect(fieldOf(() => validatePort(65536, "instance.port"))).toBe("instance.port");
  });

  it("limits metadata to 64 pairs, keys to 128 [A-Za-z0-9._/-], values to 512", () => {
    const full = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v".repeat(512)]));
    expect(Object.keys(validateMetadata(full, "m"))).toHaveLength(64);
    expect(fieldOf(() => validateMetadata({ ...full, extra: "x" }, "instance.metadata"))).toBe("instance.metadata");
    expect(fieldOf(() => validateMetadata({ ["k".repeat(129)]: "x" }, "instance.metadata"))).toBe("instance.metadata");
    expect(fieldOf(() => validateMetadata({ "a b": "x" }, "instance.metadata"))).toBe("instance.metadata");
    expect(fieldOf(() => validateMetadata({ "": "x" }, "instance.metadata"))).toBe("instance.metadata");
    expect(fieldOf(() => validateMetadata({ k: "v".repeat(513) }, "instance.metadata"))).toBe("instance.metadata");
    expect(validateMetadata({ "app.kubernetes.io/name": "x", "a-b_c": "" }, "m")).toEqual({
      "app.kubernetes.io/name": "x",
      "a-b_c": "",
    });
  });

  it("limits tags to 64 of at most 128 characters and drops duplicates", () => {
    expect(validateTags(["a", "b", "a"], "t")).toEqual(["a", "b"]);
    expect(
      fieldOf(() =>
        validateTags(
          Array.from({ length: 65 }, (_, i) => `t${i}`),
          "instance.tags",
        ),
      ),
    ).toBe("instance.tags");
    expect(fieldOf(() => validateTags(["x".repeat(129)], "instance.tags"))).toBe("instance.tags");
    expect(fieldOf(() => validateTags([""], "instance.tags"))).toBe("instance.tags");
  });

  it("defaults weight 0 to 100 and bounds 1..10000", () => {
    expect(validateWeight(0, "w", true)).toBe(100);
    expect(validateWeight(10_000, "w", true)).toBe(10_000);
    expect(fieldOf(() => validateWeight(10_001, "instance.weight", true))).toBe("instance.weight");
    expect(fieldOf(() => validateWeight(0, "weight", false))).toBe("weight");
  });

  it("defaults ttl 0 to 10 and bounds 2..300", () => {
    expect(validateTtl(0)).toBe(10);
    expect(validateTtl(2)).toBe(2);
    expect(validateTtl(300)).toBe(300);
    expect(fieldOf(() => validateTtl(1))).toBe("ttl_seconds");
    expect(fieldOf(() => validateTtl(301))).toBe("ttl_seconds");
  });

  it("defaults state to UP at registration only", () => {
    expect(validateState(InstanceState.INSTANCE_STATE_UNSPECIFIED, "s", true)).toBe(InstanceState.INSTANCE_STATE_UP);
    expect(fieldOf(() => validateState(InstanceState.INSTANCE_STATE_UNSPECIFIED, "state", false))).toBe("state");
    expect(fieldOf(() => validateState(9 as InstanceState, "instance.state", true))).toBe("instance.state");
    expect(validateState(InstanceState.INSTANCE_STATE_DRAINING, "s", false)).toBe(InstanceState.INSTANCE_STATE_DRAINING);
  });
});

describe("ids and revisions", () => {
  it("accepts positive int64 lease ids only", () => {
    expect(validateLeaseId("7587862837384839")).toBe("7587862837384839");
    expect(validateLeaseId("9223372036854775807")).toBe("9223372036854775807");
    for (const bad of ["", "0", "-1", "01", "abc", "9223372036854775808"])
      expect(fieldOf(() => validateLeaseId(bad))).toBe("lease_id");
  });

  it("parses revisions", () => {
    expect(parseRevision("", "r")).toBe(0);
    expect(parseRevision("0", "r")).toBe(0);
    expect(parseRevision("42", "r")).toBe(42);
    expect(fieldOf(() => parseRevision("-1", "min_revision"))).toBe("min_revision");
    expect(fieldOf(() => parseRevision("9223372036854775807", "min_revision"))).toBe("min_revision");
  });
});
