/**
 * Plain SVG plots of a migration run, after thesis figures 4.3-4.6: per case the CDF and a histogram
 * (PDF) of the time to switch, outliers marked; and the mean phase timeline of every case.
 */
import { PHASES, type Phase } from "../../lab/client.ts";
import { quantile } from "../../util/stats.ts";
import { outliers } from "./summary.ts";

const W = 640;
const H = 360;
const M = { l: 60, r: 20, t: 36, b: 48 };
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function niceTicks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

function frame(title: string, xLabel: string, yLabel: string, body: string, xTicks: [number, string][], yTicks: [number, string][], subtitle = ""): string {
  const axes = [
    `<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/>`,
    `<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`,
    ...xTicks.map(([x, t]) => `<line x1="${x}" y1="${H - M.b}" x2="${x}" y2="${H - M.b + 4}" stroke="#333"/><text x="${x}" y="${H - M.b + 16}" text-anchor="middle">${esc(t)}</text>`),
    ...yTicks.map(([y, t]) => `<line x1="${M.l - 4}" y1="${y}" x2="${M.l}" y2="${y}" stroke="#333"/><text x="${M.l - 7}" y="${y + 4}" text-anchor="end">${esc(t)}</text>`),
    `<text x="${(W + M.l - M.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="14" y="${(H - M.b + M.t) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(H - M.b + M.t) / 2})">${esc(yLabel)}</text>`,
    `<text x="${W / 2}" y="${subtitle ? 16 : 20}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    subtitle ? `<text x="${W / 2}" y="30" text-anchor="middle" font-size="10" fill="#444">${esc(subtitle)}</text>` : "",
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11"><rect width="${W}" height="${H}" fill="white"/>${axes.join("")}${body}</svg>\n`;
}

/** CDF (line, left axis) and PDF (histogram, right scale) of one case's switch times; outliers in red. */
export function distributionSvg(caseName: string, totals: number[]): string {
  const s = [...totals].sort((a, b) => a - b);
  if (!s.length) return frame(`${caseName}: no successful samples`, "time to switch (ms)", "", "", [], []);
  const out = new Set(outliers(s));
  const lo = s[0]!;
  const hi = s.at(-1)!;
  const pad = (hi - lo) * 0.05 || 1;
  const [x0, x1] = [lo - pad, hi + pad];
  const px = (v: number) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
  const py = (f: number) => H - M.b - f * (H - M.t - M.b);
  const bins = Math.min(60, Math.max(10, Math.round(Math.sqrt(s.length) * 2)));
  const width = (x1 - x0) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of s) counts[Math.min(bins - 1, Math.floor((v - x0) / width))]!++;
  const peak = Math.max(...counts);
  const bars = counts.map((c, i) => {
    const h = (c / peak) * (H - M.t - M.b) * 0.9;
    return `<rect x="${px(x0 + i * width) + 0.5}" y="${H - M.b - h}" width="${Math.max(px(x0 + width) - px(x0) - 1, 1)}" height="${h}" fill="#9ecae1"/>`;
  });
  const cdf = s.map((v, i) => `${px(v).toFixed(1)},${py((i + 1) / s.length).toFixed(1)}`).join(" ");
  const marks = s.flatMap((v, i) => (out.has(v) ? [`<circle cx="${px(v)}" cy="${py((i + 1) / s.length)}" r="3.5" fill="none" stroke="#d62728"/>`] : []));
  const med = quantile(s, 0.5);
  const body = [
    ...bars,
    `<polyline points="${cdf}" fill="none" stroke="#08519c" stroke-width="1.5"/>`,
    ...marks,
    `<line x1="${px(med)}" y1="${M.t}" x2="${px(med)}" y2="${H - M.b}" stroke="#555" stroke-dasharray="4 3"/>`,
    `<text x="${px(med) + 4}" y="${M.t + 12}">median ${med.toFixed(0)} ms</text>`,
  ].join("");
  const xt = niceTicks(x0, x1).map((v): [number, string] => [px(v), String(v)]);
  const yt = [0, 0.25, 0.5, 0.75, 1].map((f): [number, string] => [py(f), f.toFixed(2)]);
  return frame(`Time to switch, ${caseName} migration`, "time to switch (ms)", "cumulative probability", body, xt, yt, `n=${s.length}; bars: PDF; line: CDF; red circles: outliers (top 0.5%)`);
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"];

/** Mean phase timeline per case (thesis figure 4.6): one bar per case, a segment per phase. */
export function phasesSvg(cases: { name: string; phasesMs: Partial<Record<Phase, number>> }[]): string {
  const maxMs = Math.max(1, ...cases.map((c) => Math.max(0, ...Object.values(c.phasesMs).filter((v): v is number => v !== undefined))));
  const x1 = maxMs * 1.05;
  // Room on the right for each bar's total, and below the bars for the legend.
  const px = (v: number) => M.l + 20 + (v / x1) * (W - M.l - 20 - M.r - 50);
  const rowH = Math.min(40, (H - M.t - M.b - 80) / Math.max(cases.length, 1));
  const body: string[] = [];
  cases.forEach((c, row) => {
    const y = M.t + 10 + row * (rowH + 8);
    body.push(`<text x="${M.l + 14}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(c.name)}</text>`);
    let prev = 0;
    PHASES.forEach((p, i) => {
      const t = c.phasesMs[p];
      if (t === undefined) return;
      body.push(`<rect x="${px(prev)}" y="${y}" width="${Math.max(px(t) - px(prev), 0.5)}" height="${rowH}" fill="${COLORS[i]}"><title>${p}: ${t.toFixed(1)} ms</title></rect>`);
      prev = t;
    });
    body.push(`<text x="${px(prev) + 4}" y="${y + rowH / 2 + 4}">${prev.toFixed(0)} ms</text>`);
  });
  const legendY = M.t + 10 + cases.length * (rowH + 8) + 20;
  PHASES.forEach((p, i) => {
    const x = M.l + 20 + (i % 3) * 190;
    const y = legendY + Math.floor(i / 3) * 16;
    body.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${COLORS[i]}"/><text x="${x + 14}" y="${y}">${p}</text>`);
  });
  const xt = niceTicks(0, x1).map((v): [number, string] => [px(v), String(v)]);
  return frame("Mean client phase timeline per case", "time since the client started (ms)", "", body.join(""), xt, []);
}
