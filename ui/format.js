export const short = (value, prefix) => (value ?? "").replace(prefix, "").toLowerCase().replace(/_/g, " ") || "unspecified";
export const stateName = (s) => short(s ?? "INSTANCE_STATE_UP", "INSTANCE_STATE_");
export const healthName = (s) => short(s, "HEALTH_STATUS_");
export const layerName = (s) => short(s, "LAYER_");
export const time = (iso) => (iso ? new Date(iso).toLocaleString() : "");
export const scopeText = (scope = {}) =>
  `${scope.namespace || "default"}${scope.service ? `/${scope.service}` : ""}${scope.profile ? ` (${scope.profile})` : ""}`;

/** Line diff (longest common subsequence): [{op: " "|"-"|"+", line}]. Small values only. */
export function diffLines(before, after) {
  const a = (before ?? "").split("\n");
  const b = (after ?? "").split("\n");
  if (a.length * b.length > 250_000) return [...a.map((line) => ({ op: "-", line })), ...b.map((line) => ({ op: "+", line }))];
  const dp = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ op: " ", line: a[i++] });
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) out.push({ op: "-", line: a[i++] });
    else out.push({ op: "+", line: b[j++] });
  }
  while (i < a.length) out.push({ op: "-", line: a[i++] });
  while (j < b.length) out.push({ op: "+", line: b[j++] });
  return out;
}
