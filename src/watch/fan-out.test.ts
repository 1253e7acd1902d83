import { describe, expect, it } from "vitest";
import { createManualClock } from "../../test/support/manual-clock.js";
import { createFanOut, type FanOutOptions } from "./fan-out.js";

// A toy domain: a selector is a topic; its view is the list of values published to it.
interface Message {
  kind: "snapshot" | "change" | "bookmark";
  revision: number;
  value?: string;
  reset?: boolean;
}

function setup(overrides: Partial<FanOutOptions<string, Message>> = {}, history?: Map<number, string>) {
  let revision = 10;
  const idle: string[] = [];
  let resumable = true;
  const fanOut = createFanOut<string, Message>({
    queueLimit: 3,
    bookmarkIntervalMs: 0,
    bookmark: () => ({ kind: "bookmark", revision }),
    overflowError: () => new Error("overflow"),
    onKeyIdle: (key) => idle.push(key),
    source: {
      keys: (topic) => [topic],
      ready: () => Promise.resolve(resumable),
      snapshot: (_topic, reset) => ({ kind: "snapshot", revision, reset }),
      changesSince(_topic, since) {
        if (history === undefined) return undefined;
        return [...history].filter(([r]) => r > since).map(([r, value]) => [{ kind: "change" as const, revision: r, value }]);
      },
    },
    ...overrides,
  });
  const change = (topic: string, ...values: string[]) => {
    revision++;
    fanOut.publish(
      topic,
      values.map((value) => ({ kind: "change", revision, value })),
    );
  };
  return {
    fanOut,
    change,
    idle,
    setResumable: (value: boolean) => (resumable = value),
  };
}

const show = (m: Message) => `${m.kind}@${m.revision}${m.value ? `:${m.value}` : ""}${m.reset ? "(reset)" : ""}`;

async function take(stream: AsyncGenerator<Message>, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const next = await stream.next();
    if (next.done) break;
    out.push(show(next.value));
  }
  return out;
}

