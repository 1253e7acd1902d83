import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Command } from "./command.js";
import { UsageError } from "./command.js";
import { runCli } from "./run-cli.js";
import { VERSION } from "./version.js";

function capture() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const text = (stream: PassThrough) => () => String(stream.read() ?? "");
  return { io: { env: {}, stdout, stderr }, out: text(stdout), err: text(stderr) };
}

const echo: Command = {
  name: "echo",
  summary: "prints its arguments",
  usage: "Usage: switchboard echo [words]\n",
  async run({ argv, stdout }) {
    if (argv[0] === "--bad") throw new UsageError("bad flag");
    if (argv[0] === "--crash") throw new Error("boom");
    stdout.write(`${argv.join(" ")}\n`);
    return 0;
  },
};

describe("runCli", () => {
  it("prints the version", async () => {
    const { io, out } = capture();
    expect(await runCli(["--version"], [echo], io)).toBe(0);
    expect(out()).toBe(`switchboard ${VERSION}\n`);
  });

  it("lists commands on --help, and exits 2 without a command", async () => {
    const { io, out } = capture();
    expect(await runCli(["--help"], [echo], io)).toBe(0);
    expect(out()).toContain("  echo  prints its arguments");
    expect(await runCli([], [echo], io)).toBe(2);
  });

  it("dispatches to a command, with its own help", async () => {
    const { io, out } = capture();
    expect(await runCli(["echo", "a", "b"], [echo], io)).toBe(0);
    expect(out()).toBe("a b\n");
    expect(await runCli(["echo", "--help"], [echo], io)).toBe(0);
    expect(out()).toBe(echo.usage);
    expect(await runCli(["help", "echo"], [echo], io)).toBe(0);
    expect(out()).toBe(echo.usage);
  });

  it("exits 2 on unknown commands and usage errors, 1 on failures", async () => {
    const { io, err } = capture();
    expect(await runCli(["nope"], [echo], io)).toBe(2);
    expect(err()).toContain('unknown command "nope"');
    expect(await runCli(["echo", "--bad"], [echo], io)).toBe(2);
    expect(err()).toContain("switchboard echo: bad flag");
    expect(await runCli(["echo", "--crash"], [echo], io)).toBe(1);
    expect(err()).toBe("switchboard echo: boom\n");
  });
});
