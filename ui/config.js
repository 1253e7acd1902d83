import { useEffect, useState } from "preact/hooks";
import { CONFIG, RpcError, rpc } from "./api.js";
import { useCan, useWatch } from "./hooks.js";
import { html } from "./html.js";
import { diffLines, layerName, scopeText, time } from "./format.js";
import { navigate } from "./router.js";

/** Configuration of one namespace / service / profile: the resolved view, live, with each value's layer. */
export function ConfigPage({ namespace, service, profile }) {
  const [view, setView] = useState();
  const [error, setError] = useState();
  const [selected, setSelected] = useState();
  const [editing, setEditing] = useState();
  const [revealed, setRevealed] = useState(new Set());
  const can = useCan();
  const scope = { namespace, service, profile };
  // Edits write to this page's scope; a rollback writes to the scope the value came from.
  const mayWrite = can("write", namespace, service);

  useEffect(() => {
    setView(undefined);
    setSelected(undefined);
    setEditing(undefined);
  }, [namespace, service, profile]);
  useWatch(
    CONFIG,
    "WatchConfig",
    { namespace, service, profile },
    (name, data) => {
      if (name === "config") setView(data);
      else if (name === "error") setError(data.message);
    },
    [namespace, service, profile],
  );

  const go = (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const query = new URLSearchParams();
    for (const name of ["service", "profile"]) if (form.get(name)) query.set(name, form.get(name));
    navigate(`/config/${encodeURIComponent(form.get("namespace") || "default")}${query.size ? `?${query}` : ""}`);
  };

  const entries = view?.entries ?? [];
  return html`<section aria-labelledby="config-title">
    <h1 id="config-title">Configuration of <span class="ns">${scopeText(scope)}</span></h1>
    <form class="toolbar" onSubmit=${go}>
      <label>Namespace <input name="namespace" value=${namespace} required /></label>
      <label>Service <input name="service" value=${service} placeholder="namespace-wide" /></label>
      <label>Profile <input name="profile" value=${profile} placeholder="default profile" /></label>
      <button type="submit">Show</button>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
      view === undefined
        ? html`<p aria-busy="true">Loading…</p>`
        : html`<table class="grid" data-testid="config">
            <caption>
              Resolved view at revision ${view.revision}: ${entries.length} keys
            </caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col">Layer</th>
                <th scope="col">From</th>
                <th scope="col">Revision</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              ${entries.map((e) => {
                // The server decides what is secret and whether this caller may see it (redacted: no read-secrets).
                const masked = e.secret && !revealed.has(e.key);
                return html`<tr key=${e.key} data-key=${e.key}>
                  <th scope="row">${e.key}</th>
                  <td data-col="value">
                    ${
                      e.redacted
                        ? html`<span class="masked" title="secret: needs read-secrets">••••••</span>`
                        : html`<code>${masked ? "••••••" : e.value}</code>`
                    }
                    ${e.secret && !e.redacted && html` <button class="link" onClick=${() => setRevealed(toggle(revealed, e.key))}>${masked ? "Show" : "Hide"}</button>`}
                  </td>
                  <td>${layerName(e.layer)}</td>
                  <td>${scopeText(e.source)}</td>
                  <td>${e.revision}</td>
                  <td class="actions">
                    <button onClick=${() => setSelected({ scope: sourceScope(e.source), key: e.key })}>History</button>
                    ${
                      mayWrite &&
                      html`<button
                        onClick=${() =>
                          setEditing({
                            key: e.key,
                            value: e.redacted ? "" : e.value,
                            contentType: e.contentType,
                            secret: e.secret,
                          })}
                      >
                        Edit
                      </button>`
                    }
                  </td>
                </tr>`;
              })}
            </tbody>
          </table>`
    }
    ${mayWrite && !editing && html`<button onClick=${() => setEditing({ key: "", value: "" })}>Add a key to ${scopeText(scope)}</button>`}
    ${editing && html`<${EditValue} key=${editing.key} scope=${scope} initial=${editing} onDone=${() => setEditing(undefined)} />`}
    ${selected && html`<${History} key=${`${scopeText(selected.scope)}:${selected.key}`} scope=${selected.scope} itemKey=${selected.key} mayWrite=${can("write", selected.scope.namespace, selected.scope.service)} onClose=${() => setSelected(undefined)} />`}
  </section>`;
}

function toggle(set, key) {
  const next = new Set(set);
  if (next.has(key)) next.delete(key);
  else next.add(key);
  return next;
}

function sourceScope(source = {}) {
  return { namespace: source.namespace || "default", service: source.service ?? "", profile: source.profile ?? "" };
}

async function currentRevision(scope, key) {
  try {
    const { value } = await rpc(CONFIG, "GetValue", { scope, key });
    return value?.revision ?? "0";
  } catch (error) {
    if (error instanceof RpcError && error.code === "not_found") return "0";
    throw error;
  }
}

/**
 * Edits one key of the page's scope with compare-and-set: the revision read
 * when the form opened must still be current, or the server answers aborted
 * and the form shows the conflict instead of overwriting.
 */
