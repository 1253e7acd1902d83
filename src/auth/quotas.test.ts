import { describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "../errors.js";
import { createQuotas } from "./quotas.js";

describe("quotas", () => {
  it("caps open streams per identity, leaves other identities alone, and frees a slot on release", () => {
    const quotas = createQuotas({ maxStreams: 2 });
    const first = quotas.openStream("token:a");
    quotas.openStream("token:a");
    expect(() => quotas.openStream("token:a")).toThrow(ResourceExhaustedError);
    expect(() => quotas.openStream("token:a")).toThrow("quota max-streams-per-token exceeded: 2 of 2 streams open for token:a");
    expect(() => quotas.openStream("token:b")).not.toThrow();
    first();
    first(); // releasing twice frees one slot only
    quotas.openStream("token:a");
    expect(() => quotas.openStream("token:a")).toThrow(ResourceExhaustedError);
  });

  it("allows registrations at the rate per identity, with a burst of the same size", () => {
    let now = 0;
    const quotas = createQuotas({ registrationsPerSecond: 3, now: () => now });
    for (let i = 0; i < 3; i++) quotas.takeRegistration("token:a");
    expect(() => quotas.takeRegistration("token:a")).toThrow(
      "quota registrations-per-second exceeded: at most 3 per second for token:a",
    );
    expect(() => quotas.takeRegistration("token:b")).not.toThrow();
    now += 334; // one more token refilled
    quotas.takeRegistration("token:a");
    expect(() => quotas.takeRegistration("token:a")).toThrow(ResourceExhaustedError);
  });

  it("0 disables a quota", () => {
    const quotas = createQuotas({ maxStreams: 0, registrationsPerSecond: 0 });
    expect(() => {
      for (let i = 0; i < 5000; i++) {
        quotas.openStream("a");
        quotas.takeRegistration("a");
      }
    }).not.toThrow();
  });
});
