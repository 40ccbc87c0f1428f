import { describe, expect, test } from 'vitest';
import { DISTRIBUTION_METRICS, downtimeWindows, renderHtmlReport } from '../../src/render/html.js';
import { resultsTable } from '../../src/render/table.js';
import { readResults } from '../../src/model/results.js';
import { projectPath } from '../../src/model/paths.js';
import type { MigrationRecord, ResultsFile } from '../../src/generated/results.js';

const load = () => readResults(projectPath('fixtures/results/lab-tcg.json'));

/** Every <svg>…</svg> of a kind, in document order. */
function charts(html: string, kind: string): string[] {
  return [...html.matchAll(/<svg\b[^>]*>[\s\S]*?<\/svg>/g)].map((m) => m[0]).filter((svg) => svg.includes(`data-chart="${kind}"`));
}

/** The opening tags of one element name whose class list holds `cls`. */
function withClass(markup: string, element: string, cls: string): string[] {
  return [...markup.matchAll(new RegExp(`<${element}\\b[^>]*>`, 'g'))].map((m) => m[0]).filter((tag) => (/\bclass="([^"]*)"/.exec(tag)?.[1] ?? '').split(/\s+/).includes(cls));
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

const nulled = (m: MigrationRecord['metrics']) => Object.fromEntries(Object.keys(m).map((k) => [k, null])) as unknown as MigrationRecord['metrics'];

describe(renderHtmlReport, () => {
  test('one timeline chart per record, with a shaded rect per probe gap', async () => {
    const results = await load();
    const html = renderHtmlReport(results);
    const timelines = charts(html, 'timeline');
    expect(timelines).toHaveLength(results.records.length);
    results.records.forEach((r, i) => {
      const svg = timelines[i]!;
      expect(svg).toContain(`data-record="${i}"`);
      expect(svg).toMatch(/^<svg[^>]*><title>Timeline of [^<]+<\/title>/);
      expect(withClass(svg, 'rect', 'probe-gap')).toHaveLength(r.probe!.gaps.length);
      expect(r.probe!.gaps.length).toBeGreaterThan(0);
      // Drawn series and the four downtime views, each under its own class.
      expect(withClass(svg, 'path', 'series-remaining')).toHaveLength(1);
      expect(withClass(svg, 'path', 'series-dirty-rate')).toHaveLength(1);
      for (const source of ['reported', 'stop-resume', 'observed', 'guest']) expect(withClass(svg, 'rect', `downtime-${source}`)).toHaveLength(1);
      expect(withClass(svg, 'g', 'legend')).toHaveLength(1);
      expect(svg).toContain('time since the migrate command (ms)');
      expect(svg).toMatch(/>-?\d+ ms<\/text>/);
      expect(svg).toMatch(/>\d+ MiB<\/text>/);
      // The disk mirror phase only for storage migrations.
      expect(withClass(svg, 'rect', 'mirror-phase')).toHaveLength(r.storage ? 1 : 0);
    });
  });

  test('places each view of downtime where its figure comes from', async () => {
    const results = await load();
    const idle = results.records.find((r) => r.scenario === 'idle-256')!;
    expect(downtimeWindows(idle)).toEqual([
      { source: 'reported', startMs: 720.31, endMs: 720.31 + 11 }, // source STOP + reported downtime
      { source: 'stop-resume', startMs: 720.31, endMs: 733.156 }, // source STOP → destination RESUME
      { source: 'observed', startMs: 0.42, endMs: 91 }, // the probe's largest gap
      { source: 'guest', startMs: -0.045, endMs: 89.894 }, // the heartbeat's largest gap
    ]);
    // A larger gap before the migration (the probe's baseline) is not the observed downtime.
    const storage = results.records.find((r) => r.scenario === 'storage-idle-256')!;
    const observed = downtimeWindows(storage).find((w) => w.source === 'observed')!;
    expect(observed.endMs! - observed.startMs!).toBeCloseTo(storage.metrics.observedDowntimeMs!, 2);
    // Each band is as wide as its figure, on the chart's own scale.
    const svg = charts(renderHtmlReport(results), 'timeline')[0]!;
    const width = (cls: string) => Number(attr(withClass(svg, 'rect', cls)[0]!, 'width'));
    expect(width('downtime-stop-resume') / width('downtime-reported')).toBeCloseTo(12.846 / 11, 1);
    expect(width('downtime-observed') / width('downtime-reported')).toBeCloseTo(90.58 / 11, 1);
  });

  test('the results table holds the same cells as the Markdown table', async () => {
    const results = await load();
    const html = renderHtmlReport(results);
    const table = /<table class="results">([\s\S]*?)<\/table>/.exec(html)![1]!;
    const htmlRows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<t[hd]\b[^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => textOf(c[1]!)));
    const mdRows = resultsTable(results)
      .trim()
      .split('\n')
      .filter((_, i) => i !== 1) // the alignment row
      .map((line) =>
        line
          .slice(1, -1)
          .split('|')
          .map((c) => c.trim().replace(/\*\*/g, '')),
      );
    expect(htmlRows).toEqual(mdRows);
  });

  test('says what was measured: environment, migbench version, config', async () => {
    const results = await load();
    const html = renderHtmlReport(results, { title: 'Lab & TCG' });
    expect(html).toContain('<title>Lab &amp; TCG</title>');
    expect(html).toContain('<h1>Lab &amp; TCG</h1>');
    expect(html).toMatch(/QEMU 7\.2\.22 [^<]*accel tcg/);
    expect(html).toContain(`migbench ${results.migbenchVersion} (${results.gitSha!.slice(0, 12)})`);
    expect(html).toContain(`<code>${results.config.path}</code> (sha256 <code>${results.config.sha256.slice(0, 12)}</code>)`);
    expect(html).toContain('<strong>observed</strong> is the largest gap between ICMP replies');
  });

  test('escapes scenario names, suites and error messages', async () => {
    const results = await load();
    const evil = '<script>alert(1)</script>';
    const record: MigrationRecord = {
      ...structuredClone(results.records[0]!),
      scenario: evil,
      suite: `a"b'c&d`,
      status: 'failed',
      error: { code: 'MB_QMP_ERROR', message: 'QEMU said <img src=x onerror=alert(2)> "bad"', phase: 'migrate' },
      integrity: { ...results.records[0]!.integrity, guestAlive: false, problem: '<b>panic</b>' },
    };
    const html = renderHtmlReport({ ...results, records: [...results.records, record] }, { title: '</title><script>alert(3)</script>' });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('<b>panic');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt; &quot;bad&quot;');
    expect(html).toContain('a&quot;b&#39;c&amp;d');
    // Still one timeline per record, the attribute holding the name intact.
    const timelines = charts(html, 'timeline');
    expect(timelines).toHaveLength(results.records.length + 1);
    expect(timelines.at(-1)).toContain('data-scenario="&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  test('needs nothing from the network to be viewed', async () => {
    const results = await load();
    const base = structuredClone(results);
    for (const html of [renderHtmlReport(results), renderHtmlReport(results, { base })]) {
      expect(html).not.toMatch(/https?:\/\//i);
      expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|video|audio|source)\b/i);
      expect(html).not.toMatch(/@import|url\(/i);
      // Any link left is to an anchor in the page.
      for (const m of html.matchAll(/\s(?:src|href|xlink:href)="([^"]*)"/g)) expect(m[1]).toMatch(/^#/);
      // And the page forbids fetching anything anyway.
      expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    }
  });

  test('draws only finite coordinates', async () => {
    const results = await load();
    const broken: MigrationRecord = {
      ...structuredClone(results.records[0]!),
      status: 'failed',
      error: { code: 'MB_MIGRATION', message: 'migration failed' },
      metrics: nulled(results.records[0]!.metrics),
      timeline: [],
      events: [],
      probe: null,
      heartbeat: null,
    };
    const flat = {
      ...structuredClone(results.records[0]!),
      timeline: results.records[0]!.timeline.map((s) => ({ ...s, remainingBytes: 0, totalBytes: null, dirtyRatePagesPerSec: null })),
    };
    const html = renderHtmlReport({ ...results, records: [...results.records, broken, flat] }, { base: results });
    const svgs = [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs.length).toBeGreaterThan(0);
    expect((html.match(/<svg\b/g) ?? []).length).toBe((html.match(/<\/svg>/g) ?? []).length);
    for (const svg of svgs) {
      expect(svg).toMatch(/^<svg[^>]* data-chart="(timeline|distribution)"[^>]* viewBox="0 0 \d+ \d+"[^>]*><title>[^<]+<\/title>/);
      expect(svg).not.toMatch(/NaN|undefined|Infinity|null/);
      for (const m of svg.matchAll(/\sd="([^"]*)"/g)) expect(m[1]).toMatch(/^M[-\d. MLHVZAmlhvza]+$/);
      for (const m of svg.matchAll(/\s(?:x|y|width|height)="([^"]*)"/g)) expect(Number.isFinite(Number(m[1]))).toBe(true);
      for (const m of svg.matchAll(/\s(?:width|height)="([^"]*)"/g)) expect(Number(m[1])).toBeGreaterThan(0);
    }
    const lastTimeline = charts(html, 'timeline').at(-2)!;
    expect(lastTimeline).toContain('no progress samples with remaining bytes');
    expect(lastTimeline.match(/>not measured</g)).toHaveLength(4);
  });
});

describe('distribution charts', () => {
  test('none for single runs without a base', async () => {
    const html = renderHtmlReport(await load());
    expect(charts(html, 'distribution')).toHaveLength(0);
    expect(html).not.toContain('<h2>Distributions</h2>');
  });

  test('one per repeated scenario, a dot per run and metric', async () => {
    const results = await load();
    const idle = results.records.find((r) => r.scenario === 'idle-256')!;
    const repeats = [1, 2, 3].map((n) => ({ ...structuredClone(idle), repetition: n, metrics: { ...idle.metrics, totalTimeMs: 700 + n * 20 } }));
    const failed = { ...structuredClone(idle), repetition: 4, status: 'failed' as const, metrics: nulled(idle.metrics) };
    const html = renderHtmlReport({ ...results, records: [...repeats, failed, results.records[1]!] });
    const [chart, ...rest] = charts(html, 'distribution');
    expect(rest).toHaveLength(0);
    expect(chart).toContain('data-scenario="idle-256"');
    expect(withClass(chart!, 'path', 'dot-head')).toHaveLength(3 * DISTRIBUTION_METRICS.length);
    expect(withClass(chart!, 'path', 'dot-base')).toHaveLength(0);
    expect(withClass(chart!, 'rect', 'median-head')).toHaveLength(DISTRIBUTION_METRICS.length);
    expect(html).toContain('1 run that did not complete left out');
    expect(html).toContain('<h2>Summary over repetitions</h2>');
  });

  test('base against head in two colours, for every scenario of either', async () => {
    const results = await load();
    const base: ResultsFile = structuredClone(results);
    base.records = base.records
      .slice(0, 3)
      .flatMap((r) => [1, 2].map((n) => ({ ...structuredClone(r), repetition: n, metrics: { ...r.metrics, totalTimeMs: r.metrics.totalTimeMs! * (1 + n / 10) } })));
    const html = renderHtmlReport(results, { base });
    const dists = charts(html, 'distribution');
    expect(dists).toHaveLength(results.records.length);
    results.records.forEach((r, i) => {
      const chart = dists[i]!;
      expect(chart).toContain(`data-scenario="${r.scenario}"`);
      const measured = DISTRIBUTION_METRICS.filter((m) => r.metrics[m] !== null).length;
      expect(withClass(chart, 'path', 'dot-head')).toHaveLength(measured);
      expect(withClass(chart, 'path', 'dot-base')).toHaveLength(i < 3 ? 2 * measured : 0);
      const fills = new Set([...withClass(chart, 'path', 'dot-head'), ...withClass(chart, 'path', 'dot-base')].map((tag) => attr(tag, 'fill')));
      expect(fills.size).toBe(i < 3 ? 2 : 1);
      for (const m of DISTRIBUTION_METRICS) expect(chart).toContain(`data-metric="${m}"`);
    });
    expect(html).toContain(`base</dt><dd>migbench ${base.migbenchVersion}`);
  });
});
