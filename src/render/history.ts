// The last runs of a branch, drawn: Markdown (a table per scenario and a Mermaid line chart
// of its medians, for a job summary or an issue) and a self-contained HTML page with an SVG
// chart per scenario and metric, each run's median joined by a line over its min–max range,
// and a marker where the scenario's definition or its hosts changed.
import { markdownTable } from 'markdown-table';
import { HISTORY_METRICS, type History, type HistoryPoint, type ScenarioHistory } from '../analysis/history.js';
import { METRICS, type MetricName } from '../model/metrics.js';
import { markdownText, mermaidText } from './escape.js';
import { attrs, dotPath, escapeXml as esc, linearScale, linePath, niceDomain, num, plainNumber } from './svg.js';

const MiB = 1024 * 1024;

/** A metric's values in the unit the history shows. */
function shown(metric: MetricName, value: number): number {
  return METRICS[metric].unit === 'bytes' ? value / MiB : value;
}

function label(metric: MetricName): string {
  return METRICS[metric].label;
}

const round = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

/** `779 [735–791]`: the run's median and range, or a dash when nothing completed. */
function cell(metric: MetricName, p: HistoryPoint): string {
  if (p.median === null) return '—';
  const [m, lo, hi] = [p.median, p.min!, p.max!].map((v) => round(shown(metric, v)));
  return lo === hi ? m! : `${m} [${lo}–${hi}]`;
}

const when = (p: HistoryPoint) => p.run.storedAt.slice(0, 16).replace('T', ' ');

function scenarioTable(s: ScenarioHistory): string {
  const first = s.metrics[0]!.points;
  const header = ['run', 'commit', ...HISTORY_METRICS.map(label), 'completed', 'changed'];
  const rows = first.map((p, i) => [
    when(p),
    p.run.commit.slice(0, 12),
    ...s.metrics.map((m) => cell(m.metric, m.points[i]!)),
    `${p.completed}/${p.total}`,
    [...p.changed, ...(p.run.regressed ? ['judged a regression'] : [])].join(', ') || '',
  ]);
  return markdownTable([header, ...rows], { align: header.map((_, i) => (i < 2 || i === header.length - 1 ? 'l' : 'r')) });
}

/** Medians of total time and observed downtime over the runs, as a Mermaid line chart. */
function scenarioChart(s: ScenarioHistory): string | null {
  const series = s.metrics.filter((m) => m.metric === 'totalTimeMs' || m.metric === 'observedDowntimeMs');
  const values = series.flatMap((m) => m.points.map((p) => p.median).filter((v): v is number => v !== null));
  if (series[0]!.points.length < 2 || !values.length) return null;
  const line = (m: (typeof series)[number]) => `  line [${m.points.map((p) => (p.median === null ? 0 : Number(p.median.toFixed(1)))).join(', ')}]`;
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${mermaidText(`${s.suite} / ${s.scenario}`)}: median total ms (upper line) and observed downtime ms"`,
    `  x-axis [${series[0]!.points.map((p) => `"${p.run.commit.slice(0, 7)}"`).join(', ')}]`,
    `  y-axis "ms" 0 --> ${Math.ceil(Math.max(...values) * 1.1)}`,
    ...series.map(line),
    '```',
  ].join('\n');
}

/** The history as Markdown: a line of what it covers, then each scenario's table and chart. */
export function historyMarkdown(history: History, source: string): string {
  const runs = history.runs;
  const lines = [`## migbench: the last ${runs.length} stored run${runs.length === 1 ? '' : 's'} of ${markdownText(source)}`, ''];
  if (!runs.length) return [...lines, 'Nothing stored yet: `migbench store` keeps each run of the branch.', ''].join('\n');
  lines.push(
    `From ${runs[0]!.storedAt.slice(0, 10)} (${runs[0]!.commit.slice(0, 12)}) to ${runs.at(-1)!.storedAt.slice(0, 10)} (${runs.at(-1)!.commit.slice(0, 12)}), oldest first. Each cell is the run's median [min–max]; "changed" says where the scenario's definition or its hosts changed, so a step there is explained.`,
    '',
  );
  for (const s of history.scenarios) {
    lines.push(`### ${markdownText(`${s.suite} / ${s.scenario}`)}`, '', scenarioTable(s), '');
    const chart = scenarioChart(s);
    if (chart) lines.push(chart, '');
  }
  return lines.join('\n');
}

