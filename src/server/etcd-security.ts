import { readFile } from "node:fs/promises";
import type { EtcdStoreOptions } from "../store/index.js";

/** How the server connects to etcd securely (ServerOptions.etcdSecurity); every field defaults to unset. */
export interface EtcdSecurityOptions {
  /** PEM CA file that signed etcd's server certificate (use https:// endpoints). */
  caFile?: string;
  /** PEM client certificate file, for etcd's --client-cert-auth. Needs keyFile. */
  certFile?: string;
  /** PEM private key file of certFile. */
  keyFile?: string;
  /** etcd user name (etcd auth enabled). Needs passwordFile. */
  username?: string;
  /** File holding the etcd user's password (one line; a trailing newline is ignored). */
  passwordFile?: string;
}

/**
 * Reads the files into the etcd store's options. Throws naming the file or
 * setting at fault, never a file's content. Read once at start: etcd3 builds
 * its channel credentials once, so new etcd client certificates take a restart.
 */
export async function etcdStoreSecurity(options: EtcdSecurityOptions): Promise<Pick<EtcdStoreOptions, "tls" | "auth">> {
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
    throw new Error("etcd client certificate: give both the certificate file and the key file");
  }
  if ((options.username === undefined) !== (options.passwordFile === undefined)) {
    throw new Error("etcd authentication: give both the user name and the password file");
  }
  const read = async (file: string | undefined, what: string) => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      throw new Error(`cannot read the etcd ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
  };
  const [ca, cert, key, password] = await Promise.all([
    read(options.caFile, "CA"),
    read(options.certFile, "client certificate"),
    read(options.keyFile, "client key"),
    read(options.passwordFile, "password"),
  ]);
  const tls = ca || cert ? { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) } : undefined;
  const passwordText = password?.toString("utf8").replace(/\r?\n$/, "");
  if (passwordText === "") throw new Error(`the etcd password file ${options.passwordFile} is empty`);
  return {
    ...(tls && { tls }),
    ...(options.username !== undefined &&
      passwordText !== undefined && { auth: { username: options.username, password: passwordText } }),
  };
}
