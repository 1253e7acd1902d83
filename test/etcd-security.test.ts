import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { createSwitchboardClient } from "@switchboard/client";
import { createTestPki, requireOpenssl } from "./support/certs.js";
import type { TestPki } from "./support/certs.js";
import { etcdctl, requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { spawnServer, startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await runCli(args, COMMANDS, { env, stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)) });
  return { code, stdout, stderr };
}

/** Registers one instance and lists it back: the server reads and writes etcd. */
async function roundTrip(
  address: string,
  tls: { caFile: string; certFile?: string; keyFile?: string } | false,
  instanceId: string,
) {
  const client = createSwitchboardClient({ address, tls });
  try {
    await client.registry.register({
      instance: { namespace: "sec", service: "api", instanceId, address: "127.0.0.1", port: 8080 },
      ttlSeconds: 30,
    });
    const { instances } = await client.registry.listInstances({ namespace: "sec", service: "api" });
    return instances.map((instance) => instance.instanceId);
  } finally {
    client.close();
  }
}

describe.skipIf(!requireEtcd() || !requireOpenssl())("Switchboard against a secured etcd", () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });
  afterAll(() => pki?.remove());

  describe("etcd with TLS and --client-cert-auth", () => {
    let etcd: EtcdServer;
    beforeAll(async () => {
      etcd = await startEtcd({
        tls: {
          certFile: pki.server.certFile,
          keyFile: pki.server.keyFile,
          caFile: pki.ca.certFile,
          clientCertAuth: true,
          client: pki.client,
        },
      });
    });
    afterAll(() => etcd?.stop());

    it("works with the CA and a client certificate", async () => {
      expect(etcd.endpoints[0]).toMatch(/^https:/);
      const server: TestServer = await startTestServer({
        etcdEndpoints: etcd.endpoints,
        etcdSecurity: { caFile: pki.ca.certFile, certFile: pki.client.certFile, keyFile: pki.client.keyFile },
      });
      try {
        expect(await roundTrip(server.grpcAddress, false, "in-process")).toContain("in-process");
      } finally {
        await server.close();
      }
    });

    it("does not start without a client certificate", async () => {
      await expect(
        startTestServer({ etcdEndpoints: etcd.endpoints, etcdSecurity: { caFile: pki.ca.certFile }, startupTimeoutMs: 3_000 }),
      ).rejects.toThrow(/could not (load state from|reach) etcd/);
    });

    it("`serve` takes the etcd and TLS flags; the CLI and SDK reach it over TLS", async () => {
      const child = await spawnServer({
        etcdEndpoints: etcd.endpoints,
        args: [
          `--etcd-ca-file=${pki.ca.certFile}`,
          `--etcd-cert-file=${pki.client.certFile}`,
          `--etcd-key-file=${pki.client.keyFile}`,
          `--tls-cert-file=${pki.server.certFile}`,
          `--tls-key-file=${pki.server.keyFile}`,
        ],
      });
      try {
        expect(await roundTrip(child.grpcAddress, { caFile: pki.ca.certFile }, "spawned")).toContain("spawned");
        const healthy = await cli(["health-check", "--address", child.grpcAddress, "--ca-file", pki.ca.certFile]);
        expect(healthy).toMatchObject({ code: 0, stdout: `${child.grpcAddress}: SERVING\n` });
        const viaEnv = await cli(["instances", "api", "-n", "sec", "--address", child.grpcAddress], {
          SWITCHBOARD_CA_FILE: pki.ca.certFile,
        });
        expect(viaEnv.code).toBe(0);
        expect(viaEnv.stdout).toContain("spawned");
        const plaintext = await cli(["health-check", "--address", child.grpcAddress]);
        expect(plaintext.code).toBe(1);
      } finally {
        await child.stop();
      }
    });
  });

  describe("etcd with user and password (auth enable)", () => {
    let etcd: EtcdServer;
    let passwordFile: string;
    beforeAll(async () => {
      etcd = await startEtcd();
      passwordFile = join(pki.dir, "etcd-password");
      await writeFile(passwordFile, "s3cret-pass\n", { mode: 0o600 });
      await etcdctl(etcd.endpoints, ["user", "add", "root", "--new-user-password=root-pass"]);
      // A least-privilege user: read-write on the prefix only (the health ping reads the prefix key).
      await etcdctl(etcd.endpoints, ["role", "add", "switchboard"]);
      await etcdctl(etcd.endpoints, ["role", "grant-permission", "switchboard", "--prefix=true", "readwrite", "/switchboard/"]);
      await etcdctl(etcd.endpoints, ["user", "add", "switchboard", "--new-user-password=s3cret-pass"]);
      await etcdctl(etcd.endpoints, ["user", "grant-role", "switchboard", "switchboard"]);
      await etcdctl(etcd.endpoints, ["auth", "enable"]);
    });
    afterAll(() => etcd?.stop());

    it("works with the user's password from a file, with read-write on the prefix only", async () => {
      const server = await startTestServer({
        etcdEndpoints: etcd.endpoints,
        etcdSecurity: { username: "switchboard", passwordFile },
      });
      try {
        expect(await roundTrip(server.grpcAddress, false, "with-password")).toContain("with-password");
        const health = await fetch(`http://${server.httpAddress}/healthz`, { signal: AbortSignal.timeout(5_000) });
        expect(await health.json()).toMatchObject({ status: "SERVING", store: { reachable: true } });
      } finally {
        await server.close();
      }
      // etcd really checks: without a user, reads are refused.
      await expect(etcdctl(etcd.endpoints, ["get", "--prefix", "/switchboard/"])).rejects.toThrow(
        /user name is empty|permission denied/,
      );
    });

    it("does not start with a wrong password", async () => {
      const wrong = join(pki.dir, "wrong-password");
      await writeFile(wrong, "nope\n", { mode: 0o600 });
      await expect(
        startTestServer({
          etcdEndpoints: etcd.endpoints,
          etcdSecurity: { username: "switchboard", passwordFile: wrong },
          startupTimeoutMs: 3_000,
        }),
      ).rejects.toThrow();
    });
  });
});
