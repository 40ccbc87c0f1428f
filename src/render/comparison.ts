// The comparison as Markdown for a PR comment or a job summary: a headline, the rows
// that changed (or could not be judged), every metric per scenario folded in <details>,
// and Mermaid bars GitHub draws natively. It stays under GitHub's comment limit by
// dropping detail, never the verdicts, and says where the full report is.
import { markdownTable } from 'markdown-table';
import { htmlText, markdownText, mermaidText } from './escape.js';
import type { Comparison, MetricComparison, Verdict } from '../analysis/comparison.js';
import { formatMetricValue, METRICS, type MetricName } from '../model/metrics.js';

/** GitHub refuses comments over 65,536 characters; leave room for a sticky marker. */
export const COMMENT_LIMIT = 60_000;

export const VERDICT_MARK: Readonly<Record<Verdict, string>> = {
  regression: '🚨 regression',
  warn: '⚠️ warn',
  inconclusive: '⏳ inconclusive',
  improved: '🚀 improved',
  unchanged: '✅ unchanged',
  'not comparable': '❔ not comparable',
};

const MiB = 1024 * 1024;

function value(metric: MetricName, v: number | null): string {
  return formatMetricValue(metric, v);
}

function sample(metric: MetricName, s: MetricComparison['base']): string {
  if (s.median === null) return '—';
  const ci = s.ciLow !== null && s.ciHigh !== null ? ` [${value(metric, s.ciLow)}, ${value(metric, s.ciHigh)}]` : '';
  return `${value(metric, s.median)}${ci}`;
}

const pct = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`);

function delta(row: MetricComparison): string {
  if (row.deltaPct === null) return '—';
  const ci = row.deltaLowPct !== null && row.deltaHighPct !== null ? ` [${pct(row.deltaLowPct)}, ${pct(row.deltaHighPct)}]` : '';
  return `${pct(row.deltaPct)}${ci}`;
}

const pValue = (p: number | null) => (p === null ? '—' : p < 0.001 ? '<0.001' : p.toFixed(3));

function verdictCell(row: MetricComparison): string {
  return row.reason && row.verdict !== 'unchanged' ? `${VERDICT_MARK[row.verdict]} (${row.reason})` : VERDICT_MARK[row.verdict];
}

function rawSamples(metric: MetricName, s: MetricComparison['base']): string {
  return s.values.map((v) => value(metric, v)).join(' ');
}

function table(rows: readonly MetricComparison[], withScenario: boolean, samples = false): string {
  const header = [
    ...(withScenario ? ['scenario'] : []),
    'metric',
    'base median [95% CI]',
    'head median [95% CI]',
    'Δ [95% CI]',
    'p (adjusted)',
    'n base/head',
    'MDE',
    'verdict',
    ...(samples ? ['base samples', 'head samples'] : []),
  ];
  const body = rows.map((r) => [
    ...(withScenario ? [markdownText(`${r.suite} / ${r.scenario}`)] : []),
    `${METRICS[r.metric].label}`,
    sample(r.metric, r.base),
    sample(r.metric, r.head),
    delta(r),
    pValue(r.pAdjusted),
    `${r.base.n}/${r.head.n}`,
    r.mdePct === null ? '—' : `±${r.mdePct.toFixed(1)}%`,
    verdictCell(r),
    ...(samples ? [rawSamples(r.metric, r.base), rawSamples(r.metric, r.head)] : []),
  ]);
  return markdownTable([header, ...body], { align: header.map((h, i) => (i === 0 || h === 'verdict' || h.endsWith('samples') ? 'l' : 'r')) });
}

export function headline(comparison: Comparison): string {
  const c = comparison.counts;
  const parts = [
    `**${c.regression} regression${c.regression === 1 ? '' : 's'}**`,
    `${c.warn} warning${c.warn === 1 ? '' : 's'}`,
    `${c.inconclusive} inconclusive`,
    `${c.improved} improved`,
    `${c.unchanged} unchanged`,
    `${c['not comparable']} not comparable`,
  ];
  const failed = comparison.failures.reduce((sum, f) => sum + f.head.failed, 0);
  if (failed) parts.unshift(`**${failed} failed head run${failed === 1 ? '' : 's'}**`);
  return `${c.regression || failed ? '🚨' : c.warn || c.inconclusive ? '⚠️' : '✅'} ${parts.join(' · ')}`;
}

/** Bars of base and head medians for the scenario's timing metrics (Mermaid xychart). */
export function mermaidBars(scenario: string, rows: readonly MetricComparison[]): string | null {
  const timing = rows.filter((r) => METRICS[r.metric].unit === 'ms' && r.base.median !== null && r.head.median !== null);
  if (!timing.length) return null;
  const labels = timing.map((r) => `"${METRICS[r.metric].label.replaceAll('"', "'")}"`);
  const max = Math.max(...timing.flatMap((r) => [r.base.median!, r.head.median!]));
  const round = (v: number) => Number(v.toFixed(1));
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${mermaidText(scenario)}: base (first bar) vs head, ms"`,
    `  x-axis [${labels.join(', ')}]`,
    `  y-axis "ms" 0 --> ${Math.ceil(max * 1.1)}`,
    `  bar [${timing.map((r) => round(r.base.median!)).join(', ')}]`,
    `  bar [${timing.map((r) => round(r.head.median!)).join(', ')}]`,
    '```',
  ].join('\n');
}

