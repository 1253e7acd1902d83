import { type Clock, systemClock } from "./clock.js";

/**
 * What a domain supplies to serve its watch streams on the fan-out engine:
 * where a selector's changes are published, and the view or the changes for
 * a selector since a revision. Everything else (queues, overflow, bookmarks,
 * resume or reset, cancellation, time) is the engine's.
 */
export interface WatchSource<Selector, Message> {
  /**
   * The keys a stream of selector is attached under: the domain publishes a
   * change to the streams of the keys it touches, so a stream is woken only
   * when its view changed (a service, a namespace, a config selector).
   */
  keys(selector: Selector): readonly string[];
  /**
   * Waits until a stream resuming from sinceRevision (0: none) can start:
   * true to resume from it, false to start with a reset snapshot instead.
   * Errors end the stream before its first message (the domain's own error).
   */
  ready(selector: Selector, sinceRevision: number, signal: AbortSignal): Promise<boolean>;
  /** The whole current view of selector: the first message, flagged reset when reset. */
  snapshot(selector: Selector, reset: boolean): Message;
  /**
   * The messages a live stream would have got after sinceRevision, one array
   * per revision, oldest first; undefined when that can no longer be told
   * (history gone): the stream starts with a reset snapshot instead.
   */
  changesSince(selector: Selector, sinceRevision: number): Iterable<readonly Message[]> | undefined;
}

export interface FanOutOptions<Selector, Message> {
  source: WatchSource<Selector, Message>;
  /** Most messages a stream may have queued (not yet taken by its consumer); more ends it with overflowError(). */
  queueLimit: number;
  /** A stream with nothing queued for this long gets bookmark(); 0 never. */
  bookmarkIntervalMs: number;
  /** The bookmark message at the current revision. */
  bookmark(): Message;
  /** The error ending a stream that fell more than queueLimit messages behind. */
  overflowError(): Error;
  /** A resumed stream gets a bookmark after its replayed changes, marking the end of the replay. Default false. */
  bookmarkAfterReplay?: boolean;
  /**
   * State of the world: a stream needs only the latest message, so a publish
   * replaces whatever the stream still had queued (a slow consumer skips
   * intermediate states) and a stream never overflows. Default false.
   */
  latestOnly?: boolean;
  /** What a stream does when its signal aborts: end quietly ("return", default) or throw an AbortError ("throw"). */
  onAbort?: "return" | "throw";
  /** Timers and "now" of bookmarks. Default systemClock. */
  clock?: Clock;
  /** Called once per stream when it starts and ends (metrics). */
  onStreamStart?(): void;
  onStreamEnd?(): void;
  /** Called for every message handed to a consumer (metrics). */
  onSent?(message: Message): void;
  /** Called when a stream overflows, before it ends (logging, metrics). */
  onOverflow?(selector: Selector, queued: number): void;
  /** Called when the last stream of a key leaves it (the domain drops what it kept for that key). */
  onKeyIdle?(key: string): void;
}

/** One stream as the domain sees it when publishing. */
export interface Subscriber<Selector> {
  readonly selector: Selector;
}

/**
 * FanOut serves every watch stream of one kind, in the spirit of
 * go-control-plane's pkg/cache/v3: the domain keeps one cache and publishes
 * each change to the streams of the keys it touched (never to every stream),
 * and each stream has its own cancel (its AbortSignal).
 *
 * The guarantees the three watch RPCs share:
 * - A stream starts with the view (snapshot) at revision R, or, resuming from
 *   S, with the changes after S (then a bookmark when bookmarkAfterReplay),
 *   or with a reset snapshot when they cannot be told; the first messages and
 *   the attachment to its keys happen in one synchronous step, so no change
 *   can fall in between.
 * - Each publish hands a stream one revision's messages as one group: groups
 *   are delivered whole and never split by a stream end.
 * - Each stream has its own bounded queue; publishing only appends and never
 *   waits. A stream whose queue would exceed queueLimit is ended with
 *   overflowError() at once (what was queued is dropped; the client resumes
 *   from the last revision it received). Replayed changes of a resume do not
 *   count against the limit.
 * - reset() replaces whatever a stream still had queued (a reload).
 * - Streams with nothing queued for bookmarkIntervalMs get a bookmark (one
 *   timer on the injected clock checks every stream).
 * - A stream ends when its signal aborts, with close()'s error when the
 *   engine closes, or with overflowError().
 */
