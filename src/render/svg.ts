// Small helpers for drawing charts as inline SVG text at render time: escaping, linear
// scales, "nice" axis ticks and path data. No DOM, no JavaScript in the output.

/** Escapes text for HTML/SVG element content and double- or single-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A coordinate for path data or an attribute: finite, at most two decimals. */
export function num(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot draw a non-finite coordinate (${value})`);
  const rounded = Math.round(value * 100) / 100;
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

/** Attributes from an object, escaped; undefined values are left out. */
export function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`)
    .join('');
}

export interface Scale {
  (value: number): number;
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
}

/** Maps domain linearly onto range; a zero-width domain maps everything to the range's middle. */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const f = (value: number) => (d1 === d0 ? (r0 + r1) / 2 : r0 + ((value - d0) / (d1 - d0)) * (r1 - r0));
  return Object.assign(f, { domain, range });
}

/** A step of 1, 2 or 5 × 10ⁿ giving about `count` intervals over [lo, hi]. */
export function niceStep(lo: number, hi: number, count: number): number {
  const span = hi - lo;
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/** Extends [lo, hi] outwards to multiples of a nice step; returns the new domain and its ticks. */
export function niceDomain(lo: number, hi: number, count: number): { domain: [number, number]; ticks: number[] } {
  if (!(hi > lo)) {
    // One value (or none): a unit-wide domain around it so it still has an axis.
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    [lo, hi] = lo >= 0 && lo - pad < 0 ? [0, lo + pad] : [lo - pad, hi + pad];
  }
  const step = niceStep(lo, hi, count);
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; start + i * step <= end + step * 1e-9; i++) ticks.push(cleanFloat(start + i * step));
  return { domain: [cleanFloat(start), cleanFloat(end)], ticks };
}

function cleanFloat(x: number): number {
  return Number(x.toPrecision(12));
}

/** Path data for a polyline; points with a null coordinate break the line into segments. */
export function linePath(points: ReadonlyArray<readonly [number, number] | null>): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${num(p[0])} ${num(p[1])}`;
    pen = true;
  }
  return d;
}

/** Path data for a circle of radius r around (x, y), as two arcs. */
export function dotPath(x: number, y: number, r: number): string {
  return `M${num(x - r)} ${num(y)}a${num(r)} ${num(r)} 0 1 0 ${num(2 * r)} 0a${num(r)} ${num(r)} 0 1 0 ${num(-2 * r)} 0Z`;
}

/** A tick label as it is: 1200 → "1200", 0.1 + 0.2 → "0.3". */
export function plainNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** A compact tick label: 1500 → "1.5k", 2000000 → "2M", 0.25 → "0.25". */
export function shortNumber(value: number): string {
  const abs = Math.abs(value);
  const trim = (x: number) => String(Number(x.toPrecision(3)));
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}
