/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core)
 * against a real server: instances appear live and leave when their process
 * is killed, drain from the page shows in the CLI, a config edit meets a CAS
 * conflict caused from the CLI and is rolled back, a keyboard-only pass, axe
 * with no serious violations, no console errors. Then the scale figures: the
 * overview with 1,000 services and 10,000 instances and a 2,000-instance
 * service page (measured and printed, not asserted tightly: see bench/ for
 * timing rules). Screenshots go to test-output/dashboard/.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { requireChromium } from "./support/chromium.js";
import { spawnServer, startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

// Browser globals, for the functions page.evaluate runs in the page (this file is compiled without the DOM lib).
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
declare const Event: any;
type HTMLButtonElement = any;
type HTMLInputElement = any;

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUTPUT = join(REPO_ROOT, "test-output", "dashboard");
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const REGISTRY = "switchboard.registry.v1.RegistryService";
const CONFIG = "switchboard.config.v1.ConfigService";
const chromiumPath = requireChromium();

let server: TestServer;
let base: string;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!chromiumPath) return;
  // The page under test is the current source, whatever dist/ holds.
  execFileSync(process.execPath, [join(REPO_ROOT, "scripts", "build-ui.mjs")], { stdio: "ignore" });
  mkdirSync(OUTPUT, { recursive: true });
  server = await startTestServer();
  base = `http://${server.httpAddress}`;
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(`${message.text()} ${message.location().url}`);
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function post(path: string, body: unknown) {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, any>;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

const register = (id: string, service = "orders", namespace = "default", ttlSeconds = 120) =>
  post(`/${REGISTRY}/Register`, {
    instance: {
      namespace,
      service,
      instanceId: id,
      address: "127.0.0.1",
      port: 9000,
      zone: "z1",
      tags: ["web"],
      metadata: { version: "1" },
    },
    ttlSeconds,
  });

/** `switchboard ARGS` in this process against the test server. */
async function cli(...argv: string[]) {
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const stderr = new PassThrough();
  let err = "";
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(argv, COMMANDS, { env: { SWITCHBOARD_ADDRESS: server.grpcAddress }, stdout, stderr });
  return { code, stdout: out, stderr: err };
}

const shot = (name: string, fullPage = true) => page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage });

async function axeSerious(): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  return violations
    .filter((v: any) => v.impact === "serious" || v.impact === "critical")
    .map((v: any) => `${v.id}: ${v.help} (${v.nodes})`);
}

const row = (id: string) => page.locator(`tr[data-instance="${id}"]`);

