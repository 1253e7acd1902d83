import { describe, expect, it } from "vitest";
import { RegistryServiceDefinition, type WatchResponse } from "../../generated/switchboard/registry/v1/registry.js";
import { encodeResponsesOnce } from "./encode-once.js";

const bookmark: WatchResponse = { kind: { $case: "bookmark", value: { revision: "7" } } };
const snapshot: WatchResponse = { kind: { $case: "snapshot", value: { instances: [], revision: "7", reset: false } } };

describe("encodeResponsesOnce", () => {
  const method = encodeResponsesOnce(RegistryServiceDefinition.methods.watch, (response) => response.kind?.$case !== "snapshot");
  const encode = (message: WatchResponse) => method.responseType.encode(message).finish();

  it("encodes a shared message once and hands every stream the same bytes", () => {
    const first = encode(bookmark);
    expect(encode(bookmark)).toBe(first);
    expect(RegistryServiceDefinition.methods.watch.responseType.decode(first)).toEqual(bookmark);
  });

  it("encodes an unshared message each time, so no encoding outlives its send", () => {
    const first = encode(snapshot);
    const second = encode(snapshot);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
  });
});
