/**
 * ConfigService end to end: a real server (on a real etcd, and on the
 * embedded store) called over gRPC and through the `switchboard config` CLI.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ClientError, Status, createChannel, createClient } from "nice-grpc";
import type { Channel, Metadata } from "nice-grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigServiceDefinition, Layer } from "../generated/switchboard/config/v1/config.js";
import type { ConfigServiceClient, WatchConfigResponse } from "../generated/switchboard/config/v1/config.js";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { createEmbeddedStore, createEtcdStore } from "../src/store/index.js";
import type { Store } from "../src/store/index.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const etcdBinary = requireEtcd();

/** A server and a store handle on the same data (for compaction). */
interface Running {
  store: Store;
  server: TestServer;
  stop(): Promise<void>;
}

interface Backend {
  name: string;
  /** Starts what the server needs. */
  start(): Promise<Running>;
}

/** stop() closes the server, then the store, then what `after` stops. */
function started(store: Store, server: TestServer, after?: () => Promise<void>): Running {
  return {
    store,
    server,
    async stop() {
      await server.close();
      await store.close();
      await after?.();
    },
  };
}

const backends: Backend[] = [
  ...(etcdBinary
    ? [
        {
          name: "etcd",
          async start() {
            const etcd: EtcdServer = await startEtcd();
            const server = await startTestServer({ etcdEndpoints: etcd.endpoints });
            const store = createEtcdStore({ endpoints: etcd.endpoints });
            return started(store, server, () => etcd.stop());
          },
        },
      ]
    : []),
  {
    name: "embedded",
    async start() {
      const store = await createEmbeddedStore();
      const server = await startTestServer({ store });
      return started(store, server);
    },
  },
];

/** Runs `switchboard config ...` in this process against the server. */
async function cli(address: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await runCli(["config", ...args], COMMANDS, {
    env: { SWITCHBOARD_ADDRESS: address, USER: "tester" },
    stdout: sink((text) => (stdout += text)),
    stderr: sink((text) => (stderr += text)),
  });
  return { code, stdout, stderr };
}

async function failure(call: Promise<unknown>): Promise<ClientError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

/** Reads a stream in the background; waitFor(n) resolves once n messages arrived. */
function collect(stream: AsyncIterable<WatchConfigResponse>) {
  const received: WatchConfigResponse[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const message of stream) received.push(message);
    } catch (caught) {
      error = caught;
    }
  })();
  return {
    received,
    done,
    get error() {
      return error;
    },
    async waitFor(count: number, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (error !== undefined) throw error;
        if (Date.now() > deadline) throw new Error(`got ${received.length} of ${count} messages`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return received;
    },
  };
}

