import { isIPv4, isIPv6 } from "node:net";
import { domainToASCII } from "node:url";

/**
 * What an instance address may be: an IP literal or a DNS name that every
 * consumer (HTTP check URLs, TCP and gRPC checks, grpc-js resolvers, plain
 * sockets) reads as the same host. Anything else is refused at the door,
 * because a host one consumer cannot parse (or parses differently: `ex@mple`
 * is host `mple` in a URL, `1.2.3` is 1.2.0.3) makes the checks probe the
 * wrong thing or nothing at all.
 *
 * - IPv4: dotted quad, four decimal octets 0..255 without leading zeros
 *   (`10.0.0.1`). Shorthand (`10.1`), octal or hex forms are refused.
 * - IPv6: as Node's `net.isIPv6` (`::1`, `2001:db8::7`, `::ffff:10.0.0.1`),
 *   without brackets (the port is a separate field) and without a zone id
 *   (`fe80::1%eth0`: a zone names an interface of one host, meaningless to
 *   the control plane and to other clients, and URLs cannot carry it).
 * - DNS name: at most 253 characters, dot-separated labels of 1..63 ASCII
 *   letters, digits, '-' and '_' (underscores appear in container and SRV-style
 *   names; URLs and sockets accept them), no label starting or ending with
 *   '-', no empty label; one trailing dot (an absolute name) is allowed. The
 *   last label is not all digits or 0x-hex (URL parsers would read the name as
 *   an IPv4 number). Internationalised names are given in punycode, and a
 *   label starting with `xn--` must be valid punycode (`xn--` alone is not).
 */
export function addressProblem(address: string): string | undefined {
  if (address.startsWith("[") || address.endsWith("]"))
    return "write IPv6 addresses without brackets (the port is a separate field)";
  if (address.includes(":")) {
    if (address.includes("%")) return "IPv6 zone ids (%...) are not supported";
    return isIPv6(address) ? undefined : "not a valid IPv6 address";
  }
  if (/^[0-9.]+$/.test(address)) return isIPv4(address) ? undefined : "not a valid IPv4 address (four decimal octets 0..255)";
  return dnsNameProblem(address);
}

const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
// What a URL parser would take for an IPv4 number part (decimal, or 0x-hex).
const NUMERIC_LABEL = /^(0[xX][0-9A-Fa-f]*|[0-9]+)$/;
const MAX_NAME_LENGTH = 253;

function dnsNameProblem(address: string): string | undefined {
  const name = address.endsWith(".") ? address.slice(0, -1) : address;
  if (name === "") return "not a DNS name";
  if (name.length > MAX_NAME_LENGTH) return `a DNS name has at most ${MAX_NAME_LENGTH} characters`;
  const labels = name.split(".");
  for (const label of labels) {
    if (label === "") return "a DNS name has no empty labels";
    if (/^xn--/i.test(label) && domainToASCII(label) === "") return `label ${JSON.stringify(label)} is not valid punycode`;
    if (!LABEL.test(label)) {
      return /^[\x21-\x7e]*$/.test(label)
        ? `label ${JSON.stringify(label)} must be 1..63 letters, digits, '-' or '_', not starting or ending with '-'`
        : "a DNS name is ASCII (write internationalised names in punycode, xn--...)";
    }
  }
  if (NUMERIC_LABEL.test(labels[labels.length - 1] as string)) return "the last label of a DNS name is not numeric";
  return undefined;
}
