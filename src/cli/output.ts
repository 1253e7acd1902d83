/**
 * Output helpers shared by CLI commands: aligned tables for people, JSON for
 * scripts (one document, or one document per line for streams).
 */

/** Left-aligned columns separated by two spaces; header in capitals; no trailing spaces. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** One pretty-printed JSON document (for commands that answer once). */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** One compact JSON document on one line (for streams: `watch --json | jq`). */
export function formatJsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** "k=v,k2=v2" in key order, or "-" when empty. */
export function formatPairs(pairs: Readonly<Record<string, string>>): string {
  const entries = Object.entries(pairs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? "-" : entries.map(([key, value]) => `${key}=${value}`).join(",");
}

/** Human age of a timestamp: "42s", "7m", "3h", "2d"; "-" when unknown. */
export function formatAge(since: Date | undefined, now: number = Date.now()): string {
  if (since === undefined) return "-";
  const seconds = Math.max(0, Math.floor((now - since.getTime()) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