describe("createFanOut", () => {
  it("starts with the snapshot, then delivers only the changes of the stream's keys", async () => {
    const { fanOut, change } = setup();
    const a = fanOut.watch("a", 0, new AbortController().signal);
    const b = fanOut.watch("b", 0, new AbortController().signal);
    expect(await take(a, 1)).toEqual(["snapshot@10"]);
    expect(await take(b, 1)).toEqual(["snapshot@10"]);
    change("a", "x");
    change("b", "y");
    change("a", "z");
    expect(await take(a, 2)).toEqual(["change@11:x", "change@13:z"]);
    expect(await take(b, 1)).toEqual(["change@12:y"]);
    expect(fanOut.size).toBe(2);
    expect(fanOut.keyCount).toBe(2);
    await a.return(undefined);
    await b.return(undefined);
    expect(fanOut.size).toBe(0);
  });

  it("resumes with the changes after a revision (then a bookmark when asked), or a reset snapshot", async () => {
    const history = new Map([
      [9, "old"],
      [10, "ten"],
    ]);
    const { fanOut, setResumable } = setup({ bookmarkAfterReplay: true }, history);
    expect(await take(fanOut.watch("a", 8, new AbortController().signal), 3)).toEqual([
      "change@9:old",
      "change@10:ten",
      "bookmark@10",
    ]);
    setResumable(false);
    expect(await take(fanOut.watch("a", 8, new AbortController().signal), 1)).toEqual(["snapshot@10(reset)"]);
    const gone = setup({}, undefined);
    expect(await take(gone.fanOut.watch("a", 8, new AbortController().signal), 1)).toEqual(["snapshot@10(reset)"]);
  });

  it("ends a stream more than queueLimit messages behind at once, dropping what was queued; replay does not count", async () => {
    const history = new Map([
      [5, "a"],
      [6, "b"],
      [7, "c"],
      [8, "d"],
    ]);
    const { fanOut, change, idle } = setup({}, history);
    // Four replayed messages with a limit of 3: not an overflow.
    const stream = fanOut.watch("t", 4, new AbortController().signal);
    expect(await take(stream, 1)).toEqual(["change@5:a"]);
    change("t", "1", "2");
    change("t", "3");
    // 3 replayed + 3 live queued; the next one is the fourth live message.
    change("t", "4");
    await expect(take(stream, 1)).rejects.toThrow("overflow");
    expect(fanOut.size).toBe(0);
    expect(idle).toEqual(["t"]);
  });

  it("delivers a revision's messages as one group: an overflow never splits one", async () => {
    const { fanOut, change } = setup();
    const stream = fanOut.watch("t", 0, new AbortController().signal);
    await take(stream, 1);
    change("t", "1", "2", "3");
    expect(await take(stream, 3)).toEqual(["change@11:1", "change@11:2", "change@11:3"]);
    change("t", "1", "2", "3", "4");
    await expect(take(stream, 1)).rejects.toThrow("overflow");
  });

  it("reset replaces what a stream still had queued", async () => {
    const { fanOut, change } = setup();
    const stream = fanOut.watch("t", 0, new AbortController().signal);
    await take(stream, 1);
    change("t", "1");
    change("t", "2");
    for (const subscriber of fanOut.all()) fanOut.reset(subscriber, [{ kind: "snapshot", revision: 20, reset: true }]);
    change("t", "3");
    expect(await take(stream, 2)).toEqual(["snapshot@20(reset)", "change@13:3"]);
  });

  it("bookmarks streams idle for bookmarkIntervalMs on the injected clock, and only those", async () => {
    const clock = createManualClock();
    const { fanOut, change } = setup({ clock, bookmarkIntervalMs: 1_000 });
    const idle = fanOut.watch("a", 0, new AbortController().signal);
    const busy = fanOut.watch("b", 0, new AbortController().signal);
    await take(idle, 1);
    await take(busy, 1);
    const idleNext = idle.next();
    await clock.advance(750);
    change("b", "x");
    await clock.advance(250);
    expect(show((await idleNext).value as Message)).toBe("bookmark@11");
    expect(await take(busy, 1)).toEqual(["change@11:x"]);
    const busyNext = busy.next();
    await clock.advance(1_000);
    expect(show((await busyNext).value as Message)).toBe("bookmark@11");
    await idle.return(undefined);
    await busy.return(undefined);
    // No stream, no timer.
    expect(clock.pending()).toBe(0);
  });

  it("ends quietly on abort by default, with an AbortError when asked, and with close()'s error", async () => {
    const quiet = setup();
    const controller = new AbortController();
    const stream = quiet.fanOut.watch("t", 0, controller.signal);
    await take(stream, 1);
    const pending = stream.next();
    controller.abort();
    expect((await pending).done).toBe(true);
    expect(quiet.fanOut.size).toBe(0);

    const loud = setup({ onAbort: "throw" });
    const controller2 = new AbortController();
    const stream2 = loud.fanOut.watch("t", 0, controller2.signal);
    await take(stream2, 1);
    const pending2 = stream2.next();
    controller2.abort();
    await expect(pending2).rejects.toMatchObject({ name: "AbortError" });

    const closing = setup();
    const stream3 = closing.fanOut.watch("t", 0, new AbortController().signal);
    await take(stream3, 1);
    const pending3 = stream3.next();
    closing.fanOut.close(new Error("shutting down"));
    await expect(pending3).rejects.toThrow("shutting down");
    await expect(take(closing.fanOut.watch("t", 0, new AbortController().signal), 1)).rejects.toThrow("shutting down");
  });

  it("latest-only streams keep just the newest group and never overflow", async () => {
    const { fanOut, change } = setup({ latestOnly: true, queueLimit: 1 });
    const stream = fanOut.watch("t", 0, new AbortController().signal);
    expect(await take(stream, 1)).toEqual(["snapshot@10"]);
    for (let i = 0; i < 5; i++) change("t", `v${i}`, `w${i}`);
    expect(await take(stream, 2)).toEqual(["change@15:v4", "change@15:w4"]);
    expect(fanOut.size).toBe(1);
    await stream.return(undefined);
  });

  it("reports stream starts, ends and messages sent", async () => {
    const counts = { start: 0, end: 0, sent: 0 };
    const { fanOut } = setup({
      onStreamStart: () => counts.start++,
      onStreamEnd: () => counts.end++,
      onSent: () => counts.sent++,
    });
    const stream = fanOut.watch("t", 0, new AbortController().signal);
    await take(stream, 1);
    await stream.return(undefined);
    expect(counts).toEqual({ start: 1, end: 1, sent: 1 });
  });
});
