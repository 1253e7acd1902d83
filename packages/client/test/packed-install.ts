/**
 * Helpers of pack.test.ts: pack the SDK as a user would get it, and install the tarball into an
 * empty project without the registry.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * Copies what building the package needs (the package, the shared wire contract, the root
 * tsconfig) into `dir`, laid out as in the repository, with node_modules linked to the
 * repository's. Packing the copy runs `prepack` for real without touching the checkout's dist/,
 * which the built CLI of other tests resolves at the same time.
 */
export function stageRepository(repoRoot: string, dir: string): string {
  const packageDir = join(dir, "packages", "client");
  for (const entry of [
    "package.json",
    "tsconfig.json",
    "tsconfig.build.json",
    "README.md",
    "LICENSE",
    "src",
    "examples",
    "scripts",
  ]) {
    cpSync(join(repoRoot, "packages", "client", entry), join(packageDir, entry), { recursive: true });
  }
  cpSync(join(repoRoot, "generated"), join(dir, "generated"), { recursive: true });
  mkdirSync(join(dir, "src"), { recursive: true });
  cpSync(join(repoRoot, "src", "errors.ts"), join(dir, "src", "errors.ts"));
  cpSync(join(repoRoot, "src", "contract.ts"), join(dir, "src", "contract.ts"));
  cpSync(join(repoRoot, "tsconfig.json"), join(dir, "tsconfig.json"));
  // The shared sources are ES modules because the repository's package.json says so.
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ private: true, type: "module" })}\n`);
  symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  return packageDir;
}

/**
 * A package-lock.json for a project whose only dependency is the packed SDK: the tarball plus
 * every package it pulls in, with the versions and integrities of the repository's own lockfile.
 * `npm ci --offline` then installs from npm's cache (filled by the repository's `npm ci`), so the
 * test needs no registry and installs exactly what a user would get from this lockfile.
 */
export function lockfileFor(repoLock: { packages: Record<string, LockEntry> }, tarball: { file: string; integrity: string }) {
  const source = repoLock.packages;
  const sdk = source["packages/client"];
  if (sdk === undefined) throw new Error("package-lock.json has no packages/client entry");
  const packages: Record<string, LockEntry> = {
    "": { name: "sdk-consumer", dependencies: { "@switchboard/client": `file:${tarball.file}` } },
    "node_modules/@switchboard/client": {
      version: sdk.version,
      resolved: `file:${tarball.file}`,
      integrity: tarball.integrity,
      license: sdk.license,
      dependencies: sdk.dependencies,
    },
  };
  // Node's lookup in lockfile terms: <from>/node_modules/<name>, then each ancestor's, then the root's.
  const locate = (name: string, from: string): string => {
    for (let at = from; ;) {
      if (source[`${at}/node_modules/${name}`] !== undefined) return `${at}/node_modules/${name}`;
      const parent = at.lastIndexOf("/node_modules/");
      if (parent < 0) break;
      at = at.slice(0, parent);
    }
    if (source[`node_modules/${name}`] !== undefined) return `node_modules/${name}`;
    throw new Error(`package-lock.json cannot resolve ${name} from ${from}`);
  };
  const visit = (deps: Record<string, string> | undefined, from: string): void => {
    for (const name of Object.keys(deps ?? {})) {
      const key = locate(name, from);
      const target = key.startsWith("packages/client/")
        ? key.replace("packages/client/", "node_modules/@switchboard/client/")
        : key;
      if (packages[target] !== undefined) continue;
      const { dev: _dev, peer: _peer, devOptional: _devOptional, ...entry } = source[key]!;
      packages[target] = entry;
      visit(entry.dependencies, key);
      visit(entry.optionalDependencies, key);
    }
  };
  visit(sdk.dependencies, "packages/client");
  return { name: "sdk-consumer", lockfileVersion: 3, requires: true, packages };
}

/** Installed packages (every directory with a package.json under node_modules, nested ones too) and their bytes on disk. */
export function measureNodeModules(dir: string): { packages: string[]; bytes: number } {
  const packages: string[] = [];
  let bytes = 0;
  const size = (path: string): number => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.size;
    // A package's nested node_modules are counted as packages of their own.
    return readdirSync(path).reduce((sum, name) => sum + (name === "node_modules" ? 0 : size(join(path, name))), 0);
  };
  const walk = (modules: string): void => {
    for (const name of readdirSync(modules)) {
      if (name.startsWith(".")) continue;
      if (name.startsWith("@")) {
        for (const scoped of readdirSync(join(modules, name))) visitPackage(join(modules, name, scoped), `${name}/${scoped}`);
      } else visitPackage(join(modules, name), name);
    }
  };
  const visitPackage = (path: string, name: string): void => {
    packages.push(name);
    bytes += size(path);
    try {
      if (statSync(join(path, "node_modules")).isDirectory()) walk(join(path, "node_modules"));
    } catch {
      // no nested node_modules
    }
  };
  walk(join(dir, "node_modules"));
  return { packages: packages.sort(), bytes };
}

export function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}
