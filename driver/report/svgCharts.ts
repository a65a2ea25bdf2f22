/**
 * Small self-contained SVG charts for the release report: no script, no external resources, text escaped.
 *   metricPanels  one small bar panel per metric (challenger vs champion), each on its own scale
 *   lineChart     y by x for a few series (latency percentiles by concurrency), with optional dashed limits
 */
import { escapeXml } from "./escape.js";

const COLORS = ["#2563eb", "#f59e0b", "#dc2626", "#059669", "#7c3aed"];
const FONT = `font-family="system-ui, -apple-system, Segoe UI, sans-serif"`;

/** "Nice" upper bound and tick step for an axis from 0 to `max`. */
export function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Number((Math.ceil(max / step - 1e-9) * step).toPrecision(12)), step };
}

export const fmtNum = (v: number): string => {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1).replace(/\.0$/, "");
  if (a >= 1) return Number(v.toPrecision(4)).toString();
  return Number(v.toPrecision(3)).toString();
};

export interface MetricPair {
  name: string;
  challenger: number;
  champion?: number;
  /** lower is better (drawn in the caption) */
  lowerIsBetter?: boolean;
}

export function metricPanels(metrics: readonly MetricPair[], labels = { challenger: "challenger", champion: "champion" }): string {
  const pw = 200;
  const ph = 170;
  const width = Math.max(1, metrics.length) * pw + 20;
  const height = ph;
  const parts: string[] = [];
  metrics.forEach((m, i) => {
    const x0 = 10 + i * pw;
    const plotTop = 44;
    const plotH = ph - 44 - 30;
    const max = Math.max(Math.abs(m.challenger), Math.abs(m.champion ?? 0));
    const { top } = niceScale(max, 4);
    const bars: Array<{ v: number | undefined; label: string; color: string }> = [
      { v: m.champion, label: labels.champion, color: "#9ca3af" },
      { v: m.challenger, label: labels.challenger, color: COLORS[0]! },
    ];
    parts.push(`<g>`);
    parts.push(
      `<text x="${x0 + pw / 2}" y="22" text-anchor="middle" font-size="14" font-weight="600" ${FONT}>${escapeXml(m.name)}${m.lowerIsBetter ? " (lower is better)" : m.lowerIsBetter === false ? " (higher is better)" : ""}</text>`,
    );
    parts.push(`<line x1="${x0 + 20}" y1="${plotTop + plotH}" x2="${x0 + pw - 20}" y2="${plotTop + plotH}" stroke="#6b7280"/>`);
    bars.forEach((b, j) => {
      const bx = x0 + 40 + j * 80;
      if (b.v === undefined || !Number.isFinite(b.v)) {
        parts.push(`<text x="${bx + 20}" y="${plotTop + plotH - 6}" text-anchor="middle" font-size="11" fill="#6b7280" ${FONT}>none</text>`);
      } else {
        const h = Math.max(1, (Math.abs(b.v) / top) * plotH);
        parts.push(
          `<rect x="${bx}" y="${(plotTop + plotH - h).toFixed(1)}" width="40" height="${h.toFixed(1)}" fill="${b.color}"><title>${escapeXml(`${b.label} ${m.name} = ${b.v}`)}</title></rect>`,
        );
        parts.push(
          `<text x="${bx + 20}" y="${(plotTop + plotH - h - 5).toFixed(1)}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(fmtNum(b.v))}</text>`,
        );
      }
      parts.push(`<text x="${bx + 20}" y="${plotTop + plotH + 16}" text-anchor="middle" font-size="11" fill="#374151" ${FONT}>${escapeXml(b.label)}</text>`);
    });
    parts.push(`</g>`);
  });
  return svg(width, height, "challenger vs champion metrics", parts);
}

export interface Series {
  name: string;
  values: readonly number[];
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  x: readonly number[];
  series: readonly Series[];
  /** dashed horizontal lines, e.g. the SLO */
  limits?: ReadonlyArray<{ value: number; label: string }>;
}

export function lineChart(spec: LineChartSpec): string {
  const width = 640;
  const height = 340;
  const m = { l: 64, r: 150, t: 36, b: 52 };
  const pw = width - m.l - m.r;
  const ph = height - m.t - m.b;
  const all = [...spec.series.flatMap((s) => s.values), ...(spec.limits ?? []).map((l) => l.value)].filter(Number.isFinite);
  const { top, step } = niceScale(Math.max(0, ...all));
  const n = spec.x.length;
  const xs = (i: number): number => m.l + (n <= 1 ? pw / 2 : (i / (n - 1)) * pw);
  const ys = (v: number): number => m.t + ph - (Math.min(v, top) / top) * ph;
  const p: string[] = [];
  p.push(`<text x="${m.l}" y="22" font-size="15" font-weight="600" ${FONT}>${escapeXml(spec.title)}</text>`);
  for (let v = 0; v <= top + 1e-9; v += step) {
    const y = ys(v).toFixed(1);
    p.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#e5e7eb"/>`);
    p.push(`<text x="${m.l - 8}" y="${y}" dy="4" text-anchor="end" font-size="11" fill="#374151" ${FONT}>${escapeXml(fmtNum(v))}</text>`);
  }
  spec.x.forEach((xv, i) => {
    p.push(`<text x="${xs(i).toFixed(1)}" y="${m.t + ph + 18}" text-anchor="middle" font-size="11" fill="#374151" ${FONT}>${escapeXml(fmtNum(xv))}</text>`);
  });
  p.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#6b7280"/>`);
  p.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#6b7280"/>`);
  p.push(`<text x="${m.l + pw / 2}" y="${height - 12}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.xLabel)}</text>`);
  p.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.yLabel)}</text>`);
  // legend in the right margin, bottom-aligned (the limit labels sit at their lines' height, usually higher)
  const legendY = m.t + ph - spec.series.length * 18 + 6;
  (spec.limits ?? []).forEach((l) => {
    const y = ys(l.value).toFixed(1);
    p.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#6b7280" stroke-dasharray="6 4"/>`);
    p.push(`<text x="${m.l + pw + 8}" y="${y}" dy="4" font-size="11" fill="#374151" ${FONT}>${escapeXml(l.label)}</text>`);
  });
  spec.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    const pts = s.values.map((v, i) => `${xs(i).toFixed(1)},${ys(v).toFixed(1)}`).join(" ");
    if (s.values.length > 1) p.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
    s.values.forEach((v, i) => {
      p.push(
        `<circle cx="${xs(i).toFixed(1)}" cy="${ys(v).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name} at ${spec.x[i]}: ${fmtNum(v)}`)}</title></circle>`,
      );
    });
    const ly = legendY + k * 18;
    p.push(`<rect x="${m.l + pw + 8}" y="${ly - 5}" width="12" height="3" fill="${color}"/>`);
    p.push(`<text x="${m.l + pw + 26}" y="${ly}" font-size="12" ${FONT}>${escapeXml(s.name)}</text>`);
  });
  return svg(width, height, spec.title, p);
}

function svg(width: number, height: number, label: string, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(label)}">${parts.join("")}</svg>`;
}