export interface FanOut<Selector, Message> {
  /** Runs one stream until its signal aborts, the engine closes, or it overflows. */
  watch(selector: Selector, sinceRevision: number, signal: AbortSignal): AsyncGenerator<Message, void, undefined>;
  /** The streams attached under key (live: do not attach or detach while iterating). */
  subscribers(key: string): ReadonlySet<Subscriber<Selector>> | undefined;
  /** Every attached stream. */
  all(): ReadonlySet<Subscriber<Selector>>;
  /** Queues one revision's messages on a stream (nothing when empty); the array may be shared by many streams. */
  enqueue(subscriber: Subscriber<Selector>, messages: readonly Message[]): void;
  /** Queues messages on every stream of key. */
  publish(key: string, messages: readonly Message[]): void;
  /** Drops what a stream still had queued and queues messages instead. */
  reset(subscriber: Subscriber<Selector>, messages: readonly Message[]): void;
  /** Streams attached. */
  readonly size: number;
  /** Distinct keys with attached streams. */
  readonly keyCount: number;
  /** Ends every stream with error and refuses new ones with it. */
  close(error: Error): void;
}

interface Stream<Selector, Message> extends Subscriber<Selector> {
  readonly keys: readonly string[];
  /** Queued revision groups, each delivered whole; taken ones are cleared. */
  items: (readonly Message[] | undefined)[];
  head: number;
  /** Messages queued (not yet taken). */
  queued: number;
  /** Queued replay messages that do not count against the limit. */
  allowance: number;
  lastEnqueueAt: number;
  failed: Error | undefined;
  wake: (() => void) | undefined;
}

