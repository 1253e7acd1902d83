/** The client TLS flags every command that talks to a server takes (--ca-file, --cert-file, --key-file). */
import { SWITCHBOARD_ENV } from "@switchboard/client";
import type { ClientTlsOptions } from "@switchboard/client";
import { UsageError } from "../command.js";

/** parseArgs options for TLS to the control plane. */
export const TLS_FLAGS = {
  "ca-file": { type: "string" },
  "cert-file": { type: "string" },
  "key-file": { type: "string" },
} as const;

const { caFile: CA_FILE_ENV, certFile: CERT_FILE_ENV, keyFile: KEY_FILE_ENV } = SWITCHBOARD_ENV;

export const TLS_USAGE = `TLS flags (any of them turns TLS on):
  --ca-file FILE     PEM CA that signed the server's certificate ($${CA_FILE_ENV})
  --cert-file FILE   PEM client certificate, for servers requiring one ($${CERT_FILE_ENV})
  --key-file FILE    PEM private key of --cert-file ($${KEY_FILE_ENV})
`;

/**
 * TLS settings from the flags, each falling back to its variable; false
 * (plaintext) when none is set. Throws a UsageError when only one of the
 * certificate and key is given.
 */
export function tlsFrom(
  flags: { "ca-file"?: string | undefined; "cert-file"?: string | undefined; "key-file"?: string | undefined },
  env: NodeJS.ProcessEnv,
): ClientTlsOptions | false {
  const fromEnv = (name: string) => env[name]?.trim() || undefined;
  const tls: ClientTlsOptions = {};
  const caFile = flags["ca-file"] || fromEnv(CA_FILE_ENV);
  const certFile = flags["cert-file"] || fromEnv(CERT_FILE_ENV);
  const keyFile = flags["key-file"] || fromEnv(KEY_FILE_ENV);
  if (caFile) tls.caFile = caFile;
  if (certFile) tls.certFile = certFile;
  if (keyFile) tls.keyFile = keyFile;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(
      `--cert-file and --key-file go together (or ${CERT_FILE_ENV} and ${KEY_FILE_ENV}): give both or neither`,
    );
  }
  return Object.keys(tls).length > 0 ? tls : false;
}