export interface CompareReportOptions {
  readonly baseLabel?: string;
  readonly headLabel?: string;
  /** Where the full report lives, named when the comment had to be shortened. */
  readonly fullReport?: string;
  readonly limit?: number;
  /** Raw samples of both sides in the per-scenario details. */
  readonly samples?: boolean;
  /** Lines said under the base and head labels (e.g. scenarios without a stored baseline). */
  readonly notes?: readonly string[];
}

export function compareMarkdown(comparison: Comparison, options: CompareReportOptions = {}): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  const lines: string[] = ['## migbench: live migration, base vs head', '', headline(comparison), ''];
  if (options.baseLabel || options.headLabel) lines.push(`Base: ${markdownText(options.baseLabel ?? 'base')} · head: ${markdownText(options.headLabel ?? 'head')}`, '');
  if (options.notes?.length) lines.push(...options.notes.map((n) => `- ${markdownText(n)}`), '');
  lines.push(...environmentNote(comparison));
  if (comparison.configDiffers) lines.push('The configurations differ (expected when the change is to configuration).', '');
  lines.push(...runFindings(comparison));

  // Regressions first; if even the notable rows overflow the comment, the rest go to the full report.
  const order: Verdict[] = ['regression', 'warn', 'inconclusive', 'not comparable', 'improved'];
  const notable = comparison.rows.filter((r) => r.verdict !== 'unchanged').sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict));
  let shown = notable;
  while (shown.length && table(shown, true).length > limit * 0.8) shown = shown.slice(0, Math.floor(shown.length * 0.8));
  lines.push(notable.length ? table(shown, true) : '_No metric changed beyond its noise and thresholds._', '');
  const hidden = notable.length - shown.length;
  if (hidden) lines.push(`_${hidden} more rows and every scenario's details are in the full report${options.fullReport ? `, ${options.fullReport}` : ''}._`, '');
  lines.push(
    `A verdict reads the change's 95% interval against the thresholds (warn/fail, % of the base median): a regression's whole interval is past the fail threshold and a one-sided permutation test of whole runs confirms it, adjusted over all ${comparison.rows.length} comparisons at once (Westfall-Young step-down minP, α = ${comparison.alpha}); "unchanged" means the interval rules out a change as large as the fail threshold; "inconclusive" means it does not and the runs cannot tell, with the runs a side that could. A failed head run fails the gate. MDE is the smallest change these sample sizes detect with 80% power.`,
    '',
  );
  const head = lines.join('\n');

  const scenarios = new Map<string, MetricComparison[]>();
  for (const r of comparison.rows) scenarios.set(`${r.suite} / ${r.scenario}`, [...(scenarios.get(`${r.suite} / ${r.scenario}`) ?? []), r]);
  const details: string[] = [];
  for (const [name, rows] of scenarios) {
    const chart = mermaidBars(name, rows);
    details.push(
      ['<details>', `<summary>${htmlText(name)}: ${summaryOf(rows)}</summary>`, '', table(rows, false, options.samples), '', ...(chart ? [chart, ''] : []), '</details>', ''].join(
        '\n',
      ),
    );
  }
  let out = head;
  let dropped = hidden ? details.length : 0;
  for (const block of hidden ? [] : details) {
    if (out.length + block.length + 400 > limit) {
      dropped++;
      continue;
    }
    out += `\n${block}`;
  }
  if (dropped)
    out += `\n_${dropped} scenario detail${dropped === 1 ? '' : 's'} left out to stay under GitHub's comment limit${options.fullReport ? `; the full report is ${options.fullReport}` : ''}._\n`;
  return out;
}

/** What differs between the sides' environments: judged across (declared), or why nothing was compared. */
function environmentNote(comparison: Comparison): string[] {
  const d = comparison.environmentDifferences;
  if (!d.length) return [];
  if (comparison.acrossEnvironments)
    return [
      '> [!IMPORTANT]',
      '> Judged across a declared environment change (environment-change: expected):',
      ...d.map((x) => `> - ${x.field}: ${markdownText(String(x.base))} → ${markdownText(String(x.head))}`),
      '',
    ];
  return [
    '> [!WARNING]',
    '> The two sides ran in different environments, so their figures are not compared (declare the change with environment-change: expected to judge it):',
    ...d.map((x) => `> - ${x.field}: base ${markdownText(String(x.base))}; head ${markdownText(String(x.head))}`),
    '',
  ];
}

/** Scenarios one side did not measure, and failed runs (a failed head run fails the gate). */
function runFindings(comparison: Comparison): string[] {
  const lines = comparison.unmatched.map((u) => `- ${markdownText(`${u.suite} / ${u.scenario}`)} was measured on the ${u.side} only.`);
  for (const f of comparison.failures) {
    const base = `${f.base.failed} of ${f.base.total} base runs`;
    lines.push(
      `- ${f.head.failed ? '🚨 ' : ''}${markdownText(`${f.suite} / ${f.scenario}`)}: ${f.head.failed} of ${f.head.total} head runs failed, ${base}${f.example ? ` (head: ${markdownText(f.example)})` : ''}.`,
    );
  }
  return lines.length ? [...lines, ''] : [];
}

function summaryOf(rows: readonly MetricComparison[]): string {
  const counts = new Map<Verdict, number>();
  for (const r of rows) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  return [...counts.entries()].map(([v, n]) => `${n} ${v}`).join(', ');
}

export { MiB };
