export { createFanOut } from "./fan-out.js";
export type { FanOut, FanOutOptions, Subscriber, WatchSource } from "./fan-out.js";
export { systemClock } from "./clock.js";
export type { Clock } from "./clock.js";
