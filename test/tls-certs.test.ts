import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { connect, createServer } from "node:tls";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPki, requireOpenssl } from "./support/certs.js";
import type { IssuedCert, TestPki } from "./support/certs.js";

// The certificate helper other TLS tests rely on: what it makes is what a TLS stack verifies.
describe.skipIf(!requireOpenssl())("test certificates (openssl)", () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });
  afterAll(() => pki?.remove());

  it("issues a server certificate for the loopback names and a client certificate with a URI SAN", () => {
    const ca = new X509Certificate(pki.ca.cert);
    const server = new X509Certificate(pki.server.cert);
    const client = new X509Certificate(pki.client.cert);
    expect(server.checkIssued(ca)).toBe(true);
    expect(client.checkIssued(ca)).toBe(true);
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(client.subjectAltName).toBe("URI:spiffe://switchboard/test-client");
    expect(new X509Certificate(pki.untrustedClient.cert).checkIssued(ca)).toBe(false);
  });

  it("a TLS server requiring client certificates accepts the trusted client and refuses the untrusted one", async () => {
    const server = createServer(
      { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true },
      (socket) => {
        accepted.push(String(socket.getPeerCertificate().subject?.CN));
        socket.end("hello");
      },
    );
    const accepted: string[] = [];
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const talk = (client: IssuedCert) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port, ca: pki.ca.cert, cert: client.cert, key: client.key });
        let data = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => (data += chunk));
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });
    try {
      await expect(talk(pki.client)).resolves.toBe("hello");
      // Under TLS 1.3 the client may finish its handshake before the server refuses the
      // certificate, so the refusal is observed on the server and as a missing greeting.
      const refused = once(server, "tlsClientError");
      expect(await talk(pki.untrustedClient).catch(() => "refused")).not.toBe("hello");
      await refused;
      expect(accepted).toEqual(["test-client"]);
    } finally {
      server.close();
    }
  });
});
