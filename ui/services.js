import { Component } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { HEALTH, REGISTRY, RpcError, allows, rpc } from "./api.js";
import { BarChart, LineChart, perMinute } from "./chart.js";
import { useCan, useConnection, useFrameUpdate, useLoad, useWatch } from "./hooks.js";
import { html } from "./html.js";
import { navigate } from "./router.js";
import { healthName, stateName, time } from "./format.js";

/**
 * Services of a namespace. The counts (routable, protection) are the server's
 * (ListServices); a namespace-wide Watch only says when to ask again, so the
 * page follows changes without deciding routability itself.
 */
export function Overview({ namespace }) {
  const [services, setServices] = useState();
  const [error, setError] = useState();
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(0);
  const [since, setSince] = useState();
  const timer = useRef();
  const namespaces = useNamespaces(namespace, services !== undefined);

  const refresh = () =>
    rpc(REGISTRY, "ListServices", { namespace }).then(
      (r) => {
        // Unchanged summaries keep their object, so their rows are not rendered again.
        setServices((previous) => reuseUnchanged(previous, r.services ?? []));
        setError(undefined);
        return r.revision;
      },
      (e) => setError(e),
    );
  useEffect(() => {
    refresh().then((revision) => setSince((current) => current ?? revision ?? "0"));
  }, [namespace]);
  // Watched from the revision of the first answer: changes only, no snapshot of every instance.
  useWatch(
    REGISTRY,
    "Watch",
    since === undefined ? null : { namespace, include_unroutable: "true", since_revision: since },
    (name) => {
      if (name !== "event" && name !== "snapshot") return;
      clearTimeout(timer.current);
      timer.current = setTimeout(refresh, 150);
    },
    [namespace, since === undefined],
  );
  useEffect(() => () => clearTimeout(timer.current), []);

  const matching = filter === "" ? (services ?? []) : (services ?? []).filter((s) => s.service.includes(filter));
  // Paged like the service page: a thousand table rows cost seconds of layout on a busy machine.
  const pages = Math.max(1, Math.ceil(matching.length / SERVICES_PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = matching.slice(current * SERVICES_PAGE_SIZE, (current + 1) * SERVICES_PAGE_SIZE);
  const first = current * SERVICES_PAGE_SIZE;
  const caption =
    matching.length === 0
      ? `No service matches (${services?.length ?? 0} in all)`
      : `Services ${first + 1}–${first + shown.length} of ${matching.length}` +
        (matching.length === services?.length ? "" : ` matching (${services?.length ?? 0} in all)`);
  return html`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Services in <span class="ns">${namespace}</span></h1>
    <div class="toolbar">
      <label
        >Namespace
        <select value=${namespace} onChange=${(e) => navigate(`/services/${e.target.value}`)}>
          ${namespaces.map((n) => html`<option value=${n}>${n}</option>`)}
        </select></label
      >
      <label
        >Filter
        <input type="search" value=${filter} onInput=${(e) => (setFilter(e.target.value), setPage(0))} placeholder="service name"
      /></label>
      <span>${matching.length} services</span>
      <${Pager} page=${current} pages=${pages} setPage=${setPage} />
    </div>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${
      services === undefined
        ? html`<p aria-busy="true">Loading…</p>`
        : html`<table class="grid" data-testid="services">
            <caption>
              ${caption}
            </caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Instances</th>
                <th scope="col">Routable</th>
                <th scope="col">Unhealthy</th>
                <th scope="col">Draining</th>
                <th scope="col">Protection</th>
              </tr>
            </thead>
            <tbody>
              ${shown.map((s) => html`<${ServiceRow} key=${s.service} summary=${s} namespace=${namespace} />`)}
            </tbody>
          </table>`
    }
  </section>`;
}

const SERVICES_PAGE_SIZE = 100;

/** One row of the overview; rendered again only when its summary changed (reuseUnchanged keeps the others). */
class ServiceRow extends Component {
  shouldComponentUpdate(next) {
    return next.summary !== this.props.summary || next.namespace !== this.props.namespace;
  }
  render({ summary: s, namespace }) {
    return html`<tr>
      <th scope="row"><a href=${`/services/${namespace}/${s.service}`}>${s.service}</a></th>
      <td>${s.instanceCount ?? 0}</td>
      <td>${s.routableCount ?? 0}</td>
      <td class=${s.unhealthyCount ? "bad" : ""}>${s.unhealthyCount ?? 0}</td>
      <td>${s.drainingCount ?? 0}</td>
      <td>${s.protectionActive ? html`<span class="badge warn">protection on</span>` : "off"}</td>
    </tr>`;
  }
}

const SUMMARY_FIELDS = ["instanceCount", "routableCount", "unhealthyCount", "drainingCount", "protectionActive"];

function reuseUnchanged(previous, next) {
  if (!previous) return next;
  const old = new Map(previous.map((s) => [s.service, s]));
  return next.map((s) => {
    const before = old.get(s.service);
    return before && SUMMARY_FIELDS.every((f) => before[f] === s[f]) ? before : s;
  });
}

/**
 * Namespaces for the picker: every namespace with services when the caller
 * may read all of them (ListServices across namespaces needs read on "*"),
 * else the ones its grants name.
 */
function useNamespaces(current, ready) {
  const { grants } = useConnection();
  const [all, setAll] = useState([]);
  // Asked once the page's own table is in (ready): a large registry's full list would compete with it.
  const readsAll = ready && grants !== undefined && allows(grants, "read", undefined);
  useEffect(() => {
    if (!readsAll) return undefined;
    let live = true;
    rpc(REGISTRY, "ListServices", {}).then(
      (r) => live && setAll((r.services ?? []).map((s) => s.namespace || "default")),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [readsAll]);
  const named = (grants ?? []).map((g) => g.namespace).filter((n) => n && n !== "*");
  return [...new Set([current, ...named, ...all])].sort();
}

const PAGE_SIZE = 50;
const HOUR = 3600_000;

/** One service: its instances live from Watch and WatchHealth, with paging for large services. */
export function ServicePage({ namespace, service }) {
  const instances = useRef(new Map());
  const health = useRef(new Map());
  const transitions = useRef([]);
  const samples = useRef([]);
  const [loaded, setLoaded] = useState(false);
  const [page, setPage] = useState(0);
  const [filter, setFilter] = useState("");
  const [message, setMessage] = useState();
  // Bumped on every change of the instances: the sorted list is computed once per batch, not per render.
  const version = useRef(0);
  const instancesChanged = useRef(false);
  const update = useFrameUpdate(() => {
    if (!instancesChanged.current) return;
    instancesChanged.current = false;
    version.current++;
    sample();
  });
  // Drain, undrain and deregister are registry writes: register on this service.
  const mayAct = useCan()("register", namespace, service);

  const sample = () => {
    let unhealthy = 0;
    for (const i of instances.current.values()) if (i.healthStatus === "HEALTH_STATUS_UNHEALTHY") unhealthy++;
    const s = samples.current;
    s.push({ t: Date.now(), values: { total: instances.current.size, unhealthy } });
    while (s.length > 1 && s[0].t < Date.now() - HOUR) s.shift();
  };

  useEffect(() => {
    instances.current = new Map();
    health.current = new Map();
    transitions.current = [];
    samples.current = [];
    setLoaded(false);
    setPage(0);
    // The chart is kept in the page: a point on every change and one every 15 s.
    const every = setInterval(() => ((instancesChanged.current = true), update()), 15_000);
    return () => clearInterval(every);
  }, [namespace, service]);

  useWatch(
    REGISTRY,
    "Watch",
    { namespace, service, include_unroutable: "true" },
    (name, data) => {
      if (name === "snapshot") {
        instances.current = new Map((data.snapshot.instances ?? []).map((i) => [i.instanceId, i]));
        setLoaded(true);
      } else if (name === "event") {
        const { type, instance } = data.event;
        if (type === "EVENT_TYPE_REMOVED") instances.current.delete(instance.instanceId);
        else instances.current.set(instance.instanceId, instance);
      } else if (name === "error") {
        setMessage(data.message);
        return;
      } else return;
      instancesChanged.current = true;
      update();
    },
    [namespace, service],
  );
  useWatch(
    HEALTH,
    "WatchHealth",
    { namespace, service },
    (name, data) => {
      if (name === "snapshot") {
        health.current = new Map((data.snapshot.instances ?? []).map((h) => [h.instanceId, h]));
      } else if (name === "transition") {
        const t = data.transition;
        transitions.current.unshift(t);
        if (transitions.current.length > 500) transitions.current.pop();
        const known = health.current.get(t.instanceId) ?? { instanceId: t.instanceId, checks: [] };
        health.current.set(t.instanceId, { ...known, status: t.current, lastOutput: t.output, lastTransitionAt: t.at });
      } else return;
      update();
    },
    [namespace, service],
  );

  const all = useMemo(
    () =>
      [...instances.current.values()]
        .filter((i) => i.instanceId.includes(filter))
        .sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1)),
    [version.current, filter, loaded],
  );
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const rows = all.slice(current * PAGE_SIZE, current * PAGE_SIZE + PAGE_SIZE);

  const act = async (what, instance, call) => {
    if (!confirm(`${what} ${instance.instanceId} of ${service}?`)) return;
    try {
      await call();
      setMessage(`${what}: ${instance.instanceId} done`);
    } catch (error) {
      setMessage(`${what} ${instance.instanceId} failed: ${error instanceof RpcError ? `${error.code}: ` : ""}${error.message}`);
    }
  };
  const setState = (instance, state) =>
    rpc(REGISTRY, "UpdateInstance", { namespace, service, instanceId: instance.instanceId, state });
  const deregister = (instance) => rpc(REGISTRY, "Deregister", { namespace, service, instanceId: instance.instanceId });

  return html`<section aria-labelledby="service-title">
    <p class="crumbs"><a href=${`/services/${namespace}`}>${namespace}</a> / ${service}</p>
    <h1 id="service-title">${service}</h1>
    <div class="charts">
      <${LineChart}
        title="Instances over the last hour (kept by this page)"
        windowMs=${HOUR}
        points=${samples.current}
        series=${[
          { name: "total", label: "instances", color: "#1d4ed8" },
          { name: "unhealthy", label: "unhealthy", color: "#b91c1c" },
        ]}
      />
      <${BarChart} title="Health transitions per minute" buckets=${perMinute(transitions.current.map((t) => Date.parse(t.at)))} />
    </div>
    ${message && html`<p class="note" role="status">${message}</p>`}
    <div class="toolbar">
      <label
        >Filter
        <input type="search" value=${filter} onInput=${(e) => (setFilter(e.target.value), setPage(0))} placeholder="instance id"
      /></label>
      <span>${all.length} instances</span>
      <${Pager} page=${current} pages=${pages} setPage=${setPage} />
    </div>
    ${
      !loaded
        ? html`<p aria-busy="true">Loading…</p>`
        : html`<table class="grid" data-testid="instances">
            <caption>
              Instances ${current * PAGE_SIZE + 1}–${current * PAGE_SIZE + rows.length} of ${all.length}
            </caption>
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">Address</th>
                <th scope="col">State</th>
                <th scope="col">Health</th>
                <th scope="col">Zone</th>
                <th scope="col">Weight</th>
                <th scope="col">Tags</th>
                <th scope="col">Metadata</th>
                <th scope="col">Registered</th>
                <th scope="col">Checked by</th>
                ${mayAct && html`<th scope="col">Actions</th>`}
              </tr>
            </thead>
            <tbody>
              ${rows.map((i) => {
                const h = health.current.get(i.instanceId);
                const output = h?.lastOutput ?? h?.checks?.[0]?.output;
                const state = stateName(i.state);
                return html`<tr key=${i.instanceId} data-instance=${i.instanceId}>
                  <th scope="row">${i.instanceId}</th>
                  <td>${i.address}:${i.port}</td>
                  <td data-col="state"><span class=${`badge ${state === "up" ? "ok" : "warn"}`}>${state}</span></td>
                  <td>
                    <span
                      class=${`badge ${i.healthStatus === "HEALTH_STATUS_UNHEALTHY" ? "bad" : i.healthStatus === "HEALTH_STATUS_HEALTHY" ? "ok" : ""}`}
                      >${healthName(i.healthStatus)}</span
                    >${output ? html`<div class="output">${output}</div>` : ""}
                  </td>
                  <td>${i.zone}</td>
                  <td>${i.weight}</td>
                  <td>${(i.tags ?? []).join(", ")}</td>
                  <td>${Object.entries(i.metadata ?? {}).map(([k, v]) => html`<div>${k}=${v}</div>`)}</td>
                  <td>${time(i.registeredAt)}</td>
                  <td>${h?.checkedBy ?? ""}</td>
                  ${
                    mayAct &&
                    html`<td class="actions">
                      ${
                        state === "draining"
                          ? html`<button onClick=${() => act("Undrain", i, () => setState(i, "INSTANCE_STATE_UP"))}>
                              Undrain
                            </button>`
                          : html`<button onClick=${() => act("Drain", i, () => setState(i, "INSTANCE_STATE_DRAINING"))}>
                              Drain
                            </button>`
                      }
                      <button class="danger" onClick=${() => act("Deregister", i, () => deregister(i))}>Deregister</button>
                    </td>`
                  }
                </tr>`;
              })}
            </tbody>
          </table>`
    }
    <h2>Health transitions</h2>
    <${Timeline} transitions=${transitions.current.slice(0, 50)} />
  </section>`;
}

export function Pager({ page, pages, setPage }) {
  if (pages <= 1) return null;
  return html`<nav class="pager" aria-label="Pages">
    <button disabled=${page === 0} onClick=${() => setPage(page - 1)}>Previous</button>
    <span>Page ${page + 1} of ${pages}</span>
    <button disabled=${page >= pages - 1} onClick=${() => setPage(page + 1)}>Next</button>
  </nav>`;
}

export function Timeline({ transitions }) {
  if (transitions.length === 0) return html`<p>No transitions since this page opened.</p>`;
  return html`<ol class="timeline">
    ${transitions.map(
      (t) =>
        html`<li key=${t.revision + t.instanceId}>
          <time datetime=${t.at}>${time(t.at)}</time>
          <span>${t.service}/${t.instanceId}</span>
          <span class="badge">${healthName(t.previous)}</span> →
          <span class=${`badge ${t.current === "HEALTH_STATUS_UNHEALTHY" ? "bad" : "ok"}`}>${healthName(t.current)}</span>
          ${t.output && html`<span class="output">${t.output}</span>`}
        </li>`,
    )}
  </ol>`;
}

/** Health of a namespace: the transitions as a timeline and per minute, the control-plane replicas and the store. */
export function HealthPage({ namespace }) {
  const transitions = useRef([]);
  const checkedBy = useRef(new Map());
  const update = useFrameUpdate();
  const replicas = useLoad(() => rpc(HEALTH, "ListReplicas", {}), [namespace]);
  useEffect(() => {
    const every = setInterval(replicas.reload, 2000);
    return () => clearInterval(every);
  }, []);
  useWatch(
    HEALTH,
    "WatchHealth",
    { namespace },
    (name, data) => {
      if (name === "snapshot") {
        checkedBy.current = new Map();
        for (const h of data.snapshot.instances ?? [])
          if (h.checkedBy) checkedBy.current.set(h.checkedBy, (checkedBy.current.get(h.checkedBy) ?? 0) + 1);
      } else if (name === "transition") {
        transitions.current.unshift(data.transition);
        if (transitions.current.length > 1000) transitions.current.pop();
      } else return;
      update();
    },
    [namespace],
  );
  return html`<section aria-labelledby="health-title">
    <h1 id="health-title">Health in <span class="ns">${namespace}</span></h1>
    <h2>Control plane</h2>
    <${ControlPlane} answer=${replicas.data} error=${replicas.error} checkedBy=${checkedBy.current} namespace=${namespace} />
    <${BarChart} title="Health transitions per minute" buckets=${perMinute(transitions.current.map((t) => Date.parse(t.at)))} />
    <h2>Transitions</h2>
    <${Timeline} transitions=${transitions.current.slice(0, 200)} />
  </section>`;
}

/** ListReplicas: the live replicas (check ownership is shared among them) and the store as the answering one sees it. */
function ControlPlane({ answer, error, checkedBy, namespace }) {
  if (error && !answer)
    return html`<p class="error" role="alert" data-testid="replicas-error">
      ${error.code === "permission_denied" ? "Listing the replicas needs read on all namespaces (*)." : error.message}
    </p>`;
  if (!answer) return html`<p aria-busy="true">Loading…</p>`;
  const store = answer.store ?? {};
  const list = answer.replicas ?? [];
  return html`<dl class="facts" data-testid="store-status">
      <dt>Store</dt>
      <dd>
        ${store.backend}:
        <span class=${`badge ${store.reachable ? "ok" : "bad"}`}>${store.reachable ? "reachable" : "unreachable"}</span>
        ${store.error ? ` ${store.error}` : ""} (checked ${time(store.checkedAt)}, revision ${answer.revision ?? "0"})
      </dd>
      <dt>Answered by</dt>
      <dd>
        ${answer.answeredBy}:
        <span class=${`badge ${store.serving ? "ok" : "bad"}`}>${store.serving ? "serving" : "not serving"}</span>, cache
        ${store.cacheReady ? "loaded" : "loading"}
      </dd>
    </dl>
    <table class="grid" data-testid="replicas">
      <caption>
        ${list.length} live ${list.length === 1 ? "replica" : "replicas"}
      </caption>
      <thead>
        <tr>
          <th scope="col">Replica</th>
          <th scope="col">Started</th>
          <th scope="col">Instances checked in ${namespace}</th>
        </tr>
      </thead>
      <tbody>
        ${list.map(
          (r) =>
            html`<tr key=${r.replicaId} data-replica=${r.replicaId}>
              <th scope="row">${r.replicaId}${r.replicaId === answer.answeredBy ? " (this one)" : ""}</th>
              <td>${time(r.startedAt)}</td>
              <td>${checkedBy.get(r.replicaId) ?? 0}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}
