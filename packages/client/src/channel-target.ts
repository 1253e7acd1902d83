/**
 * The grpc-js target for a control-plane address.
 *
 * grpc-js' default resolver ("dns:") constructs a c-ares resolver (`dns.promises.Resolver`) for every
 * channel, even when the address is an IP literal it will never look up; that construction was about
 * half of a fresh channel's CPU in the agent join benchmark (bench/README.md, issue 15). An IP
 * literal with a port therefore goes to grpc-js' own "ipv4:" / "ipv6:" resolver, which yields the
 * same single address and the same default authority ("127.0.0.1:7000", "[::1]:7000"), so TLS name
 * checks and the `:authority` header do not change. Host names, addresses without a port and
 * addresses that already name a scheme are returned as given.
 */
import { isIPv4, isIPv6 } from "node:net";

const IPV4_WITH_PORT = /^([0-9.]+):(\d{1,5})$/;
const IPV6_WITH_PORT = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/;

export function channelTarget(address: string): string {
  const v4 = IPV4_WITH_PORT.exec(address);
  if (v4 !== null && isIPv4(v4[1] as string)) return `ipv4:${address}`;
  const v6 = IPV6_WITH_PORT.exec(address);
  if (v6 !== null && isIPv6(v6[1] as string)) return `ipv6:${address}`;
  return address;
}