function EditValue({ scope, initial, onDone }) {
  const [key, setKey] = useState(initial.key);
  const [value, setValue] = useState(initial.value);
  const [expected, setExpected] = useState();
  const [status, setStatus] = useState();
  useEffect(() => {
    if (initial.key) currentRevision(scope, initial.key).then(setExpected, (e) => setStatus({ error: e.message }));
    else setExpected("0");
  }, []);
  const save = async (event) => {
    event.preventDefault();
    try {
      const expectedRevision = initial.key === key ? expected : await currentRevision(scope, key);
      await rpc(CONFIG, "PutValue", {
        scope,
        key,
        value,
        contentType: initial.contentType ?? "",
        secret: initial.secret === true,
        expectedRevision,
        author: "dashboard",
      });
      onDone();
    } catch (error) {
      if (error instanceof RpcError && error.code === "aborted") {
        const now = error.headers?.get("trailer-switchboard-current-revision");
        setStatus({
          conflict: true,
          error: `Conflict: ${key} changed since you opened it (now at revision ${now ?? "?"}). Nothing was written.`,
        });
      } else setStatus({ error: error.message });
    }
  };
  const reload = async () => {
    const { value: stored } = await rpc(CONFIG, "GetValue", { scope, key }).catch(() => ({ value: undefined }));
    setValue(stored?.value ?? "");
    setExpected(stored?.revision ?? "0");
    setStatus(undefined);
  };
  return html`<form class="panel" onSubmit=${save} aria-labelledby="edit-title">
    <h2 id="edit-title">${initial.key ? `Edit ${initial.key}` : "Add a key"} in ${scopeText(scope)}</h2>
    <label
      >Key <input name="key" value=${key} onInput=${(e) => setKey(e.target.value)} required readonly=${!!initial.key}
    /></label>
    <label>Value <textarea name="value" rows="4" onInput=${(e) => setValue(e.target.value)}>${value}</textarea></label>
    <p class="hint">Compare-and-set on revision ${expected ?? "…"}.</p>
    ${initial.secret && html`<p class="hint">Secret value: stored encrypted${initial.value === "" ? "; the current value is not shown and saving replaces it" : ""}.</p>`}
    ${status && html`<p class="error" role="alert" data-testid=${status.conflict ? "conflict" : "edit-error"}>${status.error}</p>`}
    <div class="buttons">
      <button type="submit" disabled=${expected === undefined}>Save</button>
      ${status?.conflict && html`<button type="button" onClick=${reload}>Load the current value</button>`}
      <button type="button" onClick=${onDone}>Cancel</button>
    </div>
  </form>`;
}

/** Earlier versions of a key, a diff of a version against the one before it, and rollback (compare-and-set). */
function History({ scope, itemKey, mayWrite, onClose }) {
  const [versions, setVersions] = useState();
  const [chosen, setChosen] = useState(0);
  const [status, setStatus] = useState();
  useEffect(() => {
    rpc(CONFIG, "GetHistory", { scope, key: itemKey, limit: 100 }).then(
      (r) => setVersions(r.versions ?? []),
      (e) => setStatus(e.message),
    );
  }, []);
  const rollback = async (version) => {
    if (!confirm(`Put the value of revision ${version.revision} back into ${itemKey}?`)) return;
    try {
      const expectedRevision = await currentRevision(scope, itemKey);
      await rpc(CONFIG, "PutValue", {
        scope,
        key: itemKey,
        value: version.value ?? "",
        contentType: version.contentType ?? "",
        secret: version.secret === true,
        expectedRevision,
        author: `dashboard (rollback to revision ${version.revision})`,
      });
      setStatus(`Rolled back to revision ${version.revision}.`);
    } catch (error) {
      setStatus(
        `${error.code === "aborted" ? "Conflict: the key changed meanwhile; nothing was written. " : ""}${error.message}`,
      );
    }
  };
  const [showSecret, setShowSecret] = useState(false);
  const list = versions ?? [];
  const version = list[chosen];
  const previous = list[chosen + 1];
  const secretVersions = [version, previous].filter((v) => v?.secret);
  const secretDiff = secretVersions.some((v) => v.redacted)
    ? "redacted"
    : secretVersions.length > 0 && !showSecret
      ? "hidden"
      : "shown";
  return html`<section class="panel" aria-labelledby="history-title">
    <h2 id="history-title">History of ${itemKey} in ${scopeText(scope)}</h2>
    ${status && html`<p class="note" role="status">${status}</p>`}
    ${
      versions === undefined
        ? html`<p aria-busy="true">Loading…</p>`
        : html`<div class="history">
            <ol class="versions">
              ${list.map(
                (v, i) =>
                  html`<li key=${v.revision}>
                    <button
                      class=${i === chosen ? "selected" : "link"}
                      aria-pressed=${i === chosen}
                      onClick=${() => setChosen(i)}
                    >
                      revision ${v.revision}${v.deleted ? " (deleted)" : ""} — ${time(v.updatedAt)} — ${v.author ?? ""}
                    </button>
                  </li>`,
              )}
            </ol>
            ${
              version &&
              html`<div>
                <h3>Revision ${version.revision} against ${previous ? `revision ${previous.revision}` : "nothing"}</h3>
                <pre class="diff" data-testid="diff">
${
                    secretDiff === "redacted"
                      ? "(secret values: reading them needs read-secrets)"
                      : secretDiff === "hidden"
                        ? "(secret values are hidden)"
                        : diffLines(previous?.value ?? "", version.deleted ? "" : (version.value ?? "")).map(
                            (d) => html`<div class=${d.op === "+" ? "add" : d.op === "-" ? "del" : ""}>${d.op} ${d.line}</div>`,
                          )
                  }</pre>
                ${secretDiff === "hidden" && html`<button class="link" onClick=${() => setShowSecret(true)}>Show the secret values</button>`}
                ${mayWrite && chosen > 0 && !version.deleted && !version.redacted && html`<button onClick=${() => rollback(version)}>Roll back to revision ${version.revision}</button>`}
              </div>`
            }
          </div>`
    }
    <button onClick=${onClose}>Close history</button>
  </section>`;
}
