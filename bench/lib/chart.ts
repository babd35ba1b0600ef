/**
 * A latency-vs-rate chart as a hand-written SVG string: a few lines and labels do not need a
 * plotting dependency, and the file renders on GitHub and in any browser as it is.
 * x: offered rate (linear from 0), y: milliseconds on a log scale (the steps span 5 ms to seconds).
 */
export interface ChartSeries {
  label: string;
  color: string;
  dashed?: boolean;
  /** [x, y] points; y <= 0 or NaN is left out. */
  points: Array<[number, number]>;
}

export interface ChartLimit {
  label: string;
  color: string;
  y: number;
}

export interface ChartSpec {
  title: string;
  subtitle: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  limits: ChartLimit[];
  /** Short lines printed under the legend (e.g. why a step failed). */
  notes?: string[];
  /** A vertical marker (the knee), with its label. */
  marker?: { x: number; label: string };
}

const W = 800;
const H = 460;
const M = { left: 70, right: 215, top: 60, bottom: 50 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function latencyChart(spec: ChartSpec): string {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [
    ...spec.series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => y > 0 && Number.isFinite(y)),
    ...spec.limits.map((l) => l.y),
  ];
  const xMax = niceCeil(Math.max(100, ...xs));
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...ys))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys) * 1.05));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + (v / xMax) * pw;
  const y = (v: number) =>
    M.top + ph - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(spec.title)}</text>`,
    `<text x="${M.left}" y="40" fill="#555">${esc(spec.subtitle)}</text>`,
  );
  // Grid and axes.
  for (let d = yMin; d <= yMax * 1.0001; d *= 10) {
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y(d) + 4}" text-anchor="end">${fmtMs(d)}</text>`,
    );
  }
  const xStep = niceStep(xMax / 6);
  for (let v = 0; v <= xMax + 1e-9; v += xStep) {
    out.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${M.top}" y2="${M.top + ph}" stroke="#eee"/>`,
      `<text x="${x(v)}" y="${M.top + ph + 16}" text-anchor="middle">${v.toLocaleString('en-US')}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  spec.limits.forEach((l, i) => {
    const ly = M.top + 10 + (spec.series.length + i) * 20 + 10;
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y(l.y)}" y2="${y(l.y)}" stroke="${l.color}" stroke-width="1.5" stroke-dasharray="2 4"/>`,
      `<line x1="${W - M.right + 14}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" stroke="${l.color}" stroke-width="1.5" stroke-dasharray="2 4"/>`,
      `<text x="${W - M.right + 46}" y="${ly + 4}">${esc(l.label)}</text>`,
    );
  });
  if (spec.marker) {
    const mx = x(spec.marker.x);
    out.push(
      `<line x1="${mx}" x2="${mx}" y1="${M.top}" y2="${M.top + ph}" stroke="#2a7" stroke-width="2"/>`,
      `<text x="${mx + 4}" y="${M.top + 14}" fill="#2a7" font-weight="bold">${esc(spec.marker.label)}</text>`,
    );
  }
  spec.series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] > 0 && Number.isFinite(p[1]));
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of pts)
      out.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = M.top + 10 + i * 20;
    out.push(
      `<line x1="${W - M.right + 14}" x2="${W - M.right + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${W - M.right + 46}" y="${ly + 4}">${esc(s.label)}</text>`,
    );
  });
  (spec.notes ?? []).forEach((note, i) => {
    const ly = M.top + 10 + (spec.series.length + spec.limits.length) * 20 + 30 + i * 16;
    out.push(`<text x="${W - M.right + 14}" y="${ly}" font-size="11" fill="#555">${esc(note)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function niceCeil(v: number): number {
  const s = niceStep(v / 6);
  return Math.ceil(v / s) * s;
}
