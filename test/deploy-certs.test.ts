/**
 * deploy/tls/make-certs.sh makes what the compose file and the systemd unit
 * use: this runs it and wires its files the way deploy/ does (etcd with TLS
 * and client certificates, Switchboard with mTLS on its ports), then talks
 * to it with the SDK and `switchboard health-check` configured by environment.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { createSwitchboardClient } from "@switchboard/client";
import { requireOpenssl } from "./support/certs.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../deploy/tls/make-certs.sh", import.meta.url));

describe.skipIf(!requireEtcd() || !requireOpenssl())("deploy/tls/make-certs.sh", () => {
  let dir: string;
  let etcd: EtcdServer;
  let server: TestServer;
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchboard-deploy-certs-"));
    await run("bash", [SCRIPT, dir, "DNS:sb.example.com"]);
    etcd = await startEtcd({
      tls: {
        certFile: file("etcd.crt"),
        keyFile: file("etcd.key"),
        caFile: file("ca.crt"),
        clientCertAuth: true,
        client: { certFile: file("switchboard-etcd-client.crt"), keyFile: file("switchboard-etcd-client.key") },
      },
    });
    server = await startTestServer({
      etcdEndpoints: etcd.endpoints,
      etcdSecurity: {
        caFile: file("ca.crt"),
        certFile: file("switchboard-etcd-client.crt"),
        keyFile: file("switchboard-etcd-client.key"),
      },
      tls: { certFile: file("switchboard.crt"), keyFile: file("switchboard.key"), clientCaFile: file("ca.crt") },
    });
  });

  afterAll(async () => {
    await server?.close();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("makes certificates that etcd, the server, the SDK and the CLI accept as deploy/ wires them", async () => {
    const client = createSwitchboardClient({
      address: server.grpcAddress,
      tls: { caFile: file("ca.crt"), certFile: file("client.crt"), keyFile: file("client.key") },
    });
    try {
      await client.registry.register({
        instance: { namespace: "deploy", service: "web", instanceId: "w1", address: "127.0.0.1", port: 80 },
        ttlSeconds: 30,
      });
      const { instances } = await client.registry.listInstances({ namespace: "deploy", service: "web" });
      expect(instances.map((instance) => instance.instanceId)).toEqual(["w1"]);
    } finally {
      client.close();
    }
    // The image's HEALTHCHECK: health-check with the SWITCHBOARD_CA_FILE/CERT_FILE/KEY_FILE of the compose file.
    let stdout = "";
    const sink = new Writable({ write: (chunk, _encoding, done) => ((stdout += String(chunk)), done()) });
    const code = await runCli(["health-check", "--address", server.grpcAddress], COMMANDS, {
      env: {
        SWITCHBOARD_CA_FILE: file("ca.crt"),
        SWITCHBOARD_CERT_FILE: file("client.crt"),
        SWITCHBOARD_KEY_FILE: file("client.key"),
      },
      stdout: sink,
      stderr: sink,
    });
    expect({ code, stdout }).toEqual({ code: 0, stdout: `${server.grpcAddress}: SERVING\n` });
  });

  it("keeps existing files when run again", async () => {
    const { stdout: before } = await run("openssl", ["x509", "-in", file("switchboard.crt"), "-noout", "-serial"]);
    await run("bash", [SCRIPT, dir]);
    const { stdout: after } = await run("openssl", ["x509", "-in", file("switchboard.crt"), "-noout", "-serial"]);
    expect(after).toBe(before);
  });
});
