import { readFileSync } from "node:fs";
import { ChannelCredentials } from "nice-grpc";

/** Environment variable naming the PEM CA file that signed the control plane's certificate. */
export const CA_FILE_ENV = "SWITCHBOARD_CA_FILE";
/** Environment variable naming the PEM client certificate file (mTLS). */
export const CERT_FILE_ENV = "SWITCHBOARD_CERT_FILE";
/** Environment variable naming the PEM private key file of the client certificate. */
export const KEY_FILE_ENV = "SWITCHBOARD_KEY_FILE";

/** TLS to the control plane (SwitchboardClientOptions.tls). Files are read once, when the client is created. */
export interface ClientTlsOptions {
  /** PEM CA (bundle) that signed the server certificate. Default: the system's CAs. */
  caFile?: string;
  /** PEM client certificate, for servers that require one (mTLS). Needs keyFile. Default none. */
  certFile?: string;
  /** PEM private key of certFile. */
  keyFile?: string;
}

/**
 * TLS settings from SWITCHBOARD_CA_FILE, SWITCHBOARD_CERT_FILE and
 * SWITCHBOARD_KEY_FILE; undefined when none of them is set (plaintext).
 */
export function clientTlsFromEnv(env: Record<string, string | undefined> = process.env): ClientTlsOptions | undefined {
  const pick = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const tls: ClientTlsOptions = {};
  const caFile = pick(CA_FILE_ENV);
  const certFile = pick(CERT_FILE_ENV);
  const keyFile = pick(KEY_FILE_ENV);
  if (caFile) tls.caFile = caFile;
  if (certFile) tls.certFile = certFile;
  if (keyFile) tls.keyFile = keyFile;
  return Object.keys(tls).length > 0 ? tls : undefined;
}

/**
 * grpc-js channel credentials for these TLS settings (true: the system's CAs,
 * no client certificate). Throws naming the file that cannot be read, or
 * when only one of certFile and keyFile is given.
 */
export function createClientCredentials(tls: ClientTlsOptions | true): ChannelCredentials {
  const options = tls === true ? {} : tls;
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
    throw new Error("client TLS: certFile and keyFile go together (give both or neither)");
  }
  const read = (file: string | undefined, what: string) => {
    if (file === undefined) return null;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
  };
  return ChannelCredentials.createSsl(
    read(options.caFile, "CA"),
    read(options.keyFile, "key"),
    read(options.certFile, "certificate"),
  );
}
