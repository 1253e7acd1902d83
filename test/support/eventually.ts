/** Polls check every intervalMs (default 50) until it holds; resolves with the time it took, fails after timeoutMs. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = "condition",
  intervalMs = 50,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return Date.now() - started;
}
