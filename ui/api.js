// Talking to the server: unary RPCs as Connect JSON over fetch, watches as Server-Sent Events
// read through fetch (EventSource cannot send an Authorization header) with resume by revision.

export const REGISTRY = "switchboard.registry.v1.RegistryService";
export const CONFIG = "switchboard.config.v1.ConfigService";
export const HEALTH = "switchboard.health.v1.HealthService";
export const AUTH = "switchboard.auth.v1.AuthService";

const TOKEN_KEY = "switchboard.token";
const listeners = new Set();
// grants: what WhoAmI answered (undefined until it has; with auth off the server answers admin on "*").
const state = { authNeeded: false, disconnected: new Set(), identity: undefined, grants: undefined };

/** Subscribe to changes of the shared connection state (auth prompt, read-only, disconnected streams). */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
export function connectionState() {
  return {
    authNeeded: state.authNeeded,
    disconnected: state.disconnected.size > 0,
    identity: state.identity,
    grants: state.grants,
  };
}
function changed() {
  for (const listener of listeners) listener(connectionState());
}

/** The bearer token is kept for this tab only (sessionStorage). */
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  state.authNeeded = false;
  state.grants = undefined;
  state.identity = undefined;
  changed();
}

/** Whether a token is kept for this tab. */
export const hasToken = () => sessionStorage.getItem(TOKEN_KEY) !== null;

/**
 * Asks the server what the caller may do (AuthService.WhoAmI): the page shows
 * an action only where a grant allows it, instead of finding out by a refusal.
 */
export async function loadGrants() {
  try {
    const answer = await rpc(AUTH, "WhoAmI", {});
    state.identity = answer.identity ?? "";
    state.grants = (answer.grants ?? []).map((g) => ({
      namespace: g.namespace ?? "",
      service: g.service || undefined,
      role: ROLE_NAMES[g.role] ?? "",
    }));
  } catch {
    // Unauthenticated: the token prompt shows (noteError); anything else: no actions shown.
    state.grants = [];
  }
  changed();
}

const ROLE_NAMES = {
  ROLE_READ: "read",
  ROLE_REGISTER: "register",
  ROLE_WRITE: "write",
  ROLE_READ_SECRETS: "read-secrets",
  ROLE_ADMIN: "admin",
};

// The server's rule (src/auth/grants.ts), to decide what to show; the server still decides every call.
const SATISFIED_BY = {
  read: ["read", "read-secrets", "admin"],
  register: ["register", "admin"],
  write: ["write", "admin"],
  "read-secrets": ["read-secrets", "admin"],
  admin: ["admin"],
};

/**
 * True when grants allow permission on namespace (undefined: every namespace)
 * and service (undefined or "": the whole namespace).
 */
export function allows(grants, permission, namespace, service) {
  const roles = SATISFIED_BY[permission] ?? [];
  return (grants ?? []).some(
    (g) =>
      roles.includes(g.role) &&
      (g.namespace === "*" || (namespace !== undefined && g.namespace === namespace)) &&
      (g.service === undefined || g.service === (service || undefined)),
  );
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

export class RpcError extends Error {
  constructor(code, message, headers) {
    super(message);
    this.code = code;
    this.headers = headers;
  }
}

function noteError(code) {
  if (code === "unauthenticated" && !state.authNeeded) {
    state.authNeeded = true;
    changed();
  }
}

/** Calls a unary RPC with a JSON body; throws RpcError with the Connect code. */
export async function rpc(service, method, body = {}) {
  let response;
  try {
    response = await fetch(`/${service}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...authHeaders() },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new RpcError("unavailable", `cannot reach the server: ${error.message}`);
  }
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    noteError(json.code);
    throw new RpcError(json.code ?? "unknown", json.message ?? response.statusText, response.headers);
  }
  return json;
}

let nextStreamId = 0;

/**
 * Opens a watch as SSE and keeps it open: on a dropped connection or a server
 * restart it marks itself disconnected, retries with backoff and resumes
 * after the last revision seen (Last-Event-ID). onEvent(name, data) gets each
 * event. Returns a function that stops the stream.
 */
export function watch(service, method, params, onEvent) {
  const controller = new AbortController();
  const id = nextStreamId++;
  let lastId;
  let delay = 250;
  const setDisconnected = (yes) => {
    if (yes === state.disconnected.has(id)) return;
    if (yes) state.disconnected.add(id);
    else state.disconnected.delete(id);
    changed();
  };
  (async () => {
    while (!controller.signal.aborted) {
      let retry = true;
      try {
        const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ""));
        const headers = { accept: "text/event-stream", ...authHeaders() };
        if (lastId !== undefined) headers["last-event-id"] = lastId;
        const response = await fetch(`/${service}/${method}?${query}`, { headers, signal: controller.signal });
        if (!response.ok) {
          const json = await response.json().catch(() => ({}));
          noteError(json.code);
          if (json.code === "unauthenticated" || json.code === "permission_denied" || json.code === "invalid_argument")
            retry = false;
          throw new RpcError(json.code ?? "unknown", json.message ?? response.statusText);
        }
        setDisconnected(false);
        delay = 250;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = parseEvent(block);
            if (!event) continue;
            if (event.name === "error") {
              noteError(event.data.code);
              continue;
            }
            if (event.id !== undefined) lastId = event.id;
            onEvent(event.name, event.data);
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        if (!retry) {
          onEvent("error", { code: error.code, message: error.message });
          return;
        }
      }
      if (controller.signal.aborted) return;
      setDisconnected(true);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2000);
    }
  })().finally(() => setDisconnected(false));
  return () => controller.abort();
}

function parseEvent(block) {
  let name = "message";
  let id;
  const data = [];
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    if (colon === 0) continue; // comment
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "id") id = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return undefined;
  return { name, id, data: JSON.parse(data.join("\n")) };
}
