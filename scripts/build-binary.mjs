#!/usr/bin/env node
// Builds a Node single executable application (SEA): one file with the Node runtime inside.
//
//   node scripts/build-binary.mjs                       # src/cli/main.ts -> dist/switchboard
//   node scripts/build-binary.mjs --entry examples/orders/main.ts --out dist/examples/orders
//   node scripts/build-binary.mjs --node "$(command -v node)"   # on the Node running the build
//
// The runtime inside is the pinned Node LTS of scripts/node-runtime.mjs (Node 24), whatever Node
// runs this script: the code targets Node 20 and later, what we ship runs on a supported LTS.
// Steps: esbuild bundles the entry and everything it imports into one CommonJS file (a SEA main
// script may require() only built-in modules, and CommonJS rules out top-level await: esbuild
// fails the build naming the line if a module uses it); files that libraries read from disk at
// load time are inlined by the plugins below; `node --experimental-sea-config` turns the bundle
// into a blob (run by the runtime being shipped: a blob only runs on the Node that made it); postject injects the blob into a copy of this Node binary and flips its fuse.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { shippedNodeRuntime } from "./node-runtime.mjs";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const requireFromRepo = createRequire(join(repoRoot, "package.json"));
const esbuild = requireFromRepo("esbuild");

/** The fuse postject flips so that Node runs the injected blob; fixed for every Node version. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/**
 * etcd3 calls proto-loader's loadSync(`${__dirname}/../proto/rpc.proto`) when it is first
 * required. In the bundle there is no such directory, so this plugin parses the protos at build
 * time (with the same protobufjs and options etcd3 uses) and swaps the call for proto-loader's
 * fromJSON on the parsed tree. The build fails if etcd3 ever changes that line.
 */
function inlineEtcdProtos() {
  return {
    name: "inline-etcd3-protos",
    setup(build) {
      build.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
        const source = readFileSync(args.path, "utf8");
        const call = "(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`, {";
        if (source.split(call).length !== 2) {
          throw new Error(`${args.path}: expected one "${call}" to inline; etcd3 changed, update this plugin`);
        }
        const requireFromEtcd = createRequire(args.path);
        const protoLoader = requireFromEtcd("@grpc/proto-loader");
        const protobuf = createRequire(requireFromEtcd.resolve("@grpc/proto-loader"))("protobufjs");
        const protoFile = join(dirname(args.path), "..", "proto", "rpc.proto");
        // The options etcd3 passes; keepCase matters at parse time, the rest when the
        // package definition is built (at run time, from the same object literal).
        const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
        const root = new protobuf.Root().loadSync(protoFile, options);
        root.resolveAll();
        const json = root.toJSON();
        assertSameServices(protoLoader.loadSync(protoFile, options), protoLoader.fromJSON(json, options));
        return {
          contents: source.replace(call, `(0, proto_loader_1.fromJSON)(${JSON.stringify(json)}, {`),
          loader: "js",
          resolveDir: dirname(args.path),
        };
      });
    },
  };
}

/**
 * src/server/descriptor-set.ts finds generated/switchboard.binpb and xds.binpb on disk, next to
 * the sources; the binary carries the descriptor sets inside instead (esbuild's binary loader: a Uint8Array).
 */
function embedDescriptorSet() {
  return {
    name: "embed-descriptor-set",
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]server[\\/]descriptor-set\.ts$/ }, () => ({
        contents: [
          `import descriptorSet from ${JSON.stringify(join(repoRoot, "generated", "switchboard.binpb"))};`,
          `import xdsDescriptorSet from ${JSON.stringify(join(repoRoot, "generated", "xds.binpb"))};`,
          `import { mergeDescriptorSets } from ${JSON.stringify(join(repoRoot, "src", "server", "merge-descriptor-sets.ts"))};`,
          "export function loadDescriptorSet(): Uint8Array { return mergeDescriptorSets(descriptorSet, xdsDescriptorSet); }",
        ].join("\n"),
        loader: "ts",
        resolveDir: repoRoot,
      }));
    },
  };
}

/**
 * src/http/ui-assets.ts reads the dashboard (dist/ui/index.html, made by `npm run build`) from
 * disk; the binary carries the page inside instead.
 */
