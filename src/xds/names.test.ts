import { describe, expect, it } from "vitest";
import { nodeNamespace, parseResourceName, qualifiedName } from "./names.js";

describe("xDS resource names", () => {
  it("reads SERVICE in the node's namespace and SERVICE.NAMESPACE in that namespace", () => {
    expect(parseResourceName("orders", "shop")).toEqual({ namespace: "shop", service: "orders" });
    expect(parseResourceName("orders.billing", "shop")).toEqual({ namespace: "billing", service: "orders" });
    expect(qualifiedName({ namespace: "billing", service: "orders" })).toBe("orders.billing");
  });

  it("rejects names that are not DNS-1123 labels", () => {
    for (const name of ["", "Orders", "orders.", ".shop", "a.b.c", "orders_1", "xdstp://x/y"]) {
      expect(parseResourceName(name, "default"), name).toBeUndefined();
    }
  });

  it("takes the namespace from node metadata SWITCHBOARD_NAMESPACE, default when absent", () => {
    expect(nodeNamespace(undefined)).toBe("default");
    expect(nodeNamespace({})).toBe("default");
    expect(nodeNamespace({ SWITCHBOARD_NAMESPACE: "shop" })).toBe("shop");
    expect(nodeNamespace({ SWITCHBOARD_NAMESPACE: "Not A Label" })).toBeUndefined();
    expect(nodeNamespace({ SWITCHBOARD_NAMESPACE: 3 })).toBeUndefined();
  });
});
