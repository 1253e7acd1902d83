import { createFileRegistry, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { ServerError, Status } from "nice-grpc";
import type { CallContext, MethodDescriptor, ServerMiddleware } from "nice-grpc-common";

/** The parts of a ts-proto message type the adapter uses (the same ones nice-grpc uses). */
interface MessageType {
  encode(message: never): { finish(): Uint8Array };
  decode(input: Uint8Array): unknown;
  fromPartial(object: never): unknown;
}

/** A method of a nice-grpc generic definition (ts-proto `outputServices=generic-definitions`). */
interface DefinitionMethod {
  name: string;
  requestType: MessageType;
  requestStream: boolean;
  responseType: MessageType;
  responseStream: boolean;
  options: object;
}

/** A service served over HTTP: the definition and implementation given to the gRPC server. */
export interface HttpService {
  definition: { fullName: string; methods: Record<string, DefinitionMethod> };
  implementation: object;
}

/** A request body as received: JSON text or protobuf binary. */
export type RequestBody = { format: "json"; value: string } | { format: "binary"; value: Uint8Array };

/** A response in the format the caller asked for. */
export type ResponseBody = { format: "json"; value: JsonValue } | { format: "binary"; value: Uint8Array };

export interface RpcMethod {
  /** "/package.Service/Method", as in gRPC. */
  path: string;
  responseStream: boolean;
  input: DescMessage;
  /** Unary: runs the call through the middleware and the implementation. */
  unary(body: RequestBody, context: CallContext): Promise<ResponseBody>;
  /** Server streaming: the same, yielding each response as proto3 JSON. */
  stream(body: RequestBody, context: CallContext): AsyncGenerator<JsonValue, void, undefined>;
}

export interface RpcTableOptions {
  services: readonly HttpService[];
  /** The server's call middleware (the one given to the gRPC server's use()). */
  middleware: ServerMiddleware;
  /** Descriptor set of the services (generated/switchboard.binpb). */
  descriptorSet: Uint8Array;
}

/**
 * Every unary and server-streaming method of `services`, by path, callable
 * with JSON or binary bodies. A call goes through the same middleware and the
 * same implementation as the gRPC call: the middleware gets the decoded
 * message (the auth guard takes the call's scope from it), a malformed body
 * is answered INVALID_ARGUMENT inside the middleware (logged and counted like
 * any, after auth), and bodies are converted from and to JSON by the
 * descriptor set (proto3 canonical JSON: int64 as strings, enums by name,
 * lowerCamelCase out, proto and JSON names both accepted in).
 * Client and bidi streaming methods (KeepAlive) are left out: Connect's
 * unary protocol cannot carry them and SSE is one-way.
 */
export function createRpcTable(options: RpcTableOptions): Map<string, RpcMethod> {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, options.descriptorSet));
  const table = new Map<string, RpcMethod>();
  for (const { definition, implementation } of options.services) {
    const service = registry.getService(definition.fullName);
    if (!service) throw new Error(`${definition.fullName} is not in the descriptor set`);
    for (const [key, method] of Object.entries(definition.methods)) {
      if (method.requestStream) continue;
      const desc = service.methods.find((m) => m.name === method.name);
      if (!desc) throw new Error(`${definition.fullName}/${method.name} is not in the descriptor set`);
      const handler = (implementation as Record<string, UnaryHandler>)[key];
      if (typeof handler !== "function") throw new Error(`${definition.fullName} implements no ${key}`);
      const rpc = bindMethod(
        `/${definition.fullName}/${method.name}`,
        method,
        desc,
        handler.bind(implementation),
        options.middleware,
      );
      table.set(rpc.path, rpc);
    }
  }
  return table;
}

/** A unary method of a nice-grpc service implementation. */
type UnaryHandler = (request: unknown, context: CallContext) => unknown;

function bindMethod(
  path: string,
  method: DefinitionMethod,
  desc: DescMethod,
  handler: UnaryHandler,
  middleware: ServerMiddleware,
): RpcMethod {
  const descriptor: MethodDescriptor = {
    path,
    requestStream: false,
    responseStream: method.responseStream,
    options: method.options,
  };
  const decode = (body: RequestBody): unknown => {
    if (body.format === "binary") {
      try {
        return method.requestType.decode(body.value);
      } catch (error) {
        throw invalidBody(error);
      }
    }
    let bytes: Uint8Array;
    try {
      const json: JsonValue = body.value.trim() === "" ? {} : JSON.parse(body.value);
      bytes = toBinary(desc.input, fromJson(desc.input, json));
    } catch (error) {
      throw invalidBody(error);
    }
    return method.requestType.decode(bytes);
  };
  // The middleware sees the decoded message, as on gRPC: the auth guard reads the
  // namespace and service from it (permission-table.ts). A body that does not
  // decode reaches the guard as an empty message and fails after it, so it is
  // still logged and counted like any INVALID_ARGUMENT.
  const decodeForMiddleware = (body: RequestBody): { message: unknown; error?: unknown } => {
    try {
      return { message: decode(body) };
    } catch (error) {
      return { message: {}, error };
    }
  };
  const encodeBinary = (message: unknown): Uint8Array =>
    method.responseType.encode(method.responseType.fromPartial(message as never) as never).finish();
  const encodeJson = (message: unknown): JsonValue => toJson(desc.output, fromBinary(desc.output, encodeBinary(message)));
  // Proto3 JSON of streamed responses, by response object (entries go with the objects).
  const jsonByResponse = new WeakMap<object, JsonValue>();

  return {
    path,
    responseStream: method.responseStream,
    input: desc.input,
    async unary(body, context) {
      const request = decodeForMiddleware(body);
      const calls = middleware<unknown, unknown>(
        {
          method: descriptor,
          requestStream: false,
          request: request.message,
          responseStream: false,
          // A unary call's "stream" is its one answer, returned rather than yielded.
          // eslint-disable-next-line require-yield
          async *next(message, nextContext) {
            if (request.error) throw request.error;
            return await handler(message, nextContext);
          },
        },
        context,
      );
      const result = await calls.next();
      if (!result.done || result.value == null) throw new Error(`${path}: middleware yielded for a unary method`);
      return body.format === "binary"
        ? { format: "binary", value: encodeBinary(result.value) }
        : { format: "json", value: encodeJson(result.value) };
    },
    async *stream(body, context) {
      const request = decodeForMiddleware(body);
      const responses = middleware<unknown, unknown>(
        {
          method: descriptor,
          requestStream: false,
          request: request.message,
          responseStream: true,
          async *next(message, nextContext) {
            if (request.error) throw request.error;
            yield* handler(message, nextContext) as AsyncIterable<unknown>;
          },
        },
        context,
      );
      for await (const response of responses) {
        // Watch responses are immutable objects shared by every stream they concern: converted once per message.
        if (typeof response !== "object" || response === null) {
          yield encodeJson(response);
          continue;
        }
        let json = jsonByResponse.get(response);
        if (json === undefined) jsonByResponse.set(response, (json = encodeJson(response)));
        yield json;
      }
    },
  };
}

function invalidBody(error: unknown): ServerError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ServerError(Status.INVALID_ARGUMENT, `request body: ${reason}`);
}
