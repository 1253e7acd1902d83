/**
 * deploy/ as documented: deploy/tls/make-certs.sh makes the certificates and
 * the first admin token; etcd runs with TLS and client certificates as the
 * compose file wires it; `switchboard serve` starts with exactly the
 * environment of deploy/systemd/switchboard.env (and the unit's own
 * Environment= lines and ExecStart arguments), its /etc paths pointed at the
 * script's output and at deploy/cert-grants.json. Then the SDK, the CLI and
 * the health check talk to it: mTLS and --auth are on.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { createSwitchboardClient, PermissionDeniedError } from "@switchboard/client";
import { requireOpenssl } from "./support/certs.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startServeProcess } from "./support/serve-process.js";
import type { ServeProcess } from "./support/serve-process.js";

const run = promisify(execFile);
const DEPLOY = fileURLToPath(new URL("../deploy/", import.meta.url));
const SCRIPT = join(DEPLOY, "tls/make-certs.sh");

/** KEY=VALUE lines of an EnvironmentFile (comments and blank lines skipped). */
function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/** The unit's ExecStart arguments after the binary, and its Environment= settings. */
function parseUnit(text: string): { args: string[]; env: Record<string, string> } {
  const lines = text.split("\n").map((l) => l.trim());
  const execStart = lines.find((l) => l.startsWith("ExecStart="))!;
  const [binary, ...args] = execStart.slice("ExecStart=".length).split(/\s+/);
  expect(binary).toBe("/usr/local/bin/switchboard");
  const env = parseEnvironmentFile(
    lines
      .filter((l) => l.startsWith("Environment="))
      .map((l) => l.slice("Environment=".length))
      .join("\n"),
  );
  return { args, env };
}

describe.skipIf(!requireEtcd() || !requireOpenssl())("deploy/: make-certs.sh and the systemd unit's settings", () => {
  let dir: string;
  let etcd: EtcdServer;
  let serve: ServeProcess;
  let adminToken: string;
  const file = (name: string) => join(dir, name);
  const clientTls = () => ({ caFile: file("ca.crt"), certFile: file("client.crt"), keyFile: file("client.key") });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchboard-deploy-"));
    await run("bash", [SCRIPT, dir, "DNS:sb.example.com"]);
    adminToken = (await readFile(file("admin.token"), "utf8")).trim();
    etcd = await startEtcd({
      tls: {
        certFile: file("etcd.crt"),
        keyFile: file("etcd.key"),
        caFile: file("ca.crt"),
        clientCertAuth: true,
        client: { certFile: file("switchboard-etcd-client.crt"), keyFile: file("switchboard-etcd-client.key") },
      },
    });
    const unit = parseUnit(await readFile(join(DEPLOY, "systemd/switchboard.service"), "utf8"));
    const settings = { ...unit.env, ...parseEnvironmentFile(await readFile(join(DEPLOY, "systemd/switchboard.env"), "utf8")) };
    // Only what differs on a test machine: addresses, and where the installed files are.
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(settings)) {
      env[name] = value
        .replace(/^\/etc\/switchboard\/tls\//, `${dir}/`)
        .replace(/^\/etc\/switchboard\/cert-grants\.json$/, join(DEPLOY, "cert-grants.json"))
        .replace(/^\/var\/lib\/switchboard$/, file("data"));
      expect(env[name], `${name} points at a path this test does not map`).not.toMatch(/^\/(etc|var)\//);
    }
    env.SWITCHBOARD_ETCD_ENDPOINTS = etcd.endpoints.join(",");
    expect(env).toMatchObject({ SWITCHBOARD_AUTH: "true", SWITCHBOARD_TLS_CLIENT_CA_FILE: file("ca.crt") });
    // startServeProcess adds --listen/--http-listen 127.0.0.1:0 (flags win over the env file's 0.0.0.0:7000).
    serve = await startServeProcess(unit.args.slice(1), env);
    expect(unit.args[0]).toBe("serve");
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string }> {
    let stdout = "";
    const sink = new Writable({ write: (chunk, _encoding, done) => ((stdout += String(chunk)), done()) });
    const code = await runCli(args, COMMANDS, { env, stdout: sink, stderr: sink });
    return { code, stdout };
  }

  it("the bootstrap token from make-certs.sh is the first admin token; it registers over mTLS", async () => {
    expect(serve.cli.stdout()).toContain('"msg":"auth: bootstrap admin token created"');
    const whoami = await cli(["token", "whoami", "--json", "--address", serve.grpcAddress], {
      SWITCHBOARD_CA_FILE: file("ca.crt"),
      SWITCHBOARD_CERT_FILE: file("client.crt"),
      SWITCHBOARD_KEY_FILE: file("client.key"),
      SWITCHBOARD_TOKEN_FILE: file("admin.token"),
    });
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ identity: `token:${adminToken.split(".")[0]}` });

    const admin = createSwitchboardClient({ address: serve.grpcAddress, tls: clientTls(), token: adminToken });
    try {
      await admin.registry.register({
        instance: { namespace: "deploy", service: "web", instanceId: "w1", address: "127.0.0.1", port: 80 },
        ttlSeconds: 30,
      });
    } finally {
      admin.close();
    }
  });

  it("client.crt without a token reads (cert-grants.json: read@*) and is denied writes", async () => {
    const client = createSwitchboardClient({ address: serve.grpcAddress, tls: clientTls() });
    try {
      await expect(client.registry.listInstances({ namespace: "deploy", service: "web" })).resolves.toMatchObject({
        instances: [expect.objectContaining({ instanceId: "w1" })],
      });
      const denied = client.registry.register({
        instance: { namespace: "deploy", service: "web", instanceId: "w2", address: "127.0.0.1", port: 81 },
        ttlSeconds: 30,
      });
      await expect(denied).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(denied).rejects.toThrow('permission "register" on deploy/web required');
    } finally {
      client.close();
    }
  });

  it("the image's HEALTHCHECK (health-check with the compose file's variables) reports SERVING", async () => {
    const result = await cli(["health-check", "--address", serve.grpcAddress], {
      SWITCHBOARD_CA_FILE: file("ca.crt"),
      SWITCHBOARD_CERT_FILE: file("client.crt"),
      SWITCHBOARD_KEY_FILE: file("client.key"),
    });
    expect(result).toEqual({ code: 0, stdout: `${serve.grpcAddress}: SERVING\n` });
  });

  it("keeps existing files, the token included, when run again", async () => {
    const serial = async () => (await run("openssl", ["x509", "-in", file("switchboard.crt"), "-noout", "-serial"])).stdout;
    const before = { serial: await serial(), token: adminToken };
    await run("bash", [SCRIPT, dir]);
    expect({ serial: await serial(), token: (await readFile(file("admin.token"), "utf8")).trim() }).toEqual(before);
    expect(adminToken).toMatch(/^[a-z0-9]{16}\.[a-z0-9]{64}$/);
    expect((await stat(file("ca.key"))).mode & 0o777).toBe(0o600);
  });
});