describe.each(backends)("ConfigService over gRPC on $name", (backend) => {
  let running: Running;
  let channel: Channel;
  let client: ConfigServiceClient;
  let dir: string;

  beforeAll(async () => {
    running = await backend.start();
    channel = createChannel(running.server.grpcAddress);
    client = createClient(ConfigServiceDefinition, channel);
    dir = await mkdtemp(join(tmpdir(), "config-grpc-"));
  });

  afterAll(async () => {
    channel?.close();
    await running?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("resolves layers with sources and revisions (GetConfig and the CLI)", async () => {
    const ns = "layers";
    const put = (service: string, profile: string, key: string, value: string) =>
      client.putValue({ scope: { namespace: ns, service, profile }, key, value });
    await put("", "", "a", "ns");
    await put("", "", "b", "ns");
    await put("", "prod", "b", "ns-prod");
    await put("", "prod", "c", "ns-prod");
    await put("orders", "", "c", "svc");
    await put("orders", "", "d", "svc");
    const top = await put("orders", "prod", "d", "svc-prod");

    const view = await client.getConfig({ namespace: ns, service: "orders", profile: "prod" });
    expect(view.entries.map((e) => [e.key, e.value, e.layer, e.source])).toEqual([
      ["a", "ns", Layer.LAYER_NAMESPACE_DEFAULT, { namespace: ns, service: "", profile: "" }],
      ["b", "ns-prod", Layer.LAYER_NAMESPACE_PROFILE, { namespace: ns, service: "", profile: "prod" }],
      ["c", "svc", Layer.LAYER_SERVICE_DEFAULT, { namespace: ns, service: "orders", profile: "" }],
      ["d", "svc-prod", Layer.LAYER_SERVICE_PROFILE, { namespace: ns, service: "orders", profile: "prod" }],
    ]);
    expect(view.entries[3]!.revision).toBe(top.revision);
    expect(Number(view.revision)).toBeGreaterThanOrEqual(Number(top.revision));

    const listed = await cli(running.server.grpcAddress, "list", "--resolved", "-n", ns, "-s", "orders", "-p", "prod");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^d\s+svc-prod\s+service-profile\s+layers\/orders\/prod\s+\d+$/m);
    const json = JSON.parse(
      (await cli(running.server.grpcAddress, "list", "--resolved", "--json", "-n", ns, "-s", "orders")).stdout,
    );
    expect(json.entries.map((e: { key: string; layer: string }) => [e.key, e.layer])).toEqual([
      ["a", "namespace-default"],
      ["b", "namespace-default"],
      ["c", "service-default"],
      ["d", "service-default"],
    ]);
  });

  it("concurrent compare-and-set writers: exactly one wins, the others get ABORTED with the current revision", async () => {
    const scope = { namespace: "cas" };
    const base = await client.putValue({ scope, key: "k", value: "base" });
    const attempts = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => {
        let trailer: Metadata | undefined;
        return client
          .putValue({ scope, key: "k", value: `w${i}`, expectedRevision: base.revision }, { onTrailer: (t) => (trailer = t) })
          .catch((error: unknown) => {
            throw { error, trailer };
          });
      }),
    );
    const winners = attempts.filter(
      (a): a is PromiseFulfilledResult<Awaited<ReturnType<ConfigServiceClient["putValue"]>>> => a.status === "fulfilled",
    );
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.value;
    for (const attempt of attempts) {
      if (attempt.status === "fulfilled") continue;
      const { error, trailer } = attempt.reason as { error: ClientError; trailer: Metadata | undefined };
      expect(error).toBeInstanceOf(ClientError);
      expect(error.code).toBe(Status.ABORTED);
      expect(error.details).toContain(`current revision ${winner.revision}`);
      expect(trailer?.get("switchboard-current-revision")).toBe(winner.revision);
    }
    expect((await client.getValue({ scope, key: "k" })).value?.value).toBe(winner.value?.value);
    expect((await client.getHistory({ scope, key: "k" })).versions.map((v) => v.value)).toEqual([winner.value?.value, "base"]);

    // The CLI reports the conflict and exits 1.
    const stale = await cli(running.server.grpcAddress, "set", "k", "late", "-n", "cas", "--expect-revision", base.revision);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`current revision ${winner.revision}`);
  });

  it("history and rollback survive a store compaction", async () => {
    const address = running.server.grpcAddress;
    const flags = ["-n", "hist", "-s", "api", "-p", "prod"];
    const v1 = await cli(address, "set", "timeout", '{"ms": 100}', "-t", "application/json", "--json", ...flags);
    const r1 = JSON.parse(v1.stdout).revision as number;
    await cli(address, "set", "timeout", '{"ms": 250}', "-t", "application/json", ...flags);
    await cli(address, "set", "timeout", '{"ms": 900}', "-t", "application/json", "--author", "oops", ...flags);
    const latest = Number(
      (await client.getValue({ scope: { namespace: "hist", service: "api", profile: "prod" }, key: "timeout" })).value?.revision,
    );
    await running.store.compact(latest);

    const history = JSON.parse((await cli(address, "history", "timeout", "--json", ...flags)).stdout);
    expect(history.versions.map((v: { value: string; author: string }) => [v.value, v.author])).toEqual([
      ['{"ms": 900}', "oops"],
      ['{"ms": 250}', "tester"],
      ['{"ms": 100}', "tester"],
    ]);
    expect(history.versions[2].revision).toBe(r1);

    const rolled = await cli(address, "rollback", "timeout", String(r1), ...flags);
    expect(rolled.code).toBe(0);
    expect(rolled.stdout).toContain(`to revision ${r1}`);
    const now = await client.getValue({ scope: { namespace: "hist", service: "api", profile: "prod" }, key: "timeout" });
    expect(now.value).toMatchObject({ value: '{"ms": 100}', contentType: "application/json", version: "4" });
    expect(now.value?.author).toContain("rollback");
    const after = await client.getHistory({
      scope: { namespace: "hist", service: "api", profile: "prod" },
      key: "timeout",
      limit: 2,
    });
    expect(after.versions.map((v) => v.value)).toEqual(['{"ms": 100}', '{"ms": 900}']);
    const missing = await cli(address, "rollback", "timeout", "1", ...flags);
    expect(missing.code).toBe(1);
  });

  it("a watcher sees every change once, in order, and nothing for writes that leave the view alone", async () => {
    const ns = "watched";
    await client.putValue({ scope: { namespace: ns }, key: "a", value: "1" });
    const controller = new AbortController();
    const stream = collect(client.watchConfig({ namespace: ns, service: "svc", profile: "prod" }, { signal: controller.signal }));
    const [first] = await stream.waitFor(1);
    expect(first).toMatchObject({ changedKeys: [], reset: false, bookmark: false });
    expect(first!.entries.map((e) => [e.key, e.value])).toEqual([["a", "1"]]);

    const expected: [string, string[]][] = [];
    const write = async (service: string, profile: string, key: string, value: string | undefined, changes: string[]) => {
      const scope = { namespace: ns, service, profile };
      const revision =
        value === undefined
          ? (await client.deleteValue({ scope, key })).revision
          : (await client.putValue({ scope, key, value })).revision;
      if (changes.length > 0) expected.push([revision, changes]);
    };
    await write("", "", "a", "2", ["a"]);
    await write("svc", "", "a", "svc", ["a"]);
    await write("", "", "a", "3", []); // shadowed by the service layer
    await write("svc", "", "a", "svc", []); // same value again
    await write("other", "", "a", "x", []); // another service
    await write("", "dev", "a", "x", []); // another profile
    await write("svc", "prod", "b", "1", ["b"]);
    await write("svc", "", "a", undefined, ["a"]); // back to the namespace value "3"
    await client.importValues({
      scope: { namespace: ns, profile: "prod" },
      entries: [
        { key: "a", value: "3" }, // same as the value it resolves to now, but from another layer
        { key: "c", value: "c" },
      ],
    });
    const imported = await client.getConfig({ namespace: ns, service: "svc", profile: "prod" });
    expected.push([imported.revision, ["a", "c"]]);

    const messages = await stream.waitFor(1 + expected.length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.received.slice(1).map((m) => [m.revision, m.changedKeys])).toEqual(expected);
    expect(stream.received.at(-1)!.entries.map((e) => [e.key, e.value, e.layer])).toEqual([
      ["a", "3", Layer.LAYER_NAMESPACE_PROFILE],
      ["b", "1", Layer.LAYER_SERVICE_PROFILE],
      ["c", "c", Layer.LAYER_NAMESPACE_PROFILE],
    ]);
    const revisions = messages.map((m) => Number(m.revision));
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));

    // Resume from the middle: exactly the views after it.
    const middle = expected[1]![0];
    const resumed = collect(
      client.watchConfig(
        { namespace: ns, service: "svc", profile: "prod", sinceRevision: middle },
        { signal: controller.signal },
      ),
    );
    await resumed.waitFor(expected.length - 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resumed.received.map((m) => [m.revision, m.changedKeys])).toEqual(expected.slice(2));
    controller.abort();
    await Promise.all([stream.done, resumed.done]);
  });

  it("bad input answers INVALID_ARGUMENT naming the field and writes nothing", async () => {
    const scope = { namespace: "bad" };
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.putValue({ scope: { namespace: "Bad" }, key: "k", value: "v" }), "scope.namespace"],
      [() => client.putValue({ scope: { namespace: "bad", service: "x_y" }, key: "k", value: "v" }), "scope.service"],
      [() => client.putValue({ scope, key: "-k", value: "v" }), "key"],
      [() => client.putValue({ scope, key: "k".repeat(257), value: "v" }), "key"],
      [() => client.putValue({ scope, key: "k", value: "x".repeat(512 * 1024 + 1) }), "value"],
      [() => client.putValue({ scope, key: "k", value: "{", contentType: "application/json" }), "value"],
      [() => client.putValue({ scope, key: "k", value: "a: [", contentType: "application/yaml" }), "value"],
      [() => client.putValue({ scope, key: "k", value: "v", contentType: "text/xml" }), "content_type"],
      [
        () =>
          client.importValues({
            scope,
            entries: [
              { key: "ok", value: "1" },
              { key: "no/pe", value: "2" },
            ],
          }),
        "entries[1].key",
      ],
      [() => client.getConfig({ namespace: "bad", profile: "PROD" }), "profile"],
    ];
    for (const [call, field] of cases) {
      const error = await failure(call());
      expect(error.code, field).toBe(Status.INVALID_ARGUMENT);
      expect(error.details.startsWith(`${field}: `), error.details).toBe(true);
    }
    const watch = await failure(
      (async () => {
        for await (const _ of client.watchConfig({ namespace: "-bad" })) break;
      })(),
    );
    expect(watch.code).toBe(Status.INVALID_ARGUMENT);
    expect((await client.listValues({ scope })).values).toEqual([]);
    expect((await running.store.list("/switchboard/config-history/bad/")).kvs).toEqual([]);
    expect((await failure(client.getValue({ scope, key: "k" }))).code).toBe(Status.NOT_FOUND);
  });

  it("export and import round-trip a scope through YAML and JSON files, atomically", async () => {
    const address = running.server.grpcAddress;
    const source = ["-n", "io", "-s", "orders", "-p", "prod"];
    await cli(address, "set", "db.url", "postgres://db:5432/orders", ...source);
    await cli(address, "set", "banner", "multi\nline\n", ...source);
    await cli(address, "set", "features", '{"beta":true}', "-t", "application/json", ...source);
    await cli(address, "set", "limits", "rps: 100\nburst: 20\n", "-t", "application/yaml", ...source);

    for (const format of ["yaml", "json"] as const) {
      const file = join(dir, `orders.${format}`);
      expect((await cli(address, "export", ...source, "--output", file)).code).toBe(0);
      const target = ["-n", "io", "-s", `copy-${format}`];
      const imported = await cli(address, "import", file, ...target, "--json");
      expect(JSON.parse(imported.stdout)).toMatchObject({ written: 4, deleted: 0 });
      const original = (await client.listValues({ scope: { namespace: "io", service: "orders", profile: "prod" } })).values;
      const copy = (await client.listValues({ scope: { namespace: "io", service: `copy-${format}` } })).values;
      expect(copy.map((v) => [v.key, v.value, v.contentType])).toEqual(original.map((v) => [v.key, v.value, v.contentType]));
      // The file names its scope: import without scope flags writes back there, changing nothing.
      expect(JSON.parse((await cli(address, "import", file, "--json")).stdout)).toMatchObject({
        scope: { namespace: "io", service: "orders", profile: "prod" },
        written: 0,
        deleted: 0,
      });
    }

    // Replace mode deletes what the file lacks; a bad entry anywhere writes nothing at all.
    const edited = join(dir, "edited.yaml");
    await writeFile(edited, "values:\n  db.url: postgres://other\n  extra: x\n");
    const replaced = await cli(address, "import", edited, "--replace", "--json", "-n", "io", "-s", "copy-yaml");
    expect(JSON.parse(replaced.stdout)).toMatchObject({ written: 2, deleted: 3 });
    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "values:\n  fine: 1\n  bad:\n    contentType: application/json\n    value: '{nope'\n");
    const rejected = await cli(address, "import", broken, "--replace", "-n", "io", "-s", "copy-yaml");
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain("entries[1].value");
    expect((await client.listValues({ scope: { namespace: "io", service: "copy-yaml" } })).values.map((v) => v.key)).toEqual([
      "db.url",
      "extra",
    ]);
    expect(await readFile(join(dir, "orders.yaml"), "utf8")).toContain("namespace: io");
  });

  it("counts reads, writes and pushes in /metrics", async () => {
    const text = await (await fetch(`http://${running.server.httpAddress}/metrics`)).text();
    expect(text).toMatch(/switchboard_config_reads_total\{method="GetConfig"\} [1-9]/);
    expect(text).toMatch(/switchboard_config_writes_total\{method="PutValue",result="ok"\} [1-9]/);
    expect(text).toMatch(/switchboard_config_writes_total\{method="PutValue",result="conflict"\} [1-9]/);
    expect(text).toMatch(/switchboard_config_pushes_total\{kind="change"\} [1-9]/);
    expect(text).toContain("switchboard_config_watch_streams 0");
  });
});

