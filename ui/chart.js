import { html } from "./html.js";

/**
 * A small line chart (SVG) of series over time: points [{t, values: {name: n}}],
 * series [{name, label, color}]. Kept deliberately simple: axes are the time
 * window and 0..max.
 */
export function LineChart({ points, series, windowMs, title }) {
  const width = 480;
  const height = 120;
  const now = Date.now();
  const start = now - windowMs;
  const max = Math.max(1, ...points.flatMap((p) => series.map((s) => p.values[s.name] ?? 0)));
  const x = (t) => ((t - start) / windowMs) * width;
  const y = (v) => height - 4 - (v / max) * (height - 8);
  const lines = series.map((s) => {
    const coords = points.filter((p) => p.t >= start).map((p) => `${x(p.t).toFixed(1)},${y(p.values[s.name] ?? 0).toFixed(1)}`);
    // Carry the last value to now, so a flat line reaches the right edge.
    const last = points[points.length - 1];
    if (last) coords.push(`${width},${y(last.values[s.name] ?? 0).toFixed(1)}`);
    return html`<polyline fill="none" stroke=${s.color} stroke-width="2" points=${coords.join(" ")} />`;
  });
  const last = points[points.length - 1];
  return html`<figure class="chart">
    <svg
      viewBox="0 0 ${width} ${height}"
      role="img"
      aria-label=${`${title}; latest: ${series.map((s) => `${s.label} ${last?.values[s.name] ?? 0}`).join(", ")}`}
    >
      <rect x="0" y="0" width=${width} height=${height} class="chart-bg" />
      ${lines}
    </svg>
    <figcaption>
      ${title} (max ${max}) —
      ${series.map((s) => html`<span class="legend"><i style=${`background:${s.color}`}></i>${s.label}: ${last?.values[s.name] ?? 0} </span>`)}
    </figcaption>
  </figure>`;
}

/** Bars of counts per bucket (e.g. health transitions per minute). */
export function BarChart({ buckets, title, color = "#b45309" }) {
  const width = 480;
  const height = 80;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const w = width / Math.max(1, buckets.length);
  const total = buckets.reduce((n, b) => n + b.count, 0);
  return html`<figure class="chart">
    <svg viewBox="0 0 ${width} ${height}" role="img" aria-label=${`${title}: ${total} in the window`}>
      <rect x="0" y="0" width=${width} height=${height} class="chart-bg" />
      ${buckets.map((b, i) => {
        const h = (b.count / max) * (height - 4);
        return html`<rect x=${i * w + 1} y=${height - h} width=${Math.max(1, w - 2)} height=${h} fill=${color}
          ><title>${new Date(b.t).toLocaleTimeString()}: ${b.count}</title></rect
        >`;
      })}
    </svg>
    <figcaption>${title} — ${total} in the last ${buckets.length} minutes (max ${max} per minute)</figcaption>
  </figure>`;
}

/** Counts of timestamps per minute over the last `minutes` minutes. */
export function perMinute(times, minutes = 60) {
  const now = Date.now();
  const start = Math.floor(now / 60000) * 60000 - (minutes - 1) * 60000;
  const buckets = Array.from({ length: minutes }, (_, i) => ({ t: start + i * 60000, count: 0 }));
  for (const t of times) {
    const i = Math.floor((t - start) / 60000);
    if (i >= 0 && i < minutes) buckets[i].count++;
  }
  return buckets;
}
