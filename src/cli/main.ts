#!/usr/bin/env node
import { COMMANDS } from "./command-table.js";
import { runCli } from "./run-cli.js";

// No top-level await: the single-executable build bundles this file as CommonJS.
void runCli(process.argv.slice(2), COMMANDS, {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
}).then((code) => {
  process.exitCode = code;
});
