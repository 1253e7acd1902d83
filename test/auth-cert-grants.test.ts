/**
 * `switchboard serve --auth --auth-cert-grants FILE` under mTLS: a verified
 * client certificate's identity (URI SAN, else CN) gets the grants the file
 * binds to it, as a token would; an identity the file does not name gets
 * UNAUTHENTICATED; a bearer token, when sent, wins over the certificate.
 * Certificates made by openssl at test time.
 */
import { credentials } from "@grpc/grpc-js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClientError, createChannel, createClient, Metadata, Status } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthServiceDefinition } from "../generated/switchboard/auth/v1/auth.js";
import { RegistryServiceDefinition } from "../generated/switchboard/registry/v1/registry.js";
import { createTestPki, requireOpenssl } from "./support/certs.js";
import type { IssuedCert, TestPki } from "./support/certs.js";
import { startServeProcess } from "./support/serve-process.js";
import type { ServeProcess } from "./support/serve-process.js";

const ADMIN_TOKEN = `${"a1".repeat(8)}.${"S".repeat(43)}`;

describe.skipIf(!requireOpenssl())("serve --auth-cert-grants (mTLS identities bound to grants)", () => {
  let dir: string;
  let pki: TestPki;
  let reader: IssuedCert;
  let orders: IssuedCert;
  let stranger: IssuedCert;
  let serve: ServeProcess;
  const channels: Channel[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchboard-cert-grants-"));
    pki = await createTestPki();
    [reader, orders, stranger] = await Promise.all([
      // Bound by its URI SAN; its CN says something else and must not matter.
      pki.ca.issue("not-the-identity", { usage: "client", uri: "spiffe://shop/reader", fileName: "reader" }),
      // No URI SAN: bound by its CN.
      pki.ca.issue("orders-service", { usage: "client", fileName: "orders" }),
      pki.ca.issue("stranger", { usage: "client", uri: "spiffe://shop/stranger", fileName: "stranger" }),
    ]);
    const grantsFile = join(dir, "cert-grants.json");
    await writeFile(
      grantsFile,
      JSON.stringify({
        "spiffe://shop/reader": ["read@shop"],
        "orders-service": [{ namespace: "shop", service: "orders", role: "register" }],
      }),
    );
    const tokenFile = join(dir, "admin.token");
    await writeFile(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    serve = await startServeProcess(
      ["--auth", "--data-dir", join(dir, "data"), "--auth-bootstrap-token-file", tokenFile, "--log-level", "info"],
      {
        SWITCHBOARD_TLS_CERT_FILE: pki.server.certFile,
        SWITCHBOARD_TLS_KEY_FILE: pki.server.keyFile,
        SWITCHBOARD_TLS_CLIENT_CA_FILE: pki.ca.certFile,
        // The variable, as deploy/systemd/switchboard.env sets it.
        SWITCHBOARD_AUTH_CERT_GRANTS: grantsFile,
      },
    );
  }, 90_000);

  afterAll(async () => {
    for (const channel of channels) channel.close();
    await serve?.stop();
    await pki?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function clientsAs(cert: IssuedCert) {
    const channel = createChannel(
      serve.grpcAddress,
      credentials.createSsl(Buffer.from(pki.ca.cert), Buffer.from(cert.key), Buffer.from(cert.cert)),
    );
    channels.push(channel);
    return { registry: createClient(RegistryServiceDefinition, channel), auth: createClient(AuthServiceDefinition, channel) };
  }

  const instance = (service: string) => ({
    namespace: "shop",
    service,
    instanceId: `${service}-1`,
    address: "127.0.0.1",
    port: 8080,
  });

  async function failure(call: Promise<unknown>): Promise<{ code: Status; details: string }> {
    const error: unknown = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof ClientError)) throw new Error(`expected a ClientError, got ${String(error)}`);
    return { code: error.code, details: error.details };
  }

  it("a certificate bound to read@shop lists, and is denied register naming the permission and scope", async () => {
    const { registry, auth } = clientsAs(reader);
    expect(await auth.whoAmI({})).toMatchObject({ identity: "cert:spiffe://shop/reader" });
    const listed = await registry.listInstances({ namespace: "shop", service: "orders" });
    expect(listed.instances).toEqual([]);
    expect(await failure(registry.register({ instance: instance("orders"), ttlSeconds: 30 }))).toEqual({
      code: Status.PERMISSION_DENIED,
      details: 'permission "register" on shop/orders required',
    });
    // Nothing was written.
    expect((await registry.listInstances({ namespace: "shop", service: "orders" })).instances).toEqual([]);
  });

  it("a certificate bound by CN to register@shop/orders registers orders but not payments, and cannot list", async () => {
    const { registry } = clientsAs(orders);
    await registry.register({ instance: instance("orders"), ttlSeconds: 30 });
    expect(await failure(registry.register({ instance: instance("payments"), ttlSeconds: 30 }))).toEqual({
      code: Status.PERMISSION_DENIED,
      details: 'permission "register" on shop/payments required',
    });
    expect(await failure(registry.listInstances({ namespace: "shop", service: "orders" }))).toMatchObject({
      code: Status.PERMISSION_DENIED,
    });
    const { registry: asReader } = clientsAs(reader);
    const listed = await asReader.listInstances({ namespace: "shop", service: "orders" });
    expect(listed.instances.map((i) => i.instanceId)).toEqual(["orders-1"]);
  });

  it("a trusted certificate the file does not name is UNAUTHENTICATED; a bearer token wins over the certificate", async () => {
    const { registry, auth } = clientsAs(stranger);
    expect(await failure(registry.listInstances({ namespace: "shop" }))).toEqual({
      code: Status.UNAUTHENTICATED,
      details: "client certificate identity has no grants",
    });
    const asAdmin = { metadata: Metadata({ authorization: `Bearer ${ADMIN_TOKEN}` }) };
    expect(await auth.whoAmI({}, asAdmin)).toMatchObject({ identity: `token:${ADMIN_TOKEN.split(".")[0]}` });
    const { registry: asReaderWithToken } = clientsAs(reader);
    await asReaderWithToken.register({ instance: instance("billing"), ttlSeconds: 30 }, asAdmin);
  });
});