describe.skipIf(!chromiumPath)("the dashboard in chromium", () => {
  it("shows a registered instance within 1 s, without a reload", async () => {
    await page.goto(`${base}/services/default/orders`);
    await page.getByTestId("instances").waitFor();
    await expect.poll(() => page.getByTestId("connection").textContent()).toBe("Live");
    await register("web-1");
    const started = Date.now();
    await row("web-1").waitFor({ timeout: 5_000 });
    const appearedMs = Date.now() - started;
    console.log(`dashboard: registered instance shown ${appearedMs} ms after Register answered`);
    expect(appearedMs).toBeLessThan(1_000);
    await register("web-2");
    await row("web-2").waitFor({ timeout: 5_000 });
    await shot("service-live");
  });

  it("removes an instance whose process was killed (SIGKILL) within TTL + 2 s of its lease ending", async () => {
    const ttlSeconds = 2;
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "register",
        "orders",
        "127.0.0.1:9301",
        "--id",
        "victim",
        "--ttl",
        String(ttlSeconds),
        "--address",
        server.grpcAddress,
      ],
      { cwd: REPO_ROOT, stdio: "ignore" },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await row("victim").waitFor({ timeout: 30_000 });
      child.kill("SIGKILL");
      await exited;
      const killedAt = Date.now();
      await row("victim").waitFor({ state: "detached", timeout: (ttlSeconds + 2) * 1000 });
      console.log(`dashboard: killed instance left the page ${Date.now() - killedAt} ms after SIGKILL (TTL ${ttlSeconds} s)`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  it("drains an instance from the page, as the CLI then shows", async () => {
    page.once("dialog", (dialog) => void dialog.accept());
    await row("web-1").getByRole("button", { name: "Drain" }).click();
    await expect.poll(() => row("web-1").locator('[data-col="state"]').textContent(), { timeout: 5_000 }).toBe("draining");
    const listed = await cli("instances", "orders", "--all", "--json");
    expect(listed.code).toBe(0);
    const instances = JSON.parse(listed.stdout).instances as Array<{ instanceId: string; state: string }>;
    expect(instances.find((i) => i.instanceId === "web-1")?.state).toBe("INSTANCE_STATE_DRAINING");
    const table = await cli("instances", "orders", "--all");
    expect(table.stdout).toMatch(/web-1\s+\S+\s+DRAINING/);
    await shot("service-drained");
  });

  it("edits config with compare-and-set, shows a conflict caused from the CLI, and rolls back", async () => {
    const scope = { namespace: "default", service: "orders", profile: "" };
    await post(`/${CONFIG}/PutValue`, { scope, key: "timeout", value: "1s" });
    await page.goto(`${base}/config/default?service=orders`);
    const value = () => page.locator('tr[data-key="timeout"] [data-col="value"]').textContent();
    await expect.poll(value).toBe("1s");

    await page.locator('tr[data-key="timeout"]').getByRole("button", { name: "Edit" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Save" }).isEnabled()).toBe(true);
    // Someone else writes meanwhile: the page shows it live, and the open form is now stale.
    expect((await cli("config", "set", "timeout", "5s", "-s", "orders")).code).toBe(0);
    await expect.poll(value).toBe("5s");
    await page.getByLabel("Value").fill("3s");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByTestId("conflict").textContent()).resolves.toMatch(/Conflict: timeout changed/);
    await shot("config-conflict");
    expect((await post(`/${CONFIG}/GetValue`, { scope, key: "timeout" })).value.value).toBe("5s");
    await page.getByRole("button", { name: "Cancel" }).click();

    await page.locator('tr[data-key="timeout"]').getByRole("button", { name: "History" }).click();
    const versions = page.locator(".versions button");
    await expect.poll(() => versions.count()).toBe(2);
    await versions.nth(1).click();
    await expect(page.getByTestId("diff").textContent()).resolves.toContain("+ 1s");
    await versions.nth(0).click();
    await expect.poll(() => page.getByTestId("diff").textContent()).toMatch(/- 1s\s*\+ 5s/);
    await versions.nth(1).click();
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: /Roll back to revision/ }).click();
    await expect.poll(value, { timeout: 5_000 }).toBe("1s");
    expect((await post(`/${CONFIG}/GetValue`, { scope, key: "timeout" })).value.value).toBe("1s");
    await shot("config-rolled-back");
  });

  it("works from the keyboard alone", async () => {
    await page.goto(`${base}/services/default`);
    await page.getByTestId("services").waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    const focusOn = async (matches: () => boolean | Promise<boolean>, what: string) => {
      for (let presses = 0; presses < 60; presses++) {
        await page.keyboard.press("Tab");
        if (await matches()) return;
      }
      throw new Error(`Tab never reached ${what}`);
    };
    await focusOn(async () => (await page.evaluate(() => document.activeElement?.textContent)) === "orders", "the orders link");
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).pathname).toBe("/services/default/orders");
    await row("web-2").waitFor();
    await focusOn(async () => (await page.evaluate(() => document.activeElement?.textContent)) === "Drain", "a Drain button");
    // Handled as it opens: the key press itself waits until the dialog closes.
    let asked = "";
    page.once("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.dismiss();
    });
    await page.keyboard.press("Enter");
    await expect.poll(() => asked).toMatch(/^Drain web-2 of orders\?/);
    await shot("keyboard");
  });

  it("has no serious accessibility violations (axe-core) on any page", async () => {
    const pages = ["/services/default", "/services/default/orders", "/config/default?service=orders", "/health/default"];
    const found: Record<string, string[]> = {};
    for (const path of pages) {
      await page.goto(base + path);
      await page.waitForSelector("main [aria-busy]", { state: "detached" });
      const serious = await axeSerious();
      if (serious.length > 0) found[path] = serious;
      await shot(`axe${path.replace(/[/?=]+/g, "-")}`);
    }
    expect(found).toEqual({});
  });

  it("wrote no errors to the console", () => {
    // Chromium logs every non-2xx answer to fetch; the one conflict provoked above is expected.
    const provoked = `Failed to load resource: the server responded with a status of 409 (Conflict) ${base}/${CONFIG}/PutValue`;
    expect(consoleErrors.filter((line) => line !== provoked)).toEqual([]);
    expect(consoleErrors).toContain(provoked);
  });

  // Last: the refused connections while the server is down are logged to the console.
  it("shows a disconnected state while the server restarts, then resumes live", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "switchboard-dashboard-"));
    let child = await spawnServer({ args: [`--data-dir=${dataDir}`] });
    try {
      const http = `http://${child.httpAddress}`;
      const registerOn = (id: string) =>
        fetch(`${http}/${REGISTRY}/Register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            instance: { service: "restart", instanceId: id, address: "127.0.0.1", port: 9000 },
            ttlSeconds: 120,
          }),
        });
      expect((await registerOn("before")).status).toBe(200);
      await page.goto(`${http}/services/default/restart`);
      await row("before").waitFor();
      await child.stop();
      await expect.poll(() => page.getByTestId("connection").textContent(), { timeout: 10_000 }).toMatch(/^Disconnected/);
      await shot("disconnected", false);
      // Same ports and data: the page's retries find it again and resume after the last revision seen.
      child = await spawnServer({
        args: [`--data-dir=${dataDir}`, `--listen=${child.grpcAddress}`, `--http-listen=${child.httpAddress}`],
      });
      await expect.poll(() => page.getByTestId("connection").textContent(), { timeout: 15_000 }).toBe("Live");
      expect((await registerOn("after")).status).toBe(200);
      await row("after").waitFor({ timeout: 5_000 });
      expect(await row("before").count()).toBe(1);
    } finally {
      await child.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe.skipIf(!chromiumPath)("the dashboard at scale", () => {
  const SERVICES = 1000;
  const BIG = 2000;
  const TOTAL = 10_000;

  beforeAll(async () => {
    // 999 services of 8 instances and one of 2,008: 1,000 services, 10,000 instances.
    const small = Math.floor((TOTAL - BIG) / (SERVICES - 1));
    const jobs: Array<() => Promise<unknown>> = [];
    for (let s = 1; s < SERVICES; s++) {
      for (let i = 0; i < small; i++) jobs.push(() => register(`i${i}`, `svc-${String(s).padStart(4, "0")}`, "scale", 300));
    }
    const bigCount = TOTAL - small * (SERVICES - 1);
    for (let i = 0; i < bigCount; i++) jobs.push(() => register(`i${String(i).padStart(4, "0")}`, "big", "scale", 300));
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
  }, 240_000);

  it("renders the overview of 1,000 services / 10,000 instances and a 2,000-instance service, responsively", async () => {
    const figures: Record<string, number> = {};
    await page.goto(`${base}/services/scale`);
    // The overview pages by 100: rendered means the first page's rows and the count of all 1,000.
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll('[data-testid="services"] tbody tr').length === 100 &&
        document.querySelector('[data-testid="services"] caption')?.textContent?.trim() === `Services 1–100 of ${n}`,
      SERVICES,
      { timeout: 30_000 },
    );
    figures.overviewMs = Math.round(await page.evaluate(() => performance.now()));
    // Where the time went: the page's own load, and the ListServices call.
    const timing = await page.evaluate(() => {
      const list = (performance as any).getEntriesByType("resource").find((e: any) => e.name.endsWith("/ListServices")) as any;
      const nav = (performance as any).getEntriesByType("navigation")[0];
      return { domContentLoaded: nav?.domContentLoadedEventEnd, listStart: list?.startTime, listEnd: list?.responseEnd };
    });
    figures.overviewPageLoadedMs = Math.round(timing.domContentLoaded ?? -1);
    figures.overviewListServicesMs = Math.round((timing.listEnd ?? 0) - (timing.listStart ?? 0));
    // From the answer's last byte to 1,000 rows in the DOM: the page's own rendering.
    figures.overviewRenderMs = figures.overviewMs - Math.round(timing.listEnd ?? 0);
    await shot("scale-overview", false);

    await page.goto(`${base}/services/scale/big`);
    await page.waitForFunction(
      () => /of 2008$/.test(document.querySelector('[data-testid="instances"] caption')?.textContent ?? ""),
      null,
      { timeout: 30_000 },
    );
    figures.servicePageMs = Math.round(await page.evaluate(() => performance.now()));

    // Time from an input to the DOM showing its result, measured in the page.
    const untilChanged = (action: string) =>
      page.evaluate(
        (action) =>
          new Promise<number>((resolve) => {
            const caption = () => document.querySelector('[data-testid="instances"] caption')?.textContent;
            const before = caption();
            const started = performance.now();
            const observer = new MutationObserver(() => {
              if (caption() !== before) {
                observer.disconnect();
                resolve(performance.now() - started);
              }
            });
            observer.observe(document.body, { subtree: true, childList: true, characterData: true });
            if (action === "next") (document.querySelector(".pager button:last-of-type") as HTMLButtonElement).click();
            else {
              const input = document.querySelector('input[type="search"]') as HTMLInputElement;
              input.value = "i195";
              input.dispatchEvent(new Event("input", { bubbles: true }));
            }
          }),
        action,
      );
    figures.nextPageMs = Math.round(await untilChanged("next"));
    figures.filterMs = Math.round(await untilChanged("filter"));

    // A change to one of 2,000 instances reaches its row.
    const started = Date.now();
    await post(`/${REGISTRY}/UpdateInstance`, {
      namespace: "scale",
      service: "big",
      instanceId: "i1950",
      state: "INSTANCE_STATE_DRAINING",
    });
    await expect
      .poll(() => row("i1950").locator('[data-col="state"]').textContent(), { timeout: 10_000, interval: 20 })
      .toBe("draining");
    figures.liveUpdateMs = Date.now() - started;
    await shot("scale-service", false);

    figures.loadAverage1m = Math.round(loadavg()[0]! * 10) / 10;
    console.log(`dashboard at scale (${SERVICES} services, ${TOTAL} instances): ${JSON.stringify(figures)}`);
    writeFileSync(join(OUTPUT, "scale.json"), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`dashboard at scale: overview rendered in ${figures.overviewMs} ms (target 1,500 ms on an idle machine)`);
    // Generous bounds that hold on a loaded 2-core machine (load average 20+); the figures are the result.
    expect(figures.overviewMs).toBeLessThan(10_000);
    expect(figures.servicePageMs).toBeLessThan(10_000);
    expect(figures.nextPageMs).toBeLessThan(2_000);
    expect(figures.filterMs).toBeLessThan(2_000);
  }, 120_000);
});
