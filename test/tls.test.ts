import { once } from "node:events";
import { request } from "node:https";
import { TLSSocket, connect } from "node:tls";
import { ChannelCredentials, ClientError, Metadata, Status, createChannel, createClient } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bootstrap, createSwitchboardClient } from "@switchboard/client";
import { startAgent } from "./support/start-agent.js";
import type { SwitchboardClient } from "@switchboard/client";
import { peerIdentity } from "../src/server/index.js";
import { createTestPki, requireOpenssl } from "./support/certs.js";
import type { IssuedCert, TestPki } from "./support/certs.js";
import { EchoDefinition } from "./support/echo-server.js";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const SERVING = 1;

/** Echo/WhoAmI answers the caller's certificate identity as the server sees it. */
const identityService = {
  definition: EchoDefinition,
  implementation: {
    async whoAmI(_request: { text: string }, context: Parameters<typeof peerIdentity>[0]) {
      return { text: peerIdentity(context) ?? "(none)" };
    },
  },
};

function sslCredentials(pki: TestPki, client?: IssuedCert): ChannelCredentials {
  return ChannelCredentials.createSsl(
    Buffer.from(pki.ca.cert),
    client ? Buffer.from(client.key) : null,
    client ? Buffer.from(client.cert) : null,
  );
}

async function healthStatus(address: string, credentials: ChannelCredentials): Promise<number | Status> {
  const channel = createChannel(address, credentials);
  try {
    const { status } = await createClient(HealthDefinition, channel).check(
      { service: "" },
      { signal: AbortSignal.timeout(10_000) },
    );
    return status;
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    throw error;
  } finally {
    channel.close();
  }
}

/** Metadata claiming an identity under the key the server uses internally. */
const FORGED = () => Metadata({ "switchboard-peer-identity-bin": Buffer.from("admin") });

async function whoAmI(address: string, credentials: ChannelCredentials, metadata?: Metadata): Promise<string> {
  const channel = createChannel(address, credentials);
  try {
    const client = createClient(EchoDefinition, channel);
    const { text } = await client.whoAmI({ text: "" }, { signal: AbortSignal.timeout(10_000), ...(metadata && { metadata }) });
    return text;
  } finally {
    channel.close();
  }
}

/** The common name of the certificate a fresh TLS connection to address gets. */
async function servedCommonName(address: string, pki: TestPki, client?: IssuedCert): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  const socket = connect({
    host,
    port,
    ca: pki.ca.cert,
    ALPNProtocols: ["h2", "http/1.1"],
    ...(client && { cert: client.cert, key: client.key }),
  });
  try {
    await once(socket, "secureConnect");
    return String(socket.getPeerCertificate().subject.CN);
  } finally {
    socket.destroy();
  }
}

