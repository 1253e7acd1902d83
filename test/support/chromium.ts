import { existsSync } from "node:fs";

/** Debian's chromium (apt package `chromium`), driven by playwright-core; override with CHROMIUM_PATH. */
const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The browser binary, or undefined (skip) when there is none; throws under CI, where it must be installed. */
export function requireChromium(): string | undefined {
  const found = CANDIDATES.find((candidate): candidate is string => !!candidate && existsSync(candidate));
  if (found) return found;
  const message =
    "chromium is not installed (looked at $CHROMIUM_PATH and /usr/bin); install the chromium package to run the browser tests";
  if (process.env.CI) throw new Error(`${message}. CI is set, so these tests must not be skipped.`);
  console.warn(`SKIPPING browser tests: ${message}.`);
  return undefined;
}
