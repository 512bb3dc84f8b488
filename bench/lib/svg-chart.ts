// A small dependency-free SVG writer for benchmark pictures: grouped bar charts (one group per category,
// one bar per series) laid side by side in one document. Deterministic output (same input, same bytes),
// so charts checked into docs/ only change when the numbers do. Every bar carries data-series /
// data-category / data-value attributes: tests and readers can recover the numbers from the picture.

export interface BarSeries {
  name: string;
  /** One value per category; undefined = no bar (e.g. a target that did not run there). */
  values: Array<number | undefined>;
}

export interface BarChartSpec {
  title: string;
  /** Labels of the groups along the x axis. */
  categories: string[];
  series: BarSeries[];
  /** Axis caption, e.g. "ops/s". */
  yLabel: string;
  /** Label of a value on the axis and above a bar. */
  format?: (v: number) => string;
  width?: number;
  height?: number;
}

/** A chart rendered at the origin; `svgDocument` places several side by side. */
export interface ChartFragment {
  width: number;
  height: number;
  body: string;
}

export const PALETTE = ['#3366cc', '#ee8833', '#33aa55', '#cc3344', '#8855bb', '#777777'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Rounds to 2 decimals for coordinates (short, stable output). */
const n = (v: number): string => String(Math.round(v * 100) / 100);

/** Axis ticks from 0 to a "nice" maximum ≥ max (1, 2, 2.5 or 5 × 10^k steps), about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step / 1e6; i++) ticks.push(+(i * step).toPrecision(12));
  return ticks;
}

/** Compact number: 12345 → "12.3k", 0.5 → "0.5". */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

export function barChart(spec: BarChartSpec): ChartFragment {
  const width = spec.width ?? 420;
  const height = spec.height ?? 300;
  const fmt = spec.format ?? compact;
  const m = { top: 40, right: 12, bottom: 48, left: 56 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const values = spec.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const ticks = niceTicks(Math.max(0, ...values));
  const top = ticks[ticks.length - 1]!;
  const y = (v: number): number => m.top + plotH - (Math.max(0, v) / top) * plotH;
  const out: string[] = [];
  out.push(`<text x="${n(width / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`);
  // Grid lines and y labels.
  for (const t of ticks) {
    out.push(`<line x1="${m.left}" x2="${n(m.left + plotW)}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="#dddddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${n(y(t) + 4)}" text-anchor="end" font-size="11">${escapeXml(fmt(t))}</text>`);
  }
  out.push(`<text transform="translate(14 ${n(m.top + plotH / 2)}) rotate(-90)" text-anchor="middle" font-size="11">${escapeXml(spec.yLabel)}</text>`);
  // Bars: each category gets a slot; its bars fill 80 % of it.
  const slot = plotW / Math.max(1, spec.categories.length);
  const barW = (slot * 0.8) / Math.max(1, spec.series.length);
  spec.categories.forEach((cat, ci) => {
    const x0 = m.left + ci * slot + slot * 0.1;
    spec.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = x0 + si * barW;
      const yv = y(v);
      out.push(
        `<rect x="${n(x)}" y="${n(yv)}" width="${n(barW - 2)}" height="${n(m.top + plotH - yv)}" fill="${PALETTE[si % PALETTE.length]}" data-series="${escapeXml(s.name)}" data-category="${escapeXml(cat)}" data-value="${v}"><title>${escapeXml(`${s.name}, ${cat}: ${fmt(v)}`)}</title></rect>`,
      );
      out.push(`<text x="${n(x + (barW - 2) / 2)}" y="${n(yv - 3)}" text-anchor="middle" font-size="9">${escapeXml(fmt(v))}</text>`);
    });
    out.push(`<text x="${n(m.left + ci * slot + slot / 2)}" y="${n(m.top + plotH + 16)}" text-anchor="middle" font-size="11">${escapeXml(cat)}</text>`);
  });
  out.push(`<line x1="${m.left}" x2="${n(m.left + plotW)}" y1="${n(m.top + plotH)}" y2="${n(m.top + plotH)}" stroke="#333333"/>`);
  // Legend under the axis.
  let lx = m.left;
  spec.series.forEach((s, si) => {
    out.push(`<rect x="${n(lx)}" y="${n(height - 16)}" width="10" height="10" fill="${PALETTE[si % PALETTE.length]}"/>`);
    out.push(`<text x="${n(lx + 14)}" y="${n(height - 7)}" font-size="11">${escapeXml(s.name)}</text>`);
    lx += 24 + 7 * s.name.length;
  });
  return { width, height, body: out.join('\n') };
}

/** One SVG document with the charts side by side under an optional caption. */
export function svgDocument(charts: ChartFragment[], caption?: string): string {
  const capH = caption ? 22 : 0;
  const width = charts.reduce((w, c) => w + c.width, 0);
  const height = capH + Math.max(0, ...charts.map((c) => c.height));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (caption) parts.push(`<text x="8" y="15" font-size="11" fill="#555555">${escapeXml(caption)}</text>`);
  let x = 0;
  for (const c of charts) {
    parts.push(`<g transform="translate(${x} ${capH})">`, c.body, '</g>');
    x += c.width;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
