import http from "node:http";
import https from "node:https";
import type { Checker, ProbeResult } from "./checker.js";
import { errorText, settleProbe, truncateOutput } from "./checker.js";

/** Body bytes read from a health endpoint; the rest is ignored. */
const MAX_BODY_BYTES = 64 * 1024;
const PASSING_STATUS_WORDS = new Set(["up", "serving", "pass", "ok", "healthy"]);

export interface HttpCheckerOptions {
  url: string;
  headers?: Record<string, string>;
}

/**
 * GETs the URL on a fresh connection per probe (no keep-alive, so a server
 * that stops accepting connections is noticed). Passes on 2xx unless the
 * body is a JSON object whose "status" field is not one of UP, SERVING,
 * PASS, OK, HEALTHY (case-insensitive); redirects are not followed.
 */
export function createHttpChecker(options: HttpCheckerOptions): Checker {
  const url = new URL(options.url);
  const client = url.protocol === "https:" ? https : http;
  const headers = { "user-agent": "switchboard-health-check", accept: "application/json, */*", ...options.headers };
  return {
    probe: (signal) =>
      settleProbe(signal, (finish) => {
        const req = client.get(url, { headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            if (size < MAX_BODY_BYTES) chunks.push(chunk);
            size += chunk.length;
            if (size >= MAX_BODY_BYTES) res.destroy();
          });
          const done = () =>
            finish(judge(res.statusCode ?? 0, Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString("utf8")));
          res.on("end", done);
          res.on("close", done);
          res.on("error", (error) => finish({ ok: false, output: `HTTP ${res.statusCode}: ${errorText(error)}` }));
        });
        req.on("error", (error) => finish({ ok: false, output: errorText(error) }));
        return {
          onAbort: () => {
            req.destroy();
            return { ok: false, output: "timed out" };
          },
        };
      }),
    close: () => {},
  };
}

/** Decides one HTTP response. Exported for unit tests. */
export function judge(statusCode: number, body: string): ProbeResult {
  const excerpt = truncateOutput(body, 200);
  const head = `HTTP ${statusCode}${excerpt ? `: ${excerpt}` : ""}`;
  if (statusCode < 200 || statusCode > 299) return { ok: false, output: head };
  const status = jsonStatusField(body);
  if (status === undefined) return { ok: true, output: head };
  const ok = typeof status === "string" && PASSING_STATUS_WORDS.has(status.trim().toLowerCase());
  return { ok, output: head };
}

function jsonStatusField(body: string): unknown {
  const text = body.trim();
  if (!text.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) && "status" in parsed) {
      return (parsed as { status: unknown }).status;
    }
  } catch {
    // Not JSON (or cut at MAX_BODY_BYTES): the status code decides.
  }
  return undefined;
}