const CHART = { width: 1000, height: 220, left: 70, right: 20, top: 16, bottom: 56 };

/** One metric of one scenario over the runs: the medians joined, each run's range as a bar, changes marked. */
export function historyChart(s: ScenarioHistory, metric: MetricName, points: readonly HistoryPoint[]): string {
  const { width, height, left, right, top, bottom } = CHART;
  const measured = points.filter((p) => p.median !== null);
  const title = `${s.suite} / ${s.scenario}: ${label(metric)}`;
  if (!measured.length) return `<figure><figcaption>${esc(title)}: not measured</figcaption></figure>`;
  const lo = Math.min(...measured.map((p) => shown(metric, p.min!)));
  const hi = Math.max(...measured.map((p) => shown(metric, p.max!)));
  const nice = niceDomain(Math.max(0, lo - (hi - lo) * 0.1), hi + (hi - lo) * 0.1 || hi + 1, 5);
  const y = linearScale(nice.domain, [height - bottom, top]);
  const x = linearScale([0, Math.max(1, points.length - 1)], [left + 10, width - right - 10]);
  const parts = [`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">`];
  for (const t of nice.ticks)
    parts.push(
      `<path class="grid"${attrs({ d: `M${num(left)} ${num(y(t))}H${num(width - right)}`, stroke: '#eee' })}/>`,
      `<text${attrs({ x: left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick-label' })}>${esc(plainNumber(t))}</text>`,
    );
  points.forEach((p, i) => {
    const tip = `${when(p)} ${p.run.commit.slice(0, 12)}: ${cell(metric, p)} (${p.completed}/${p.total} completed)${p.changed.length ? `; ${p.changed.join(', ')}` : ''}`;
    if (p.changed.length)
      parts.push(
        `<path class="change"${attrs({ d: `M${num(x(i))} ${num(top)}V${num(height - bottom)}`, stroke: '#b26b00', 'stroke-dasharray': '4 3' })}><title>${esc(tip)}</title></path>`,
      );
    if (p.median !== null) {
      parts.push(`<path class="range"${attrs({ d: `M${num(x(i))} ${num(y(shown(metric, p.min!)))}V${num(y(shown(metric, p.max!)))}`, stroke: '#9bb7d4', 'stroke-width': 3 })}/>`);
      parts.push(
        `<path class="median"${attrs({ d: dotPath(x(i), y(shown(metric, p.median)), 3.5), fill: p.run.regressed ? '#b00020' : '#1f5fa8' })}><title>${esc(tip)}</title></path>`,
      );
    }
    parts.push(`<text${attrs({ x: x(i), y: height - bottom + 16, 'text-anchor': 'middle', class: 'tick-label' })}>${esc(p.run.commit.slice(0, 7))}</text>`);
  });
  parts.push(
    `<path class="line"${attrs({ d: linePath(points.map((p, i) => (p.median === null ? null : ([x(i), y(shown(metric, p.median))] as const)))), stroke: '#1f5fa8', fill: 'none', 'stroke-width': 1.5 })}/>`,
  );
  parts.push(`<text${attrs({ x: left, y: height - 12, class: 'axis-title' })}>${esc(`${label(metric)} per stored run, oldest first`)}</text>`, '</svg>');
  return `<figure>${parts.join('')}</figure>`;
}

/** The history as one self-contained page (nothing is fetched when it is viewed). */
export function historyHtml(history: History, source: string): string {
  const title = `migbench: the last ${history.runs.length} stored runs of ${source}`;
  const sections = history.scenarios.map((s) => `<h2>${esc(`${s.suite} / ${s.scenario}`)}</h2>${s.metrics.map((m) => historyChart(s, m.metric, m.points)).join('')}`);
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<title>${esc(title)}</title><style>body{font:13px system-ui,sans-serif;margin:0}main{max-width:1040px;margin:0 auto;padding:16px}` +
    `h2{font-size:15px;border-bottom:1px solid #ddd}svg.chart{display:block;max-width:100%;height:auto}svg .tick-label{fill:#555;font-size:11px}svg .axis-title{fill:#444;font-size:12px}</style></head>` +
    `<body><main><h1>${esc(title)}</h1><p>Each dot is a stored run's median, its bar the run's min–max; a dashed line marks a change of the scenario or its hosts; red: a run judged a regression.</p>` +
    `${sections.join('') || '<p>Nothing stored yet.</p>'}</main></body></html>\n`
  );
}
