import type { Logger } from "pino";

/** The part of a pino Logger the SDK uses; pass your service's logger. */
export type SdkLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

const noop = (): void => {};

/** Default logger: says nothing. */
export const silentLogger: SdkLogger = { debug: noop, info: noop, warn: noop, error: noop } as unknown as SdkLogger;
