import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { DescMessage, JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { loadDescriptorSet } from "../server/descriptor-set.js";
import { eventFrame, eventNameOf, queryToJson, revisionOf } from "./sse.js";

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, loadDescriptorSet()));
const watchRequest = registry.getMessage("switchboard.registry.v1.WatchRequest") as DescMessage;

describe("queryToJson", () => {
  it("maps proto and JSON names, repeats into lists, booleans and 64-bit integers as JSON wants them", () => {
    const query = new URLSearchParams("service=orders&includeUnroutable=true&tags=a&tags=b&since_revision=42&zone=z1");
    expect(queryToJson(watchRequest, query)).toEqual({
      service: "orders",
      includeUnroutable: true,
      tags: ["a", "b"],
      sinceRevision: "42",
      zone: "z1",
    });
    expect(queryToJson(watchRequest, new URLSearchParams("include_unroutable=false"))).toEqual({ includeUnroutable: false });
  });

  it("leaves unknown names and bad values for the JSON parser to reject by name", () => {
    expect(queryToJson(watchRequest, new URLSearchParams("bogus=1&include_unroutable=maybe"))).toEqual({
      bogus: "1",
      includeUnroutable: "maybe",
    });
  });
});

describe("revisionOf and eventNameOf", () => {
  it("read the revision and kind of every watch's messages", () => {
    const cases: Array<[JsonValue, string, string]> = [
      [{ snapshot: { revision: "5" } }, "5", "snapshot"],
      [{ event: { type: "EVENT_TYPE_ADDED", revision: "6" } }, "6", "event"],
      [{ bookmark: { revision: "7" } }, "7", "bookmark"],
      [{ transition: { revision: "8" } }, "8", "transition"],
      [{ bookmarkRevision: "9" }, "9", "bookmark"],
      [{ entries: [], revision: "10" }, "10", "config"],
      [{ revision: "11", bookmark: true }, "11", "bookmark"],
    ];
    for (const [message, revision, name] of cases) {
      expect([revisionOf(message), eventNameOf(message)]).toEqual([revision, name]);
    }
  });
});

describe("eventFrame", () => {
  it("writes id, event and data, and serializes a message object once however many streams send it", () => {
    const message: JsonValue = { event: { type: "EVENT_TYPE_ADDED", revision: "6" } };
    const frame = eventFrame(message);
    expect(frame).toBe(`id: 6\nevent: event\ndata: ${JSON.stringify(message)}\n\n`);
    // The same object again (another stream): the cached frame, even if someone mutated the object since.
    (message as { extra?: number }).extra = 1;
    expect(eventFrame(message)).toBe(frame);
    expect(eventFrame({ entries: [] })).toBe(`event: config\ndata: {"entries":[]}\n\n`);
  });
});
