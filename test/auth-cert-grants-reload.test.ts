/**
 * `switchboard serve --auth-cert-grants FILE` re-reads the file like the TLS
 * certificates: on SIGHUP and when the file changes, without a restart and on
 * connections already open; a file that does not parse keeps the grants loaded
 * last and logs an error. The real CLI, certificates made by openssl at test time.
 */
import { credentials } from "@grpc/grpc-js";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClientError, createChannel, createClient, Status } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryServiceDefinition } from "../generated/switchboard/registry/v1/registry.js";
import { createTestPki, requireOpenssl } from "./support/certs.js";
import type { IssuedCert, TestPki } from "./support/certs.js";
import { eventually } from "./support/eventually.js";
import { startServeProcess } from "./support/serve-process.js";
import type { ServeProcess } from "./support/serve-process.js";

const ADMIN_TOKEN = `${"b2".repeat(8)}.${"R".repeat(43)}`;
const IDENTITY = "spiffe://shop/late";

describe.skipIf(!requireOpenssl())("serve --auth-cert-grants reloads", () => {
  let dir: string;
  let grantsFile: string;
  let pki: TestPki;
  let late: IssuedCert;
  let serve: ServeProcess;
  let channel: Channel;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchboard-cert-grants-reload-"));
    pki = await createTestPki();
    late = await pki.ca.issue("late", { usage: "client", uri: IDENTITY, fileName: "late" });
    grantsFile = join(dir, "cert-grants.json");
    await writeFile(grantsFile, JSON.stringify({ "spiffe://shop/other": ["read@shop"] }));
    const tokenFile = join(dir, "admin.token");
    await writeFile(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    serve = await startServeProcess(
      [
        "--auth",
        "--data-dir",
        join(dir, "data"),
        "--auth-bootstrap-token-file",
        tokenFile,
        "--auth-cert-grants",
        grantsFile,
        "--log-level",
        "info",
      ],
      {
        SWITCHBOARD_TLS_CERT_FILE: pki.server.certFile,
        SWITCHBOARD_TLS_KEY_FILE: pki.server.keyFile,
        SWITCHBOARD_TLS_CLIENT_CA_FILE: pki.ca.certFile,
      },
    );
    // One connection for the whole file: new grants must reach connections already open.
    channel = createChannel(
      serve.grpcAddress,
      credentials.createSsl(Buffer.from(pki.ca.cert), Buffer.from(late.key), Buffer.from(late.cert)),
    );
  }, 90_000);

  afterAll(async () => {
    channel?.close();
    await serve?.stop();
    await pki?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The status of a ListInstances in namespace shop as the certificate "late". */
  async function listStatus(): Promise<Status> {
    const registry = createClient(RegistryServiceDefinition, channel);
    try {
      await registry.listInstances({ namespace: "shop", service: "orders" });
      return Status.OK;
    } catch (error) {
      if (error instanceof ClientError) return error.code;
      throw error;
    }
  }

  const count = (pattern: RegExp) =>
    serve.cli
      .stdout()
      .split("\n")
      .filter((line) => pattern.test(line)).length;

  it("SIGHUP installs new grants; a file that does not parse keeps them, with an error logged", async () => {
    expect(await listStatus()).toBe(Status.UNAUTHENTICATED);

    await writeFile(grantsFile, JSON.stringify({ [IDENTITY]: ["read@shop"] }));
    serve.cli.kill("SIGHUP");
    await eventually(async () => (await listStatus()) === Status.OK, 15_000, "the new grant applies");

    const errorsBefore = count(/certificate grants not reloaded/);
    await writeFile(grantsFile, `{ "${IDENTITY}": ["read@shop"`);
    serve.cli.kill("SIGHUP");
    await eventually(() => count(/certificate grants not reloaded/) > errorsBefore, 15_000, "the error is logged");
    const line = serve.cli
      .stdout()
      .split("\n")
      .filter((l) => /certificate grants not reloaded/.test(l))
      .at(-1)!;
    expect(JSON.parse(line)).toMatchObject({ level: 50, file: grantsFile });
    expect(line).toContain("not valid JSON");
    expect(await listStatus()).toBe(Status.OK);
  });

  it("a file replaced by rename is picked up without a signal", async () => {
    const next = join(dir, "cert-grants.next.json");
    // A grant elsewhere: the identity is known but may no longer read shop.
    await writeFile(next, JSON.stringify({ [IDENTITY]: ["read@billing"] }));
    await rename(next, grantsFile);
    await eventually(async () => (await listStatus()) === Status.PERMISSION_DENIED, 15_000, "the narrowed grant applies");

    await writeFile(grantsFile, JSON.stringify({ "spiffe://shop/other": ["read@shop"] }));
    await eventually(async () => (await listStatus()) === Status.UNAUTHENTICATED, 15_000, "the removed identity is refused");
  });
});