function embedUiPage() {
  return {
    name: "embed-ui-page",
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]http[\\/]ui-assets\.ts$/ }, () => {
        const page = join(repoRoot, "dist", "ui", "index.html");
        // Built here when `npm run build` has not run (e.g. a test building a binary from a fresh clone).
        if (!existsSync(page)) quietly(process.execPath, [join(repoRoot, "scripts", "build-ui.mjs")]);
        const html = readFileSync(page, "utf8");
        return {
          contents: `export function loadUiPage(): string | undefined { return ${JSON.stringify(html)}; }`,
          loader: "ts",
          resolveDir: repoRoot,
        };
      });
    },
  };
}

/** Every service method of the parsed-from-disk definition exists, with the same path, in the inlined one. */
function assertSameServices(fromDisk, fromJson) {
  const describe = (definition) =>
    Object.entries(definition)
      .filter(([, value]) => value && typeof value === "object" && !("format" in value))
      .flatMap(([name, service]) => Object.entries(service).map(([method, m]) => `${name}.${method} ${m.path}`))
      .sort()
      .join("\n");
  const a = describe(fromDisk);
  if (a === "" || a !== describe(fromJson)) {
    throw new Error("inlined etcd3 protos differ from the ones read from disk");
  }
}

/**
 * Bundles `entry` into `bundleFile` (CommonJS, node20). `import.meta` is an error rather than the
 * empty object esbuild would leave in CommonJS: code relying on it would break only at run time.
 * Files ending in .binpb (descriptor sets) are embedded as Uint8Array when imported.
 */
async function bundle(entry, bundleFile) {
  await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    outfile: bundleFile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    loader: { ".binpb": "binary" },
    legalComments: "none",
    logLevel: "warning",
    logOverride: { "empty-import-meta": "error" },
    plugins: [inlineEtcdProtos(), embedDescriptorSet(), embedUiPage()],
  });
}

/**
 * Builds a single executable from `entry` at `outfile`. `nodeBinary` is the runtime copied into
 * it (--node; default: the pinned LTS of node-runtime.mjs); `strip` drops its symbol tables first
 * when the `strip` tool is on PATH (before injecting: stripping an injected binary would break it).
 */
async function buildBinary({ entry, outfile, nodeBinary, strip }) {
  const started = Date.now();
  const runtimeVersion = execFileSync(nodeBinary, ["--version"], { encoding: "utf8" }).trim();
  const out = resolve(repoRoot, outfile);
  const work = join(dirname(out), ".sea", basename(out));
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const bundleFile = join(work, "main.cjs");
  await bundle(entry, bundleFile);

  const blob = join(work, "sea-prep.blob");
  const seaConfig = join(work, "sea-config.json");
  writeFileSync(
    seaConfig,
    JSON.stringify({ main: bundleFile, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2),
  );
  // The blob (and its code cache) is made by the runtime it will run on: only that version can run it.
  quietly(nodeBinary, ["--experimental-sea-config", seaConfig]);

  rmSync(out, { force: true });
  copyFileSync(nodeBinary, out);
  chmodSync(out, 0o755);
  // Symbols only help native debuggers (addons link against .dynsym, which stays): about 12 MB.
  if (strip && hasCommand("strip")) quietly("strip", ["--strip-all", out]);
  // postject (LIEF) warns about every ELF note of Node's; only a failure is worth printing.
  const postject = join(dirname(requireFromRepo.resolve("postject")), "cli.js");
  quietly(process.execPath, [postject, out, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE]);
  chmodSync(out, 0o755);
  return {
    outfile: out,
    runtimeVersion,
    bundleFile,
    bytes: statSync(out).size,
    bundleBytes: statSync(bundleFile).size,
    ms: Date.now() - started,
  };
}

/** Runs a command, printing its output only if it fails. */
function quietly(file, args) {
  try {
    execFileSync(file, args, { stdio: "pipe" });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ""}${error.stderr ?? ""}`);
    throw new Error(`${basename(file)} ${args.join(" ")} failed`, { cause: error });
  }
}

function hasCommand(name) {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      entry: { type: "string", default: "src/cli/main.ts" },
      out: { type: "string", default: "dist/switchboard" },
      node: { type: "string" },
      "no-strip": { type: "boolean", default: false },
    },
  });
  const nodeBinary = values.node ?? shippedNodeRuntime();
  const r = await buildBinary({ entry: values.entry, outfile: values.out, nodeBinary, strip: !values["no-strip"] });
  const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  console.log(
    `${r.outfile}: ${mb(r.bytes)} (bundle ${mb(r.bundleBytes)}, Node ${r.runtimeVersion}) in ${(r.ms / 1000).toFixed(1)} s`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
