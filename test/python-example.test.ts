/**
 * Polyglot proof: examples/python/registry_example.py, a client generated from
 * proto/ with Debian's protoc + grpc_python_plugin and run with /usr/bin/python3,
 * registers, heartbeats, keeps alive, watches and resumes against a real server
 * on a real etcd, asserting the contract itself (see the script's docstring).
 * The stubs are generated into a temporary directory here, never committed.
 */
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPki, requireOpenssl } from "./support/certs.js";
import type { TestPki } from "./support/certs.js";

import { randomBytes } from "node:crypto";
import { Role } from "../generated/switchboard/auth/v1/auth.js";
import { createSwitchboardClient } from "@switchboard/client";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const PYTHON = "/usr/bin/python3"; // Debian's: the pyenv python3 on PATH cannot see apt packages

/** Python with grpcio and protobuf, protoc and the gRPC plugin; under CI their absence fails the suite. */
function requirePythonTooling(): boolean {
  const missing: string[] = [];
  for (const file of [PYTHON, "/usr/bin/protoc", "/usr/bin/grpc_python_plugin"]) {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      missing.push(file);
    }
  }
  const message = `missing ${missing.join(", ")}: apt-get install -y python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc`;
  if (missing.length === 0) return true;
  if (process.env.CI) throw new Error(`${message}. CI is set, so the Python example must not be skipped.`);
  console.warn(`SKIPPING the Python example: ${message}.`);
  return false;
}

const etcdBinary = requireEtcd();
const pythonReady = requirePythonTooling();
const opensslReady = requireOpenssl();

async function runExample(address: string, stubs: string, extraEnv: Record<string, string> = {}) {
  return run(PYTHON, ["examples/python/registry_example.py", "--address", address], {
    cwd: REPO_ROOT,
    env: { ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: "1", ...extraEnv },
    timeout: 60_000,
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`registry_example.py failed:\n${error.stdout ?? ""}\n${error.stderr ?? error.message}`);
  });
}

describe.skipIf(!etcdBinary || !pythonReady)("examples/python against a real server on etcd", () => {
  let etcd: EtcdServer;
  let server: TestServer;
  let stubs: string;
  let pki: TestPki | undefined;

  beforeAll(async () => {
    stubs = await mkdtemp(join(tmpdir(), "switchboard-python-"));
    await run("npx", ["buf", "generate", "--template", "examples/python/buf.gen.yaml", "-o", stubs], { cwd: REPO_ROOT });
    etcd = await startEtcd();
    server = await startTestServer({ etcdEndpoints: etcd.endpoints });
  });

  afterAll(async () => {
    await server?.close();
    await etcd?.stop();
    await pki?.remove();
    if (stubs) await rm(stubs, { recursive: true, force: true });
  });

  it("registers, heartbeats, watches (expiry within TTL + 1 s) and resumes by revision", async () => {
    await run(PYTHON, ["-c", "import grpc, google.protobuf"]); // python3-grpcio / python3-protobuf present
    const { stdout, stderr } = await runExample(server.grpcAddress, stubs);
    expect(stderr).toBe("");
    const lines = stdout.trim().split("\n");
    expect(lines.at(-1)).toBe("OK");
    expect(stdout).toMatch(/doomed \(no heartbeat\) removed \d+\.\d+ s after registering with ttl 2 s/);
    expect(stdout).toContain("heartbeat on the expired lease: NOT_FOUND");
    expect(stdout).toContain("resumed after revision");
  }, 90_000);

  it.skipIf(!opensslReady)(
    "works against an mTLS server with the CA and client certificate from SWITCHBOARD_* variables",
    async () => {
      pki = await createTestPki();
      const secure = await startTestServer({
        etcdEndpoints: etcd.endpoints,
        tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.certFile },
      });
      try {
        const { stdout, stderr } = await runExample(secure.grpcAddress, stubs, {
          SWITCHBOARD_CA_FILE: pki.ca.certFile,
          SWITCHBOARD_CERT_FILE: pki.client.certFile,
          SWITCHBOARD_KEY_FILE: pki.client.keyFile,
        });
        expect(stderr).toBe("");
        expect(stdout.trim().split("\n").at(-1)).toBe("OK");
      } finally {
        await secure.close();
      }
    },
    90_000,
  );

  it("works against a server with TLS and --auth, with a token scoped to its namespace ($SWITCHBOARD_TOKEN)", async () => {
    const bootstrapToken = `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;
    // TLS too (server certificate, CA from $SWITCHBOARD_CA_FILE): how a token travels in production.
    const tlsPki = opensslReady ? (pki ??= await createTestPki()) : undefined;
    const secured = await startTestServer({
      etcdEndpoints: etcd.endpoints,
      auth: { bootstrapToken },
      ...(tlsPki && { tls: { certFile: tlsPki.server.certFile, keyFile: tlsPki.server.keyFile } }),
    });
    const admin = createSwitchboardClient({
      address: secured.grpcAddress,
      token: bootstrapToken,
      tls: tlsPki ? { caFile: tlsPki.ca.certFile } : false,
    });
    try {
      const { secret } = await admin.auth.createToken({
        description: "python example",
        grants: [
          { namespace: "py-auth", service: "", role: Role.ROLE_REGISTER },
          { namespace: "py-auth", service: "", role: Role.ROLE_READ },
        ],
      });
      const script = ["examples/python/registry_example.py", "--address", secured.grpcAddress, "--namespace", "py-auth"];
      const env = {
        ...process.env,
        PYTHONPATH: stubs,
        PYTHONDONTWRITEBYTECODE: "1",
        ...(tlsPki && { SWITCHBOARD_CA_FILE: tlsPki.ca.certFile }),
      };
      const { stdout } = await run(PYTHON, script, {
        cwd: REPO_ROOT,
        env: { ...env, SWITCHBOARD_TOKEN: secret },
        timeout: 60_000,
      }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`registry_example.py failed:\n${error.stdout ?? ""}\n${error.stderr ?? error.message}`);
      });
      expect(stdout.trim().split("\n").at(-1)).toBe("OK");
      // Without the token the same script is refused at its first call.
      const refused = await run(PYTHON, script, {
        cwd: REPO_ROOT,
        env: { ...env, SWITCHBOARD_TOKEN: "" },
        timeout: 60_000,
      }).catch((error: { stderr?: string }) => error);
      expect((refused as { stderr?: string }).stderr).toContain("UNAUTHENTICATED");
    } finally {
      admin.close();
      await secured.close();
    }
  }, 120_000);
});
