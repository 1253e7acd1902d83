#!/usr/bin/env node
// Builds the dashboard (ui/) into one file, dist/ui/index.html, with its script and styles inlined:
// no CDN and no other requests at run time, and one file for the single binary to embed
// (scripts/build-binary.mjs). Run by `npm run build`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const esbuild = createRequire(join(repoRoot, "package.json"))("esbuild");

const script = await esbuild.build({
  absWorkingDir: repoRoot,
  entryPoints: ["ui/app.js"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  write: false,
  legalComments: "none",
  logLevel: "warning",
});
const css = await esbuild.build({
  absWorkingDir: repoRoot,
  entryPoints: ["ui/styles.css"],
  bundle: true,
  minify: true,
  write: false,
  logLevel: "warning",
});
const js = script.outputFiles[0].text.replaceAll("</script", "<\\/script");
const page = readFileSync(join(repoRoot, "ui", "index.html"), "utf8")
  .replace("/*STYLES*/", () => css.outputFiles[0].text)
  .replace("/*SCRIPT*/", () => js);
const out = join(repoRoot, "dist", "ui", "index.html");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, page);
console.log(
  `${out}: ${(Buffer.byteLength(page) / 1024).toFixed(1)} KiB (script ${(Buffer.byteLength(js) / 1024).toFixed(1)} KiB)`,
);
