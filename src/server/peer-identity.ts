import { ServerInterceptingCall } from "@grpc/grpc-js";
import type { ServerInterceptor } from "@grpc/grpc-js";
import type { CallContext } from "nice-grpc-common";
import type { IncomingMessage } from "node:http";
import type { PeerCertificate, TLSSocket } from "node:tls";
import type { Metadata } from "nice-grpc-common";

/**
 * Where the interceptor leaves the verified certificate identity for
 * handlers: nice-grpc's CallContext carries metadata but not grpc-js's auth
 * context. Binary (-bin) so any UTF-8 common name fits. Whatever a client sends
 * under this key is removed before a handler sees the metadata, so it cannot be forged.
 */
const PEER_IDENTITY_KEY = "switchboard-peer-identity-bin";

/**
 * The identity of the verified client certificate of a call under mTLS: its
 * first URI subjectAltName (e.g. "spiffe://example.org/orders"), else its
 * subject common name. Undefined without mTLS, or for a certificate with
 * neither. Only certificates the server verified against --tls-client-ca-file
 * count (grpc-js reports no certificate on an unverified connection).
 *
 *   const who = peerIdentity(context); // in a handler or middleware
 */
export function peerIdentity(context: Pick<CallContext, "metadata">): string | undefined {
  const value = context.metadata.get(PEER_IDENTITY_KEY);
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : Buffer.from(value).toString("utf8");
}

/** URI SAN first, then CN, of a certificate as node:tls reports it. */
export function certificateIdentity(certificate: Pick<PeerCertificate, "subject" | "subjectaltname">): string | undefined {
  const uri = firstUriSan(certificate.subjectaltname);
  if (uri) return uri;
  // subject.CN is an array when the subject has several CNs; the first is the name.
  const cn: unknown = certificate.subject?.CN;
  const first = Array.isArray(cn) ? cn[0] : cn;
  return typeof first === "string" && first !== "" ? first : undefined;
}

/**
 * A grpc-js interceptor that puts the verified certificate identity where
 * peerIdentity() finds it, and removes any such entry a client sent. With
 * readCertificates false it only removes (no mTLS: there is no identity, and
 * reading the peer certificate on every call would cost for nothing).
 */
export function createPeerIdentityInterceptor(readCertificates: boolean): ServerInterceptor {
  // Identity per TLS connection: getPeerCertificate() decodes the whole certificate
  // (about 70 µs on a busy 2-core machine, most of a null call's server CPU), so it
  // runs once per connection, not per call. A TLS 1.2 client that renegotiates with
  // another trusted certificate keeps its first identity; both are its own.
  const identities = new WeakMap<object, string | null>();
  const identityOf = (call: Parameters<ServerInterceptor>[1]): string | undefined => {
    const socket = connectionSocket(call);
    const cached = socket ? identities.get(socket) : undefined;
    if (cached !== undefined) return cached ?? undefined;
    const certificate = call.getAuthContext().sslPeerCertificate;
    const identity = certificate ? certificateIdentity(certificate) : undefined;
    if (socket) identities.set(socket, identity ?? null);
    return identity;
  };
  return (_method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            metadata.remove(PEER_IDENTITY_KEY);
            if (readCertificates) {
              const identity = identityOf(call);
              if (identity) metadata.set(PEER_IDENTITY_KEY, Buffer.from(identity, "utf8"));
            }
            nextMetadata(metadata);
          },
        }),
    });
}

/**
 * The HTTP/JSON API's counterpart of the interceptor: drops a peer identity the
 * client sent as a header, and under mTLS adds the identity of the certificate
 * the HTTPS server verified (unverified connections never reach a handler there).
 */
export function stampHttpPeerIdentity(req: IncomingMessage, metadata: Metadata): void {
  metadata.delete(PEER_IDENTITY_KEY);
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || !socket.authorized || typeof socket.getPeerCertificate !== "function") return;
  const identity = certificateIdentity(socket.getPeerCertificate());
  if (identity) metadata.set(PEER_IDENTITY_KEY, Buffer.from(identity, "utf8"));
}

/**
 * The TLS socket a call arrived on, as a cache key. grpc-js (pinned exactly)
 * hands the first interceptor its BaseServerInterceptingCall, whose `stream`
 * is the HTTP/2 stream; when that shape is absent the identity is simply read
 * on every call.
 */
function connectionSocket(call: object): object | undefined {
  const socket = (call as { stream?: { session?: { socket?: unknown } } }).stream?.session?.socket;
  return typeof socket === "object" && socket !== null ? socket : undefined;
}

/**
 * node:tls writes subjectaltname as `DNS:a, URI:b`, quoting (JSON) entries
 * that contain a comma or quote.
 */
function firstUriSan(subjectAltName: string | undefined): string | undefined {
  if (!subjectAltName) return undefined;
  const pattern = /(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g;
  const match = pattern.exec(subjectAltName);
  if (!match?.[1]) return undefined;
  const raw = match[1];
  if (!raw.startsWith('"')) return raw;
  try {
    return JSON.parse(raw) as string;
  } catch {
    return undefined;
  }
}