describe("WatchConfig and server shutdown", () => {
  it("ends open streams with UNAVAILABLE instead of holding shutdown", async () => {
    const server = await startTestServer({ shutdownTimeoutMs: 20_000 });
    const channel = createChannel(server.grpcAddress);
    try {
      const client = createClient(ConfigServiceDefinition, channel);
      const stream = collect(client.watchConfig({ namespace: "bye" }));
      await stream.waitFor(1);
      const started = Date.now();
      await server.close();
      expect(Date.now() - started).toBeLessThan(10_000);
      await stream.done;
      expect(stream.error).toBeInstanceOf(ClientError);
      expect((stream.error as ClientError).code).toBe(Status.UNAVAILABLE);
    } finally {
      channel.close();
    }
  });
});

describe.skipIf(!etcdBinary)("ConfigService read-your-writes across replicas", () => {
  it("a read on another replica with min_revision reflects the write; an unreachable revision answers UNAVAILABLE", async () => {
    const etcd = await startEtcd();
    const a = await startTestServer({ etcdEndpoints: etcd.endpoints });
    const b = await startTestServer({ etcdEndpoints: etcd.endpoints });
    const channels = [createChannel(a.grpcAddress), createChannel(b.grpcAddress)];
    try {
      const [viaA, viaB] = channels.map((channel) => createClient(ConfigServiceDefinition, channel));
      for (let i = 0; i < 20; i++) {
        const scope = { namespace: "ryw", service: "orders" };
        const { revision } = await viaA!.putValue({ scope, key: "round", value: String(i) });
        const [view, value, list] = await Promise.all([
          viaB!.getConfig({ namespace: "ryw", service: "orders", minRevision: revision }),
          viaB!.getValue({ scope, key: "round", minRevision: revision }),
          viaB!.listValues({ scope, minRevision: revision }),
        ]);
        expect(view.entries.find((e) => e.key === "round")?.value).toBe(String(i));
        expect(Number(view.revision)).toBeGreaterThanOrEqual(Number(revision));
        expect(value.value?.value).toBe(String(i));
        expect(list.values.map((v) => v.value)).toEqual([String(i)]);
      }
      const error = await viaB!
        .getConfig({ namespace: "ryw", minRevision: "999999999" }, { signal: AbortSignal.timeout(20_000) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
      const bad = await viaB!.getValue({ scope: { namespace: "ryw" }, key: "round", minRevision: "-1" }).catch((e: unknown) => e);
      expect((bad as ClientError).code).toBe(Status.INVALID_ARGUMENT);
      expect((bad as ClientError).details).toContain("min_revision");
    } finally {
      for (const channel of channels) channel.close();
      await a.close();
      await b.close();
      await etcd.stop();
    }
  });
});