export function createFanOut<Selector, Message>(options: FanOutOptions<Selector, Message>): FanOut<Selector, Message> {
  const { source, queueLimit, bookmarkIntervalMs } = options;
  const clock = options.clock ?? systemClock;
  const abortMode = options.onAbort ?? "return";
  const latestOnly = options.latestOnly ?? false;
  const byKey = new Map<string, Set<Stream<Selector, Message>>>();
  const all = new Set<Stream<Selector, Message>>();
  let closedWith: Error | undefined;
  let ticker: unknown;

  function attach(stream: Stream<Selector, Message>): void {
    for (const key of stream.keys) {
      let set = byKey.get(key);
      if (set === undefined) byKey.set(key, (set = new Set()));
      set.add(stream);
    }
    all.add(stream);
    if (ticker === undefined && bookmarkIntervalMs > 0) scheduleTick();
  }

  function detach(stream: Stream<Selector, Message>): void {
    if (!all.delete(stream)) return;
    for (const key of stream.keys) {
      const set = byKey.get(key);
      set?.delete(stream);
      if (set?.size === 0) {
        byKey.delete(key);
        options.onKeyIdle?.(key);
      }
    }
    if (all.size === 0 && ticker !== undefined) {
      clock.clearTimeout(ticker);
      ticker = undefined;
    }
  }

  // One timer for every stream, not one per stream: a quarter interval is as late as a bookmark gets.
  function scheduleTick(): void {
    ticker = clock.setTimeout(
      () => {
        ticker = undefined;
        sendBookmarks();
        if (all.size > 0) scheduleTick();
      },
      Math.max(5, Math.floor(bookmarkIntervalMs / 4)),
    );
  }

  function sendBookmarks(): void {
    const due = clock.now() - bookmarkIntervalMs;
    let group: Message[] | undefined;
    for (const stream of all) {
      if (stream.queued === 0 && stream.lastEnqueueAt <= due) push(stream, (group ??= [options.bookmark()]), false);
    }
  }

  function wake(stream: Stream<Selector, Message>): void {
    const resolve = stream.wake;
    stream.wake = undefined;
    resolve?.();
  }

  function push(stream: Stream<Selector, Message>, messages: readonly Message[], replay: boolean): void {
    if (stream.failed !== undefined || messages.length === 0) return;
    if (latestOnly) clearQueue(stream);
    else if (!replay && stream.queued - stream.allowance + messages.length > queueLimit) {
      overflow(stream);
      return;
    }
    stream.items.push(messages);
    stream.queued += messages.length;
    if (replay) stream.allowance += messages.length;
    stream.lastEnqueueAt = clock.now();
    wake(stream);
  }

  function clearQueue(stream: Stream<Selector, Message>): void {
    stream.items = [];
    stream.head = 0;
    stream.queued = 0;
    stream.allowance = 0;
  }

  function overflow(stream: Stream<Selector, Message>): void {
    options.onOverflow?.(stream.selector, stream.queued);
    stream.failed = options.overflowError();
    clearQueue(stream);
    detach(stream);
    wake(stream);
  }

  function take(stream: Stream<Selector, Message>): readonly Message[] | undefined {
    if (stream.head >= stream.items.length) return undefined;
    const item = stream.items[stream.head]!;
    stream.items[stream.head] = undefined;
    stream.head++;
    if (stream.head === stream.items.length) {
      stream.items = [];
      stream.head = 0;
    } else if (stream.head > 64 && stream.head * 2 > stream.items.length) {
      stream.items = stream.items.slice(stream.head);
      stream.head = 0;
    }
    stream.queued -= item.length;
    stream.allowance = Math.max(0, stream.allowance - item.length);
    return item;
  }

  /** First messages and attachment in one synchronous step (no change can slip in between). */
  function start(stream: Stream<Selector, Message>, sinceRevision: number, resumable: boolean): void {
    const { selector } = stream;
    if (sinceRevision === 0) {
      push(stream, [source.snapshot(selector, false)], true);
    } else if (!resumable) {
      push(stream, [source.snapshot(selector, true)], true);
    } else {
      const changes = source.changesSince(selector, sinceRevision);
      if (changes === undefined) {
        push(stream, [source.snapshot(selector, true)], true);
      } else {
        for (const group of changes) push(stream, group, true);
        if (options.bookmarkAfterReplay) push(stream, [options.bookmark()], true);
      }
    }
    attach(stream);
  }

  function aborted(signal: AbortSignal): Error | undefined {
    if (abortMode === "return") return undefined;
    const reason: unknown = signal.reason;
    if (reason instanceof Error && reason.name === "AbortError") return reason;
    return new DOMException("The watch was aborted", "AbortError");
  }

  async function* watch(
    selector: Selector,
    sinceRevision: number,
    signal: AbortSignal,
  ): AsyncGenerator<Message, void, undefined> {
    const stream: Stream<Selector, Message> = {
      selector,
      keys: source.keys(selector),
      items: [],
      head: 0,
      queued: 0,
      allowance: 0,
      lastEnqueueAt: clock.now(),
      failed: undefined,
      wake: undefined,
    };
    // One listener for the stream's life, not one per wait.
    const onAbort = () => wake(stream);
    options.onStreamStart?.();
    try {
      let resumable: boolean;
      try {
        resumable = await source.ready(selector, sinceRevision, signal);
      } catch (error) {
        if (closedWith !== undefined) throw closedWith;
        if (signal.aborted) {
          const abortError = aborted(signal);
          if (abortError !== undefined) throw abortError;
          return;
        }
        throw error;
      }
      signal.addEventListener("abort", onAbort);
      let started = false;
      while (true) {
        // Closing is the server shutting down: its error tells the client to resume elsewhere.
        if (closedWith !== undefined) throw closedWith;
        if (signal.aborted) {
          const abortError = aborted(signal);
          if (abortError !== undefined) throw abortError;
          return;
        }
        if (!started) {
          started = true;
          start(stream, sinceRevision, resumable);
        }
        const item = take(stream);
        if (item === undefined) {
          if (stream.failed !== undefined) throw stream.failed;
          await new Promise<void>((resolve) => (stream.wake = resolve));
          continue;
        }
        for (const message of item) {
          options.onSent?.(message);
          yield message;
        }
      }
    } finally {
      stream.wake = undefined;
      signal.removeEventListener("abort", onAbort);
      detach(stream);
      options.onStreamEnd?.();
    }
  }

  return {
    watch,
    subscribers: (key) => byKey.get(key),
    all: () => all,
    enqueue: (subscriber, messages) => push(subscriber as Stream<Selector, Message>, messages, false),
    publish(key, messages) {
      const set = byKey.get(key);
      if (set === undefined || messages.length === 0) return;
      for (const stream of set) push(stream, messages, false);
    },
    reset(subscriber, messages) {
      const stream = subscriber as Stream<Selector, Message>;
      if (stream.failed !== undefined) return;
      clearQueue(stream);
      push(stream, messages, false);
    },
    get size() {
      return all.size;
    },
    get keyCount() {
      return byKey.size;
    },
    close(error) {
      if (closedWith !== undefined) return;
      closedWith = error;
      for (const stream of [...all]) {
        detach(stream);
        wake(stream);
      }
    },
  };
}
