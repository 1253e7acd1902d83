import { createServer as createNetServer } from "node:net";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { createServer } from "nice-grpc";
import type { Server } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl, HealthState } from "nice-grpc-server-health";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../command.js";
import { healthCheckCommand } from "./health-check.js";

async function run(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const code = await healthCheckCommand.run({ argv, env: {}, stdout, stderr });
  return { code, out: String(stdout.read() ?? ""), err: String(stderr.read() ?? "") };
}

describe("switchboard health-check", () => {
  let server: Server;
  let address: string;
  const state = HealthState();

  beforeAll(async () => {
    server = createServer();
    server.add(HealthDefinition, HealthServiceImpl(state));
    const port = await server.listen("127.0.0.1:0");
    address = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.shutdown();
  });

  it("exits 0 on SERVING and 1 on NOT_SERVING", async () => {
    state.setStatus("healthy");
    expect(await run(["--address", address])).toEqual({ code: 0, out: `${address}: SERVING\n`, err: "" });
    state.setStatus("unhealthy");
    expect(await run(["--address", address])).toEqual({ code: 1, out: `${address}: NOT_SERVING\n`, err: "" });
  });

  it("exits 1 for an unknown service name", async () => {
    const result = await run(["--address", address, "--service", "nope"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${address}: unhealthy:`);
  });

  it("exits 1 when nothing listens", async () => {
    // A port that was free a moment ago: bind, read it, close.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await run(["--address", `127.0.0.1:${port}`, "--timeout", "1500"]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(`127.0.0.1:${port}: unhealthy: connection refused: nothing listens there\n`);
  });

  it("rejects bad flags as usage errors", async () => {
    await expect(run(["--address", "no-port"])).rejects.toThrow(UsageError);
    await expect(run(["--timeout", "0"])).rejects.toThrow(UsageError);
    await expect(run(["--bogus"])).rejects.toThrow(UsageError);
  });
});
