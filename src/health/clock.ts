// The server's one Clock lives with the watch engine (src/watch/clock.ts); health keeps its import path.
export { systemClock } from "../watch/index.js";
export type { Clock } from "../watch/index.js";
