/**
 * A minimal gRPC server-reflection client, encoding the few messages it needs
 * by hand, so tests check the server against the wire format rather than
 * against the library that serves it.
 *
 *   const client = createReflectionClient(channel, "v1alpha");
 *   await client.listServices(); // ["grpc.health.v1.Health", ...]
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createClient } from "nice-grpc";
import type { Channel } from "nice-grpc";

export type ReflectionVersion = "v1" | "v1alpha";

/** One reflection answer, decoded. */
export type ReflectionAnswer =
  | { kind: "services"; names: string[] }
  | { kind: "files"; fileDescriptorProtos: Uint8Array[] }
  | { kind: "error"; code: number; message: string };

export interface ReflectionClient {
  listServices(): Promise<string[]>;
  /** FileDescriptorProtos (serialized) of the file declaring symbol, or an error answer. */
  fileContainingSymbol(symbol: string): Promise<ReflectionAnswer>;
  /** The FileDescriptorProto of a file by its path, e.g. "google/protobuf/timestamp.proto" (how grpcurl loads imports). */
  fileByFilename(filename: string): Promise<ReflectionAnswer>;
}

const identity = (value: Uint8Array) => Buffer.from(value);

function definition(version: ReflectionVersion) {
  return {
    serverReflectionInfo: {
      path: `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      requestStream: true,
      responseStream: true,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: (bytes: Buffer) => new Uint8Array(bytes),
    },
  } as const;
}

export function createReflectionClient(channel: Channel, version: ReflectionVersion): ReflectionClient {
  const client = createClient(definition(version), channel);
  async function ask(field: number, value: string): Promise<ReflectionAnswer> {
    const request = new BinaryWriter().tag(field, WireType.LengthDelimited).string(value).finish();
    async function* requests() {
      yield Buffer.from(request);
    }
    for await (const response of client.serverReflectionInfo(requests(), { signal: AbortSignal.timeout(5_000) })) {
      return decodeResponse(response);
    }
    throw new Error("reflection stream ended without an answer");
  }
  return {
    async listServices() {
      const answer = await ask(7, "*");
      if (answer.kind !== "services") throw new Error(`expected a service list, got ${JSON.stringify(answer)}`);
      return answer.names;
    },
    fileContainingSymbol: (symbol) => ask(4, symbol),
    fileByFilename: (filename) => ask(3, filename),
  };
}

/** Decodes ServerReflectionResponse: 4 file_descriptor_response, 6 list_services_response, 7 error_response. */
function decodeResponse(bytes: Uint8Array): ReflectionAnswer {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 4) return { kind: "files", fileDescriptorProtos: repeatedBytes(reader.bytes(), 1) };
    if (field === 6) {
      const names = repeatedBytes(reader.bytes(), 1).map((service) => {
        const [name] = repeatedBytes(service, 1);
        return new TextDecoder().decode(name);
      });
      return { kind: "services", names };
    }
    if (field === 7) {
      const error = new BinaryReader(reader.bytes());
      let code = 0;
      let message = "";
      while (error.pos < error.len) {
        const [f, t] = error.tag();
        if (f === 1) code = error.int32();
        else if (f === 2) message = error.string();
        else error.skip(t);
      }
      return { kind: "error", code, message };
    }
    reader.skip(wireType);
  }
  throw new Error("empty reflection response");
}

/** Values of a repeated length-delimited field of an encoded message. */
function repeatedBytes(message: Uint8Array, field: number): Uint8Array[] {
  const reader = new BinaryReader(message);
  const values: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [f, t] = reader.tag();
    if (f === field && t === WireType.LengthDelimited) values.push(reader.bytes());
    else reader.skip(t);
  }
  return values;
}
