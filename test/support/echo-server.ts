/**
 * A tiny gRPC service for resolver tests: `Echo/WhoAmI` answers the name of
 * the server that handled the call, so a test can see where calls went.
 * Uses a hand-written grpc-js definition (JSON `{ text }` messages), no proto.
 */
import { createServer } from "nice-grpc";
import type { Server } from "nice-grpc";

/** Messages are JSON objects (nice-grpc wants objects, not bare strings). */
interface Text {
  text: string;
}
const json = {
  serialize: (value: Text) => Buffer.from(JSON.stringify(value), "utf8"),
  deserialize: (bytes: Buffer): Text => JSON.parse(bytes.toString("utf8")) as Text,
};

export const EchoDefinition = {
  whoAmI: {
    path: "/switchboard.test.Echo/WhoAmI",
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} as const;

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  /** Calls answered so far. */
  readonly calls: number;
  close(): Promise<void>;
}

/** Starts an Echo server on 127.0.0.1:0; `delayMs` makes each call take that long. */
export async function startEchoServer(name: string, delayMs = 0): Promise<EchoServer> {
  let calls = 0;
  const server: Server = createServer();
  server.add(EchoDefinition, {
    async whoAmI() {
      calls++;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return { text: name };
    },
  });
  const port = await server.listen("127.0.0.1:0");
  return {
    name,
    port,
    get calls() {
      return calls;
    },
    close: () => server.shutdown(),
  };
}
