/**
 * `serve --auth-cert-grants FILE`, kept current the way the TLS files are
 * (tls.ts): the file is polled for changes and re-read on
 * `RunningServer.reloadCertificates()` (SIGHUP in `serve`). A file that cannot
 * be read or parsed at start fails the start; later, it keeps the grants
 * loaded last and logs an error naming the file and the entry at fault, so a
 * half-written edit never locks every certificate out. New grants apply to the
 * next call, on open connections too (the guard looks them up per call).
 *
 *   const grants = await loadCertificateGrantsFile({ file }, logger);
 *   grants.get("spiffe://shop/orders");   // the grants loaded last
 *   await grants.reload();                 // true when new grants were installed
 *   grants.close();
 */
import { unwatchFile, watchFile } from "node:fs";
import type { Stats } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { parseCertificateGrants } from "../auth/index.js";
import type { Grant } from "../auth/index.js";
import { DEFAULT_TLS_WATCH_INTERVAL_MS } from "./tls.js";
import { serialReload } from "./serial-reload.js";

export interface CertificateGrantsFileOptions {
  /** The JSON file (certificate-grants.ts describes the format). Required. */
  file: string;
  /** How often the file is checked for changes, in ms. Default 1,000, as the TLS files. */
  watchIntervalMs?: number;
}

export interface CertificateGrantsFile {
  /** The grants of identity in the file as loaded last; undefined when it names no such identity. */
  get(identity: string): readonly Grant[] | undefined;
  /**
   * Re-reads the file now. Resolves true when new grants were installed, false
   * when the text did not change or the file is unusable (the old grants stay,
   * with an error logged).
   */
  reload(): Promise<boolean>;
  /** Stops watching the file. */
  close(): void;
}

export async function loadCertificateGrantsFile(
  options: CertificateGrantsFileOptions,
  logger: Logger,
): Promise<CertificateGrantsFile> {
  const { file } = options;
  const read = async () => {
    const text = await readFile(file, "utf8");
    return { text, grants: parseCertificateGrants(text, file) };
  };
  let current = await read();
  logger.info({ file, identities: current.grants.size }, "certificate grants loaded");

  const reloadOnce = async (): Promise<boolean> => {
    let next: Awaited<ReturnType<typeof read>>;
    try {
      next = await read();
    } catch (error) {
      // The parser's message names the file and the entry; it never holds more than identities and grants.
      logger.error({ err: error, file }, "certificate grants not reloaded; keeping the previous ones");
      return false;
    }
    if (next.text === current.text) return false;
    current = next;
    logger.info({ file, identities: current.grants.size }, "certificate grants reloaded");
    return true;
  };
  const reload = serialReload(reloadOnce);

  // Polling stat, as for the certificates: editors and secret volumes replace files by rename.
  const onChange = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    void reload();
  };
  watchFile(file, { interval: options.watchIntervalMs ?? DEFAULT_TLS_WATCH_INTERVAL_MS, persistent: false }, onChange);

  return {
    get: (identity) => current.grants.get(identity),
    reload,
    close: () => unwatchFile(file, onChange),
  };
}
