import { X509Certificate } from "node:crypto";
import { unwatchFile, watchFile } from "node:fs";
import type { Stats } from "node:fs";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import type { SecureContextOptions } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { serialReload } from "./serial-reload.js";

/** TLS for the gRPC and HTTP ports (ServerOptions.tls). */
export interface ServerTlsOptions {
  /** PEM certificate (chain) file, served on both ports. Required. */
  certFile: string;
  /** PEM private key file of certFile. Required. */
  keyFile: string;
  /**
   * PEM CA bundle. When set, both ports require a client certificate signed
   * by one of these CAs (mTLS) and refuse connections without one. Default: unset
   * (no client certificates asked for).
   */
  clientCaFile?: string;
  /**
   * How often the files are checked for changes, in ms. A change (or
   * `RunningServer.reloadCertificates()`, which `serve` calls on SIGHUP) re-reads all
   * of them; new connections get the new certificates, open ones keep theirs.
   * Default 1,000.
   */
  watchIntervalMs?: number;
}

/** The certificate material of one load, as Node's TLS takes it. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** Set under mTLS: the CAs client certificates must chain to. */
  ca?: Buffer;
}

/** The server's TLS state: credentials for grpc-js, options for node:https, and the reload loop. */
export interface ServerTls {
  /** grpc-js credentials that follow every reload. */
  readonly grpcCredentials: ServerCredentials;
  /** Whether clients must present a certificate (mTLS). */
  readonly requireClientCertificate: boolean;
  /** The material loaded last (what new connections get). */
  current(): TlsMaterial;
  /** Calls listener with the material of every later successful reload; returns the unsubscribe function. */
  onReload(listener: (material: TlsMaterial) => void): () => void;
  /**
   * Re-reads the files now. Resolves true when new material was installed,
   * false when nothing changed or the files are unusable (the old material
   * stays, with a warning logged: a half-written pair must not take the ports down).
   */
  reload(): Promise<boolean>;
  /** Stops watching the files. */
  close(): void;
}

export const DEFAULT_TLS_WATCH_INTERVAL_MS = 1_000;

/**
 * Loads the certificate files (throwing, with the file named, when they are
 * unusable: a server must not start with broken TLS) and watches them.
 *
 *   const tls = await createServerTls({ certFile, keyFile, clientCaFile }, logger);
 *   grpcServer.listen(address, tls.grpcCredentials);
 *   https.createServer({ ...tls.current(), requestCert: tls.requireClientCertificate }, …)
 */
export async function createServerTls(options: ServerTlsOptions, logger: Logger): Promise<ServerTls> {
  const requireClientCertificate = options.clientCaFile !== undefined;
  let material = await loadTlsMaterial(options);
  logger.info({ ...describeMaterial(material), mtls: requireClientCertificate }, "TLS certificates loaded");

  const credentials = new ReloadableServerCredentials(
    // rejectUnauthorized: Node then ends the handshake of a client without a trusted certificate.
    { requestCert: requireClientCertificate, rejectUnauthorized: requireClientCertificate },
    material,
  );
  const listeners = new Set<(material: TlsMaterial) => void>();

  const reloadOnce = async (): Promise<boolean> => {
    let next: TlsMaterial;
    try {
      next = await loadTlsMaterial(options);
    } catch (error) {
      logger.warn({ err: error }, "TLS certificates not reloaded; keeping the previous ones");
      return false;
    }
    if (sameMaterial(next, material)) return false;
    material = next;
    credentials.update(material);
    for (const listener of listeners) listener(material);
    logger.info(describeMaterial(material), "TLS certificates reloaded");
    return true;
  };
  const reload = serialReload(reloadOnce);

  const files = [options.certFile, options.keyFile, ...(options.clientCaFile ? [options.clientCaFile] : [])];
  // Polling stat rather than fs.watch: certificate tools (and Kubernetes secret
  // volumes) replace files by rename, which an inode watch does not follow.
  const onChange = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    void reload();
  };
  const interval = options.watchIntervalMs ?? DEFAULT_TLS_WATCH_INTERVAL_MS;
  for (const file of files) watchFile(file, { interval, persistent: false }, onChange);

  return {
    grpcCredentials: credentials,
    requireClientCertificate,
    current: () => material,
    onReload(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload,
    close() {
      for (const file of files) unwatchFile(file, onChange);
      listeners.clear();
    },
  };
}

/** Reads and checks the files: the key must match the certificate, every PEM must parse. */
export async function loadTlsMaterial(
  options: Pick<ServerTlsOptions, "certFile" | "keyFile" | "clientCaFile">,
): Promise<TlsMaterial> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
  };
  const [cert, key, ca] = await Promise.all([
    read(options.certFile, "certificate"),
    read(options.keyFile, "key"),
    options.clientCaFile ? read(options.clientCaFile, "client CA") : undefined,
  ]);
  const material: TlsMaterial = ca ? { cert, key, ca } : { cert, key };
  try {
    new X509Certificate(cert);
    if (ca) new X509Certificate(ca);
    // Throws on a key that does not match the certificate, or unparsable PEM.
    createSecureContext(material);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const files = [options.certFile, options.keyFile, options.clientCaFile].filter(Boolean).join(", ");
    // The reason is OpenSSL's ("key values mismatch", "no start line"): never key material.
    throw new Error(`unusable TLS files (${files}): ${reason}`, { cause: error });
  }
  return material;
}

/**
 * grpc-js credentials whose secure context can change after listen(): grpc-js
 * subscribes each listening port to its credentials and calls setSecureContext
 * on update, which applies to new connections only, so open streams continue.
 */
class ReloadableServerCredentials extends ServerCredentials {
  constructor(constructorOptions: { requestCert: boolean; rejectUnauthorized: boolean }, material: TlsMaterial) {
    super(constructorOptions, contextOptions(material));
  }

  update(material: TlsMaterial): void {
    this.updateSecureContextOptions(contextOptions(material));
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

function contextOptions(material: TlsMaterial): SecureContextOptions {
  return { cert: material.cert, key: material.key, ...(material.ca && { ca: material.ca }) };
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const sameCa = a.ca && b.ca ? a.ca.equals(b.ca) : a.ca === b.ca;
  return sameCa && a.cert.equals(b.cert) && a.key.equals(b.key);
}

/** What the logs say about a certificate: never the key. */
function describeMaterial(material: TlsMaterial): Record<string, string> {
  const cert = new X509Certificate(material.cert);
  return { subject: cert.subject.replace(/\n/g, ", "), notAfter: cert.validTo, sha256: cert.fingerprint256 };
}
