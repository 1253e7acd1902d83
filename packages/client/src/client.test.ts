import { createServer as createNetServer } from "node:net";
import type { AddressInfo } from "node:net";
import { ClientError, Status } from "nice-grpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeRegistry } from "../../../test/support/fake-registry.js";
import type { FakeRegistry } from "../../../test/support/fake-registry.js";
import {
  AlreadyExistsError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../../../src/errors.js";
import { resolveAddresses } from "./addresses.js";
import { createSwitchboardClient } from "./client.js";
import { fromClientError } from "./errors.js";

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("fromClientError", () => {
  it("maps statuses to domain errors by one table and keeps the ClientError as cause", () => {
    const path = "/switchboard.registry.v1.RegistryService/Register";
    const invalid = fromClientError(new ClientError(path, Status.INVALID_ARGUMENT, "instance.port: must be 1..65535"));
    expect(invalid).toBeInstanceOf(InvalidArgumentError);
    expect(invalid).toMatchObject({ field: "instance.port", message: "instance.port: must be 1..65535" });
    expect((invalid as Error).cause).toBeInstanceOf(ClientError);
    expect(fromClientError(new ClientError(path, Status.NOT_FOUND, "x"))).toBeInstanceOf(NotFoundError);
    expect(fromClientError(new ClientError(path, Status.ALREADY_EXISTS, "x"))).toBeInstanceOf(AlreadyExistsError);
    expect(fromClientError(new ClientError(path, Status.UNAVAILABLE, "x"))).toBeInstanceOf(UnavailableError);
    expect(fromClientError(new ClientError(path, Status.RESOURCE_EXHAUSTED, "x"))).toBeInstanceOf(ResourceExhaustedError);
    const conflict = fromClientError(new ClientError(path, Status.ABORTED, "expected revision 3, current revision 7"));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as ConflictError).currentRevision).toBe(7);
    expect(fromClientError(new ClientError(path, Status.UNAUTHENTICATED, "x"))).toBeInstanceOf(UnauthenticatedError);
    expect(fromClientError(new ClientError(path, Status.PERMISSION_DENIED, "x"))).toBeInstanceOf(PermissionDeniedError);
    // No domain error for these: they stay ClientErrors.
    const unimplemented = new ClientError(path, Status.UNIMPLEMENTED, "no");
    expect(fromClientError(unimplemented)).toBe(unimplemented);
    const plain = new Error("other");
    expect(fromClientError(plain)).toBe(plain);
  });
});

describe("resolveAddresses", () => {
  it("prefers the list, then the address, then SWITCHBOARD_ADDRESS, then localhost:7000", () => {
    const env = { SWITCHBOARD_ADDRESS: "env-1:7000, env-2:7000" };
    expect(resolveAddresses({ addresses: ["a:1"], address: "b:2" }, env)).toEqual(["a:1"]);
    expect(resolveAddresses({ address: "b:2,c:3" }, env)).toEqual(["b:2", "c:3"]);
    expect(resolveAddresses({}, env)).toEqual(["env-1:7000", "env-2:7000"]);
    expect(resolveAddresses({}, {})).toEqual(["localhost:7000"]);
  });
});

describe("createSwitchboardClient", () => {
  let fake: FakeRegistry;
  beforeEach(async () => {
    fake = await startFakeRegistry();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("throws domain errors from calls", async () => {
    const client = createSwitchboardClient({ address: fake.address });
    try {
      await expect(client.registry.register({ instance: { service: "orders" } })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(
        client.registry.deregister({ namespace: "default", service: "orders", instanceId: "nope" }),
      ).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      client.close();
    }
  });

  it("moves to the next address when one is unreachable, and stays there", async () => {
    const dead = `127.0.0.1:${await deadPort()}`;
    const client = createSwitchboardClient({ addresses: [dead, fake.address] });
    try {
      const response = await client.registry.listServices({});
      expect(response.services).toEqual([]);
      expect(client.currentAddress).toBe(fake.address);
      await client.registry.listServices({});
      expect(fake.calls.filter((c) => c.method === "ListServices")).toHaveLength(2);

      // A server stream that has not delivered anything moves on too.
      const rotating = createSwitchboardClient({ addresses: [dead, fake.address] });
      const iterator = rotating.registry.watch({ service: "orders" })[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value?.kind?.$case).toBe("snapshot");
      await iterator.return?.();
      rotating.close();
    } finally {
      client.close();
    }
  });

  it("reaches the server by IP literal and by host name, and builds each service client once", async () => {
    const port = fake.address.slice(fake.address.lastIndexOf(":") + 1);
    for (const address of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const client = createSwitchboardClient({ address });
      try {
        expect(client.registry).toBe(client.registry);
        expect(client.config).toBe(client.config);
        await expect(client.registry.listServices({})).resolves.toMatchObject({ services: [] });
        expect(client.currentAddress).toBe(address);
      } finally {
        client.close();
      }
    }
    expect(fake.calls.filter((c) => c.method === "ListServices")).toHaveLength(2);
  });

  it("rotates on UNAVAILABLE answers from a live replica", async () => {
    const other = await startFakeRegistry();
    const client = createSwitchboardClient({ addresses: [fake.address, other.address] });
    try {
      fake.failNext("ListServices", Status.UNAVAILABLE);
      await client.registry.listServices({});
      expect(other.calls.map((c) => c.method)).toEqual(["ListServices"]);
      expect(client.currentAddress).toBe(other.address);
    } finally {
      client.close();
      await other.close();
    }
  });

  it("gives up with UnavailableError when every address is down", async () => {
    const client = createSwitchboardClient({ addresses: [`127.0.0.1:${await deadPort()}`, `127.0.0.1:${await deadPort()}`] });
    try {
      await expect(client.registry.listServices({})).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      client.close();
    }
  });

  it("applies per-call deadlines (relative ms or Date)", async () => {
    const client = createSwitchboardClient({ address: fake.address });
    try {
      const started = Date.now();
      const stream = client.registry.watch({ service: "orders" }, { deadline: 300 });
      const error = await (async () => {
        try {
          for await (const _ of stream) {
            // the snapshot arrives, then nothing until the deadline
          }
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(Status.DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      await expect(client.registry.listServices({}, { deadline: new Date(Date.now() + 5000) })).resolves.toBeDefined();
    } finally {
      client.close();
    }
  });
});
