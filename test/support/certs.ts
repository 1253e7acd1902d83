/**
 * Certificates for TLS tests, made with the openssl command at test time in a
 * temporary directory (never committed). EC P-256 keys: fast to make on a busy
 * machine and accepted by Node, etcd (Go) and Python grpcio.
 *
 * ```ts
 * const opensslBinary = requireOpenssl(); // undefined (skip) without openssl, throws under CI
 * describe.skipIf(!opensslBinary)("over TLS", () => {
 *   let pki: TestPki;
 *   beforeAll(async () => { pki = await createTestPki(); });
 *   afterAll(() => pki.remove());
 *   // pki.ca.certFile, pki.server.{certFile,keyFile}, pki.client.{certFile,keyFile}
 *   // const alice = await pki.ca.issue("alice", { usage: "client", uri: "spiffe://example/alice" });
 *   // pki.untrustedClient: signed by another CA, which servers must reject
 * });
 * ```
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A certificate and its private key, as files and as PEM text. */
export interface IssuedCert {
  certFile: string;
  keyFile: string;
  /** PEM of the certificate. */
  cert: string;
  /** PEM of the private key (PKCS#8). */
  key: string;
}

export interface IssueOptions {
  /** "server" (serverAuth, 127.0.0.1/::1/localhost SANs by default), "client" (clientAuth) or "both". Default "server". */
  usage?: "server" | "client" | "both";
  /** DNS names for the subjectAltName. Default for server certs: ["localhost"]. */
  dns?: string[];
  /** IP addresses for the subjectAltName. Default for server certs: ["127.0.0.1", "::1"]. */
  ips?: string[];
  /** A URI SAN (e.g. "spiffe://switchboard/orders"), the identity mTLS peers read first. */
  uri?: string;
  /** Days of validity. Default 2. */
  days?: number;
  /** File name stem in the PKI directory. Default: the common name. */
  fileName?: string;
}

export interface TestCa extends IssuedCert {
  /** Signs a new certificate with this CA and writes it to `<dir>/<fileName>.{crt,key}`. */
  issue(commonName: string, options?: IssueOptions): Promise<IssuedCert>;
}

export interface TestPki {
  /** The temporary directory holding every file. */
  dir: string;
  /** The CA that servers and clients trust. */
  ca: TestCa;
  /** Server certificate for 127.0.0.1, ::1 and localhost, signed by ca. */
  server: IssuedCert;
  /** Client certificate (CN "test-client", URI SAN spiffe://switchboard/test-client), signed by ca. */
  client: IssuedCert;
  /** A second CA that nobody trusts. */
  untrustedCa: TestCa;
  /** Client certificate (CN "intruder") signed by untrustedCa. */
  untrustedClient: IssuedCert;
  /** Deletes the directory. */
  remove(): Promise<void>;
}

/** Path of the openssl binary on PATH (or /usr/bin/openssl), or undefined. */
export function findOpenssl(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, "openssl");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

/**
 * The openssl binary for a suite that needs certificates. Without it: under CI
 * (env CI set) this throws, so the suite fails loudly; elsewhere it warns and
 * returns undefined, for `describe.skipIf(!requireOpenssl())`.
 */
export function requireOpenssl(): string | undefined {
  const binary = findOpenssl();
  if (binary) return binary;
  const message = "openssl is not installed; install the openssl package to run the TLS tests";
  if (process.env.CI) throw new Error(`${message}. CI is set, so these tests must not be skipped.`);
  console.warn(`SKIPPING TLS tests: ${message}.`);
  return undefined;
}

/** A CA, a server and a client certificate, and an untrusted CA with its own client certificate. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-pki-"));
  try {
    const [ca, untrustedCa] = await Promise.all([createTestCa(dir, "test-ca"), createTestCa(dir, "untrusted-ca")]);
    const [server, client, untrustedClient] = await Promise.all([
      ca.issue("localhost", { usage: "server", fileName: "server" }),
      ca.issue("test-client", { usage: "client", uri: "spiffe://switchboard/test-client", fileName: "client" }),
      untrustedCa.issue("intruder", { usage: "client", fileName: "intruder" }),
    ]);
    return { dir, ca, server, client, untrustedCa, untrustedClient, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A self-signed CA written to `<dir>/<name>.{crt,key}`. */
export async function createTestCa(dir: string, name: string, days = 2): Promise<TestCa> {
  const openssl = opensslOrThrow();
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  await run(openssl, [
    "req",
    "-x509",
    "-new",
    "-nodes",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    String(days),
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const [cert, key] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
  const ca: TestCa = {
    certFile,
    keyFile,
    cert,
    key,
    issue: (commonName, options = {}) => issue(openssl, dir, ca, commonName, options),
  };
  return ca;
}

async function issue(
  openssl: string,
  dir: string,
  ca: IssuedCert,
  commonName: string,
  options: IssueOptions,
): Promise<IssuedCert> {
  const usage = options.usage ?? "server";
  const serverUse = usage !== "client";
  const stem = options.fileName ?? commonName;
  const keyFile = join(dir, `${stem}.key`);
  const certFile = join(dir, `${stem}.crt`);
  // Written under temporary names and renamed into place: a server watching
  // these files (rotation tests) never reads a half-written pair.
  const nonce = randomBytes(4).toString("hex");
  const tmpKey = `${keyFile}.${nonce}.tmp`;
  const tmpCsr = join(dir, `${stem}.${nonce}.csr`);
  const tmpCert = `${certFile}.${nonce}.tmp`;
  const extFile = join(dir, `${stem}.${nonce}.ext`);
  const sans = [
    ...(options.dns ?? (serverUse ? ["localhost"] : [])).map((name) => `DNS:${name}`),
    ...(options.ips ?? (serverUse ? ["127.0.0.1", "::1"] : [])).map((ip) => `IP:${ip}`),
    ...(options.uri ? [`URI:${options.uri}`] : []),
  ];
  const extendedUsage = { server: "serverAuth", client: "clientAuth", both: "serverAuth,clientAuth" }[usage];
  const ext = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${extendedUsage}`,
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
  ];
  try {
    await writeFile(extFile, ext.join("\n") + "\n");
    await run(openssl, [
      "req",
      "-new",
      "-nodes",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-keyout",
      tmpKey,
      "-out",
      tmpCsr,
      "-subj",
      `/CN=${commonName}`,
    ]);
    await run(openssl, [
      "x509",
      "-req",
      "-in",
      tmpCsr,
      "-CA",
      ca.certFile,
      "-CAkey",
      ca.keyFile,
      "-set_serial",
      `0x${randomBytes(12).toString("hex")}`,
      "-days",
      String(options.days ?? 2),
      "-extfile",
      extFile,
      "-out",
      tmpCert,
    ]);
    const [cert, key] = await Promise.all([readFile(tmpCert, "utf8"), readFile(tmpKey, "utf8")]);
    await rename(tmpKey, keyFile);
    await rename(tmpCert, certFile);
    return { certFile, keyFile, cert, key };
  } finally {
    await Promise.all([tmpKey, tmpCsr, tmpCert, extFile].map((file) => rm(file, { force: true })));
  }
}

function opensslOrThrow(): string {
  const binary = findOpenssl();
  if (!binary) throw new Error("openssl is not installed");
  return binary;
}
