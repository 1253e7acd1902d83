/** A parsed "host:port" listen address; IPv6 hosts are written "[::1]:7000". */
export interface ListenAddress {
  /** Host without brackets, e.g. "0.0.0.0", "::", "localhost". */
  host: string;
  /** 0 asks the OS for a free port. */
  port: number;
}

/** Parses "host:port" or "[v6]:port"; throws a message naming the setting on anything else. */
export function parseListenAddress(value: string, setting: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65_535) {
    throw new Error(`${setting}: expected host:port (e.g. 0.0.0.0:7000 or [::]:7000), got "${value}"`);
  }
  return { host: match[1] ?? match[2] ?? "", port };
}

/** Formats an address for logs, clients and grpc-js: brackets around IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
