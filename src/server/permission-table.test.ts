import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PERMISSION_TABLE, renderPermissionTable } from "./permission-table.js";
import { AuthServiceDefinition } from "../../generated/switchboard/auth/v1/auth.js";
import { ConfigServiceDefinition } from "../../generated/switchboard/config/v1/config.js";
import { HealthServiceDefinition } from "../../generated/switchboard/health/v1/health.js";
import { RegistryServiceDefinition } from "../../generated/switchboard/registry/v1/registry.js";
import { AggregatedDiscoveryServiceDefinition } from "./xds-service.js";

describe("the permission table", () => {
  it("has a row for every Switchboard RPC (xDS included) and no other", () => {
    const rpcs = [
      RegistryServiceDefinition,
      ConfigServiceDefinition,
      HealthServiceDefinition,
      AuthServiceDefinition,
      AggregatedDiscoveryServiceDefinition,
    ].flatMap((service) => Object.values(service.methods).map((method) => `/${service.fullName}/${method.name}`));
    expect(Object.keys(PERMISSION_TABLE).sort()).toEqual(rpcs.sort());
  });

  it("is the table README.md shows", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).toContain(renderPermissionTable());
  });
});