function httpsGet(address: string, path: string, pki: TestPki, client?: IssuedCert): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `https://${address}${path}`,
      { ca: pki.ca.cert, ...(client && { cert: client.cert, key: client.key }), signal: AbortSignal.timeout(10_000) },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe.skipIf(!requireOpenssl())("TLS on the gRPC and HTTP ports", () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });
  afterAll(() => pki?.remove());

  describe("server TLS without client certificates", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({
        tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
        extraServices: [identityService],
      });
    });
    afterAll(() => server?.close());

    it("serves clients that trust the CA, and refuses plaintext clients", async () => {
      expect(await healthStatus(server.grpcAddress, sslCredentials(pki))).toBe(SERVING);
      expect(await healthStatus(server.grpcAddress, ChannelCredentials.createInsecure())).toBe(Status.UNAVAILABLE);
    });

    it("refuses clients that do not trust the server's CA", async () => {
      const wrongCa = ChannelCredentials.createSsl(Buffer.from(pki.untrustedCa.cert));
      expect(await healthStatus(server.grpcAddress, wrongCa)).toBe(Status.UNAVAILABLE);
    });

    it("reports no certificate identity without mTLS, and ignores one a client claims in metadata", async () => {
      expect(await whoAmI(server.grpcAddress, sslCredentials(pki), FORGED())).toBe("(none)");
    });

    it("serves /healthz over HTTPS", async () => {
      const { status, body } = await httpsGet(server.httpAddress, "/healthz", pki);
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ status: "SERVING" });
      await expect(fetch(`http://${server.httpAddress}/healthz`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    });

    it("the SDK client works with a CA file", async () => {
      const client = createSwitchboardClient({ address: server.grpcAddress, tls: { caFile: pki.ca.certFile } });
      try {
        const { revision } = await client.registry.register({
          instance: { namespace: "default", service: "orders", instanceId: "tls-1", address: "127.0.0.1", port: 8000 },
          ttlSeconds: 30,
        });
        expect(Number(revision)).toBeGreaterThan(0);
        const { instances } = await client.registry.listInstances({ namespace: "default", service: "orders" });
        expect(instances.map((instance) => instance.instanceId)).toContain("tls-1");
      } finally {
        client.close();
      }
    });

    it("bootstrap() and the agent work over TLS (bootstrap's tls from its env)", async () => {
      const admin = createSwitchboardClient({ address: server.grpcAddress, tls: { caFile: pki.ca.certFile } });
      try {
        await admin.config.putValue({
          scope: { namespace: "tls", service: "app", profile: "" },
          key: "greeting",
          value: "hello",
          contentType: "",
          author: "test",
        });
        const config = await bootstrap({
          address: server.grpcAddress,
          env: { SWITCHBOARD_NAMESPACE: "tls", SWITCHBOARD_SERVICE: "app", SWITCHBOARD_CA_FILE: pki.ca.certFile },
          cacheFile: false,
          logger: { info() {}, warn() {}, error() {}, debug() {} } as never,
        });
        try {
          expect(config.source).toBe("control-plane");
          expect(config.get("greeting")).toBe("hello");
        } finally {
          config.close();
        }
        const agent = await startAgent({
          client: admin,
          instance: { namespace: "tls", service: "app", address: "127.0.0.1", port: 7777 },
          ttlSeconds: 5,
        });
        try {
          const { instances } = await admin.registry.listInstances({ namespace: "tls", service: "app" });
          expect(instances.map((instance) => instance.port)).toEqual([7777]);
        } finally {
          await agent.stop();
        }
      } finally {
        admin.close();
      }
    });
  });

  describe("mTLS (--tls-client-ca-file)", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({
        tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.certFile },
        extraServices: [identityService],
      });
    });
    afterAll(() => server?.close());

    it("accepts a client certificate signed by the client CA and exposes its identity (URI SAN first)", async () => {
      expect(await healthStatus(server.grpcAddress, sslCredentials(pki, pki.client))).toBe(SERVING);
      expect(await whoAmI(server.grpcAddress, sslCredentials(pki, pki.client))).toBe("spiffe://switchboard/test-client");
      expect(await whoAmI(server.grpcAddress, sslCredentials(pki, pki.client), FORGED())).toBe(
        "spiffe://switchboard/test-client",
      );
    });

    it("decodes the client certificate once per connection, not once per call", async () => {
      const spy = vi.spyOn(TLSSocket.prototype, "getPeerCertificate");
      const channel = createChannel(server.grpcAddress, sslCredentials(pki, pki.client));
      try {
        const client = createClient(EchoDefinition, channel);
        for (let i = 0; i < 5; i++) expect((await client.whoAmI({ text: "" })).text).toBe("spiffe://switchboard/test-client");
        // Server side only: the client's own verification reads the server's certificate, not the peer's of a server socket.
        const serverSideCalls = spy.mock.contexts.filter(
          (socket) => (socket as TLSSocket & { server?: unknown }).server !== undefined,
        );
        expect(serverSideCalls.length).toBe(1);
      } finally {
        channel.close();
        spy.mockRestore();
      }
    });

    it("uses the common name when the certificate has no URI SAN", async () => {
      const plain = await pki.ca.issue("orders-service", { usage: "client", fileName: "orders-service" });
      expect(await whoAmI(server.grpcAddress, sslCredentials(pki, plain))).toBe("orders-service");
    });

    it("refuses clients without a certificate and clients whose certificate another CA signed", async () => {
      expect(await healthStatus(server.grpcAddress, sslCredentials(pki))).toBe(Status.UNAVAILABLE);
      expect(await healthStatus(server.grpcAddress, sslCredentials(pki, pki.untrustedClient))).toBe(Status.UNAVAILABLE);
    });

    it("requires the client certificate on the HTTP port too", async () => {
      expect((await httpsGet(server.httpAddress, "/healthz", pki, pki.client)).status).toBe(200);
      await expect(httpsGet(server.httpAddress, "/healthz", pki)).rejects.toThrow();
      await expect(httpsGet(server.httpAddress, "/healthz", pki, pki.untrustedClient)).rejects.toThrow();
    });
  });

  describe("certificate rotation", () => {
    let server: TestServer;
    let client: SwitchboardClient;
    beforeAll(async () => {
      await pki.ca.issue("first-cert", { fileName: "rotating" });
      server = await startTestServer({
        tls: { certFile: `${pki.dir}/rotating.crt`, keyFile: `${pki.dir}/rotating.key`, watchIntervalMs: 100 },
      });
      client = createSwitchboardClient({ address: server.grpcAddress, tls: { caFile: pki.ca.certFile } });
    });
    afterAll(async () => {
      client?.close();
      await server?.close();
    });

    it("new connections get the replaced certificate while an open Watch stream keeps working", async () => {
      expect(await servedCommonName(server.grpcAddress, pki)).toBe("first-cert");
      const watchAbort = new AbortController();
      const seen = new Set<string>();
      const stream = client.registry.watch(
        { namespace: "rotation", service: "web", includeUnroutable: true, tags: [], zone: "", sinceRevision: "0" },
        { signal: watchAbort.signal },
      );
      const consuming = (async () => {
        try {
          for await (const message of stream) {
            if (message.kind?.$case === "event") seen.add(message.kind.value.instance?.instanceId ?? "");
            if (message.kind?.$case === "snapshot")
              for (const instance of message.kind.value.instances) seen.add(instance.instanceId);
          }
        } catch (error) {
          if (!watchAbort.signal.aborted) throw error;
        }
      })();
      const register = (instanceId: string, port: number) =>
        client.registry.register({
          instance: { namespace: "rotation", service: "web", instanceId, address: "127.0.0.1", port },
          ttlSeconds: 60,
        });
      try {
        await register("before", 9001);
        await eventually(() => seen.has("before"), 10_000, "the watch sees the first instance");

        // Rename into place, as certificate tools do; the server polls the files.
        await pki.ca.issue("second-cert", { fileName: "rotating" });
        await eventually(
          async () => (await servedCommonName(server.grpcAddress, pki)) === "second-cert",
          15_000,
          "new connections get the new certificate",
        );
        expect(await servedCommonName(server.httpAddress, pki)).toBe("second-cert");

        // The stream opened on the first certificate still delivers.
        const fresh = createSwitchboardClient({ address: server.grpcAddress, tls: { caFile: pki.ca.certFile } });
        try {
          await fresh.registry.register({
            instance: { namespace: "rotation", service: "web", instanceId: "after", address: "127.0.0.1", port: 9002 },
            ttlSeconds: 60,
          });
        } finally {
          fresh.close();
        }
        await eventually(() => seen.has("after"), 10_000, "the open watch sees the instance registered after the rotation");
      } finally {
        watchAbort.abort();
        await consuming;
      }
    });

    it("reloadCertificates (SIGHUP in serve) installs new files at once, and keeps the old ones when the new are broken", async () => {
      await pki.ca.issue("third-cert", { fileName: "rotating" });
      // Either the poll or this call installs them; both leave the same result.
      await server.reloadCertificates();
      expect(await servedCommonName(server.grpcAddress, pki)).toBe("third-cert");

      const { writeFile } = await import("node:fs/promises");
      await writeFile(`${pki.dir}/rotating.key`, "not a key\n");
      expect(await server.reloadCertificates()).toBe(false);
      expect(await servedCommonName(server.grpcAddress, pki)).toBe("third-cert");
      expect(await healthStatus(server.grpcAddress, sslCredentials(pki))).toBe(SERVING);
    });
  });

  it("a server does not start with a key that does not match its certificate", async () => {
    await expect(startTestServer({ tls: { certFile: pki.server.certFile, keyFile: pki.client.keyFile } })).rejects.toThrow(
      /unusable TLS files/,
    );
  });
});
