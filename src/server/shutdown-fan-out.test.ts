import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { createShutdownFanOut } from "./shutdown-fan-out.js";

describe("createShutdownFanOut", () => {
  it("keeps one listener on the shutdown signal however many calls are linked", () => {
    const shutdown = new AbortController();
    const fanOut = createShutdownFanOut(shutdown.signal);
    const calls = Array.from({ length: 50 }, () => new AbortController());
    const links = calls.map((call) => fanOut.link(call.signal));
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(1);
    expect(getEventListeners(calls[0]!.signal, "abort")).toHaveLength(1);

    shutdown.abort();
    expect(links.every((link) => link.signal.aborted)).toBe(true);
    for (const link of links) link.release();
    expect(getEventListeners(calls[0]!.signal, "abort")).toHaveLength(0);
  });

  it("aborts a link with its call, and release detaches it", () => {
    const shutdown = new AbortController();
    const fanOut = createShutdownFanOut(shutdown.signal);
    const call = new AbortController();
    const link = fanOut.link(call.signal);
    expect(link.signal.aborted).toBe(false);
    call.abort();
    expect(link.signal.aborted).toBe(true);
    link.release();

    const other = new AbortController();
    const released = fanOut.link(other.signal);
    released.release();
    expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
    shutdown.abort();
    // Released before shutdown: no longer tied to it.
    expect(released.signal.aborted).toBe(false);
  });

  it("answers aborted links when the call or the server is already done", () => {
    const shutdown = new AbortController();
    const fanOut = createShutdownFanOut(shutdown.signal);
    expect(fanOut.link(AbortSignal.abort()).signal.aborted).toBe(true);
    shutdown.abort();
    expect(fanOut.link(new AbortController().signal).signal.aborted).toBe(true);
    expect(createShutdownFanOut(shutdown.signal).link(new AbortController().signal).signal.aborted).toBe(true);
  });
});
