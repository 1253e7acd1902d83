/**
 * The dashboard with --auth on two replicas of one etcd, in Debian's chromium
 * (playwright-core): the page asks for a token and keeps it for the tab only
 * (sessionStorage); it shows each action only where the token's grants
 * (WhoAmI) allow it, per namespace and service; secret values stay masked
 * unless the server sends them (the `redacted` flag); the Health page lists
 * both replicas and the store status (ListReplicas). Screenshots go to
 * test-output/dashboard-auth/.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireChromium } from "./support/chromium.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

// Browser globals, for the functions page.evaluate runs in the page (this file is compiled without the DOM lib).
declare const sessionStorage: any;
declare const localStorage: any;

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUTPUT = join(REPO_ROOT, "test-output", "dashboard-auth");
const REGISTRY = "switchboard.registry.v1.RegistryService";
const CONFIG = "switchboard.config.v1.ConfigService";
const AUTH = "switchboard.auth.v1.AuthService";
const chromiumPath = requireChromium();
const etcdBinary = requireEtcd();

// Waits that hold on a busy 2-core machine (vitest's poll default is 1 s).
const POLL = { timeout: 20_000 };
const TEST_TIMEOUT_MS = 120_000;

const newToken = () => `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;

describe.skipIf(!chromiumPath || !etcdBinary)("the dashboard with --auth (two replicas, chromium)", () => {
  const admin = newToken();
  let etcd: EtcdServer;
  let servers: TestServer[] = [];
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const tokens: Record<"reader" | "writer" | "secrets", string> = { reader: "", writer: "", secrets: "" };

  async function post(path: string, body: unknown, token = admin) {
    const response = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, any>;
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  const createToken = async (description: string, grants: Array<{ namespace: string; service?: string; role: string }>) =>
    (await post(`/${AUTH}/CreateToken`, { description, grants })).secret as string;

  /** A fresh tab (its own sessionStorage) with the token already kept, as after the prompt. */
  async function tabWith(token: string | undefined): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    contexts.push(context);
    if (token !== undefined) await context.addInitScript((t: string) => sessionStorage.setItem("switchboard.token", t), token);
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    return page;
  }

  beforeAll(async () => {
    execFileSync(process.execPath, [join(REPO_ROOT, "scripts", "build-ui.mjs")], { stdio: "ignore" });
    mkdirSync(OUTPUT, { recursive: true });
    etcd = await startEtcd();
    const secretKeys = [{ id: "k1", key: randomBytes(32) }];
    servers = await Promise.all(
      ["replica-a", "replica-b"].map((replicaId) =>
        startTestServer({ etcdEndpoints: etcd.endpoints, replicaId, auth: { bootstrapToken: admin }, secretKeys }),
      ),
    );
    base = `http://${servers[0]!.httpAddress}`;
    tokens.reader = await createToken("dashboard reader", [{ namespace: "*", role: "ROLE_READ" }]);
    tokens.writer = await createToken("orders operator", [
      { namespace: "shop", role: "ROLE_READ" },
      { namespace: "shop", service: "orders", role: "ROLE_REGISTER" },
      { namespace: "shop", service: "orders", role: "ROLE_WRITE" },
    ]);
    tokens.secrets = await createToken("secret reader", [{ namespace: "shop", role: "ROLE_READ_SECRETS" }]);
    for (const service of ["orders", "payments"]) {
      await post(`/${REGISTRY}/Register`, {
        instance: { namespace: "shop", service, instanceId: `${service}-1`, address: "127.0.0.1", port: 9000 },
        ttlSeconds: 300,
      });
    }
    const scope = { namespace: "shop", service: "orders" };
    await post(`/${CONFIG}/PutValue`, { scope, key: "timeout", value: "1s" });
    // A secret whose key name gives nothing away: only the server's flag can mask it.
    await post(`/${CONFIG}/PutValue`, { scope, key: "upstream", value: "hunter2", secret: true });
    // A plain value whose key name looks secret: shown as it is.
    await post(`/${CONFIG}/PutValue`, { scope, key: "token.header", value: "X-Token" });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await Promise.all(servers.map((server) => server.close()));
    await etcd?.stop();
  });

  const value = (page: Page, key: string) => page.locator(`tr[data-key="${key}"] [data-col="value"]`);

  it(
    "asks for a token, keeps it for this tab only (sessionStorage), and forgets it on request",
    async () => {
      const page = await tabWith(undefined);
      await page.goto(`${base}/services/shop`);
      const prompt = page.getByRole("form", { name: "This server needs a token" });
      await prompt.waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(OUTPUT, "token-prompt.png"), fullPage: true });
      await prompt.getByLabel("Bearer token").fill(tokens.reader);
      await prompt.getByRole("button", { name: "Use token" }).click();
      await page.locator('[data-testid="services"] tr', { hasText: "orders" }).waitFor({ timeout: 20_000 });
      await expect.poll(() => page.getByTestId("identity").textContent(), POLL).toContain("Token ");
      expect(await page.getByRole("form", { name: "This server needs a token" }).count()).toBe(0);
      const storage = await page.evaluate(() => ({
        session: sessionStorage.getItem("switchboard.token"),
        local: localStorage.length,
      }));
      expect(storage).toEqual({ session: tokens.reader, local: 0 });

      // Another tab of the same browser profile does not have it.
      const other = await page.context().newPage();
      await other.goto(`${base}/services/shop`);
      await other.getByRole("form", { name: "This server needs a token" }).waitFor({ timeout: 20_000 });
      await other.close();

      await page.getByRole("button", { name: "Forget token" }).click();
      await page.getByRole("form", { name: "This server needs a token" }).waitFor({ timeout: 20_000 });
      expect(await page.evaluate(() => sessionStorage.getItem("switchboard.token"))).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "shows a read-only token no action, the values it may read, and secrets masked",
    async () => {
      const page = await tabWith(tokens.reader);
      await page.goto(`${base}/services/shop/orders`);
      await page.locator('tr[data-instance="orders-1"]').waitFor({ timeout: 20_000 });
      await expect.poll(() => page.getByTestId("identity").textContent(), POLL).toContain("Token ");
      expect(await page.getByRole("button", { name: /^(Drain|Undrain|Deregister)$/ }).count()).toBe(0);
      expect(await page.getByRole("columnheader", { name: "Actions" }).count()).toBe(0);

      await page.goto(`${base}/config/shop?service=orders`);
      await expect.poll(() => value(page, "timeout").textContent(), POLL).toBe("1s");
      expect(await value(page, "token.header").textContent()).toBe("X-Token");
      expect(await value(page, "upstream").textContent()).toBe("••••••");
      expect(await value(page, "upstream").getByRole("button").count()).toBe(0);
      expect(await page.content()).not.toContain("hunter2");
      expect(await page.getByRole("button", { name: /^(Edit|Add a key.*)$/ }).count()).toBe(0);
      await page.locator('tr[data-key="timeout"]').getByRole("button", { name: "History" }).click();
      await page.getByTestId("diff").waitFor();
      expect(await page.getByRole("button", { name: /Roll back/ }).count()).toBe(0);
      await page.screenshot({ path: join(OUTPUT, "read-only-config.png"), fullPage: true });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "shows a token's actions only on the namespace and service its grants cover",
    async () => {
      const page = await tabWith(tokens.writer);
      await page.goto(`${base}/services/shop/orders`);
      const orders = page.locator('tr[data-instance="orders-1"]');
      await orders.getByRole("button", { name: "Drain" }).waitFor({ timeout: 20_000 });
      expect(await orders.getByRole("button", { name: "Deregister" }).count()).toBe(1);
      page.once("dialog", (dialog) => void dialog.accept());
      await orders.getByRole("button", { name: "Drain" }).click();
      await expect.poll(() => orders.locator('[data-col="state"]').textContent(), { timeout: 20_000 }).toBe("draining");
      await page.screenshot({ path: join(OUTPUT, "writer-orders.png"), fullPage: true });

      // payments: read only (register is granted on shop/orders alone).
      await page.goto(`${base}/services/shop/payments`);
      await page.locator('tr[data-instance="payments-1"]').waitFor({ timeout: 20_000 });
      await expect.poll(() => page.getByTestId("identity").textContent(), POLL).toContain("Token ");
      expect(await page.getByRole("button", { name: /^(Drain|Undrain|Deregister)$/ }).count()).toBe(0);

      // Config of shop/orders: write granted, read-secrets not.
      await page.goto(`${base}/config/shop?service=orders`);
      const timeout = page.locator('tr[data-key="timeout"]');
      await timeout.getByRole("button", { name: "Edit" }).waitFor({ timeout: 20_000 });
      expect(await value(page, "upstream").textContent()).toBe("••••••");
      await timeout.getByRole("button", { name: "Edit" }).click();
      await page.getByLabel("Value").fill("2s");
      await page.getByRole("button", { name: "Save" }).click();
      await expect.poll(() => value(page, "timeout").textContent(), { timeout: 20_000 }).toBe("2s");
      await timeout.getByRole("button", { name: "History" }).click();
      await page.locator(".versions button").nth(1).click();
      await page.getByRole("button", { name: /Roll back to revision/ }).waitFor();

      // Namespace-wide config of shop: no write grant there.
      await page.goto(`${base}/config/shop`);
      await page.getByTestId("config").waitFor({ timeout: 20_000 });
      await expect.poll(() => page.getByTestId("identity").textContent(), POLL).toContain("Token ");
      expect(await page.getByRole("button", { name: /^(Edit|Add a key.*)$/ }).count()).toBe(0);

      // The replicas need read on "*": the page says so instead of failing.
      await page.goto(`${base}/health/shop`);
      await expect.poll(() => page.getByTestId("replicas-error").textContent(), { timeout: 20_000 }).toMatch(/needs read on all/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "shows a secret to a token with read-secrets, masked until asked",
    async () => {
      const page = await tabWith(tokens.secrets);
      await page.goto(`${base}/config/shop?service=orders`);
      const cell = value(page, "upstream");
      await cell.getByRole("button", { name: "Show" }).waitFor({ timeout: 20_000 });
      expect(await cell.locator("code").textContent()).toBe("••••••");
      await cell.getByRole("button", { name: "Show" }).click();
      await expect.poll(() => cell.locator("code").textContent(), POLL).toBe("hunter2");
      expect(await page.getByRole("button", { name: "Edit" }).count()).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "lists both control-plane replicas and the store status on the Health page",
    async () => {
      const page = await tabWith(tokens.reader);
      await page.goto(`${base}/health/shop`);
      const replicas = page.getByTestId("replicas");
      await expect
        .poll(() => replicas.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-replica"))), {
          timeout: 20_000,
        })
        .toEqual(["replica-a", "replica-b"]);
      const status = await page.getByTestId("store-status").textContent();
      expect(status).toMatch(/etcd:\s*reachable/);
      expect(status).toMatch(/replica-a:\s*serving/);
      await page.screenshot({ path: join(OUTPUT, "health-replicas.png"), fullPage: true });

      // The other replica answers for itself and leaves the list when it stops.
      await servers[1]!.close();
      servers = [servers[0]!];
      await expect.poll(() => replicas.locator("tbody tr").count(), { timeout: 20_000 }).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );

  it("threw no errors in the pages", () => {
    expect(pageErrors).toEqual([]);
  });
});
