/**
 * Client middleware that retries unary calls answered UNAVAILABLE, for callers of services
 * reached through `switchboard:///…` (or any nice-grpc client):
 *
 * ```ts
 * const payments = createClientFactory()
 *   .use(createRetryMiddleware())                    // 3 attempts, 50 ms → 500 ms apart
 *   .create(PaymentsServiceDefinition, createChannel("switchboard:///payments"));
 * await payments.charge({ orderId, amountCents, idempotencyKey }, { signal: AbortSignal.timeout(2000) });
 * await payments.refund(request, { retry: false }); // this call: no retry
 * ```
 *
 * Why here and not (only) in grpc-js's retry policy: grpc-js commits a call once response headers
 * arrive and never retries it afterwards. An instance killed after it sent the headers (or even
 * the response message) but before the status leaves the caller with UNAVAILABLE "Connection
 * dropped" that no service-config retry policy touches. This middleware sees the final status of
 * the whole call and sends it again; round_robin picks a live instance for the new attempt.
 *
 * Only unary calls are retried: a stream may already have delivered messages. Only the listed
 * codes are retried (default UNAVAILABLE: connection refused, dropped, or no instance ready).
 *
 * Safe only for idempotent methods. UNAVAILABLE does not mean the server did nothing: the
 * request may have reached an instance that acted on it and died before it answered. A method
 * with side effects must carry an idempotency key that stays the same across attempts, and the
 * service must answer a repeated key with the first result (see examples/payments).
 */
import { ClientError, Status } from "nice-grpc-common";
import type { CallOptions, ClientMiddleware, ClientMiddlewareCall } from "nice-grpc-common";
import { createBackoff, sleep } from "./backoff.js";
import type { BackoffOptions } from "./backoff.js";
import { silentLogger } from "./logger.js";
import type { SdkLogger } from "./logger.js";

/** Options of {@link createRetryMiddleware}; every one is optional. */
export interface RetryOptions {
  /** Attempts per call, the first included (1 turns retries off). Default 3. */
  maxAttempts?: number;
  /** Status codes that are retried. Default `[Status.UNAVAILABLE]`. */
  retryableCodes?: readonly Status[];
  /** Delays between attempts. Default 50 ms doubling to 500 ms, jitter 0.2. */
  backoff?: BackoffOptions;
  /** Each retry is logged at warn. Default: silent. */
  logger?: SdkLogger;
}

/** Call option of the retry middleware. */
export interface RetryCallOptions {
  /** `false`: this call is sent once. Default true. */
  retry?: boolean;
}

const DEFAULT_RETRY_ATTEMPTS = 3;
const DEFAULT_RETRY_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 500, factor: 2, jitter: 0.2 };

/**
 * nice-grpc client middleware that sends a unary call again when it failed with a retryable status
 * (default: UNAVAILABLE only, 3 attempts, 50 ms doubling to 500 ms). Streams are never retried; the
 * call's signal and deadline bound all attempts. Retry only calls that are safe to repeat.
 */
export function createRetryMiddleware(options: RetryOptions = {}): ClientMiddleware<RetryCallOptions> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`retry maxAttempts must be a whole number ≥ 1, got ${maxAttempts}`);
  }
  const retryable = new Set<Status>(options.retryableCodes ?? [Status.UNAVAILABLE]);
  const backoffOptions = { ...DEFAULT_RETRY_BACKOFF, ...options.backoff };
  const logger = options.logger ?? silentLogger;

  return async function* retryMiddleware<Request, Response>(
    call: ClientMiddlewareCall<Request, Response>,
    callOptions: CallOptions & RetryCallOptions,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const { retry = true, ...rest } = callOptions;
    if (!retry || maxAttempts === 1 || call.requestStream || call.responseStream) {
      return yield* call.next(call.request, rest);
    }
    const backoff = createBackoff(backoffOptions);
    for (let attempt = 1; ; attempt++) {
      try {
        return yield* call.next(call.request, rest);
      } catch (error) {
        const again = attempt < maxAttempts && error instanceof ClientError && retryable.has(error.code) && !rest.signal?.aborted;
        if (!again) throw error;
        const delayMs = backoff.next();
        logger.warn({ method: call.method.path, attempt, delayMs, err: error }, "retrying call");
        // Aborting the call's signal ends the wait with an AbortError, as nice-grpc's calls do.
        await sleep(delayMs, rest.signal);
      }
    }
  };
}
