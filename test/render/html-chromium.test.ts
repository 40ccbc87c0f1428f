// The HTML report in a real browser: Debian's headless Chromium renders the fixture,
// takes a screenshot and dumps the DOM after layout, so a report that only looks right as
// text (an SVG that draws nothing, a chart of zero width) fails here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderHtmlReport } from '../../src/render/html.js';
import { readResults } from '../../src/model/results.js';
import { projectPath } from '../../src/model/paths.js';
import type { ResultsFile } from '../../src/generated/results.js';

const CHROMIUM = '/usr/bin/chromium';
const TIMEOUT_MS = 60_000;

let dir = '';
let results: ResultsFile;
let reportPath = '';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs headless Chromium with an argv array (no shell), its own profile, and a deadline. */
function chromium(args: readonly string[]): Promise<Run> {
  const argv = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${join(dir, 'profile')}`, '--window-size=1200,2000', ...args];
  return new Promise((resolve, reject) => {
    // HOME and XDG dirs in the temporary directory too: Chromium keeps crash reports there.
    const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_CACHE_HOME: join(dir, 'cache') };
    const child = spawn(CHROMIUM, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS - 5_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function ok(run: Run): Run {
  if (run.code !== 0) throw new Error(`chromium exited with ${run.code}:\n${run.stderr.slice(-2000)}`);
  return run;
}

interface Png {
  readonly width: number;
  readonly height: number;
  /** Every pixel as 0xRRGGBB. */
  readonly pixels: Uint32Array;
}

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes). */
function decodePng(buf: Buffer): Png {
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error(`unexpected PNG format: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = y * (stride + 1) + 1;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[y * stride + i - channels]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = i >= channels && y > 0 ? out[(y - 1) * stride + i - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + i] = (raw[line + i]! + predictor) & 0xff;
    }
  }
  const pixels = new Uint32Array(width * height);
  for (let p = 0; p < pixels.length; p++) pixels[p] = (out[p * channels]! << 16) | (out[p * channels + 1]! << 8) | out[p * channels + 2]!;
  return { width, height, pixels };
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (as root) to install Debian's chromium package, which this test renders the HTML report with`);
  }
  dir = await mkdtemp(join(tmpdir(), 'migbench-html-'));
  results = await readResults(projectPath('fixtures/results/lab-tcg.json'));
  reportPath = join(dir, 'report.html');
  await writeFile(reportPath, renderHtmlReport(results));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the HTML report in headless Chromium', () => {
  test(
    'renders to a screenshot with something drawn on it',
    async () => {
      const shot = join(dir, 'shot.png');
      ok(await chromium([`--screenshot=${shot}`, pathToFileURL(reportPath).href]));
      expect(existsSync(shot)).toBe(true);
      const png = await readFile(shot);
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect((await stat(shot)).size).toBeGreaterThan(50 * 1024);

      const { width, height, pixels } = decodePng(png);
      expect([width, height]).toEqual([1200, 2000]);
      const counts = new Map<number, number>();
      for (const p of pixels) counts.set(p, (counts.get(p) ?? 0) + 1);
      const background = Math.max(...counts.values());
      // Text, chart lines, shaded gaps and bands: many colours, and a good part of the page not background.
      expect(counts.size).toBeGreaterThan(200);
      expect(1 - background / pixels.length).toBeGreaterThan(0.05);
      // The timeline colours themselves are on the page: the remaining-bytes line and a downtime band.
      expect(counts.get(0x1b1b1b) ?? 0).toBeGreaterThan(100);
      expect(counts.get(0x0072b2) ?? 0).toBeGreaterThan(20);

      // A blank page's screenshot for scale: the report's is several times larger.
      const blank = join(dir, 'blank.html');
      await writeFile(blank, '<!DOCTYPE html><html><body></body></html>');
      ok(await chromium([`--screenshot=${join(dir, 'blank.png')}`, pathToFileURL(blank).href]));
      expect(png.length).toBeGreaterThan(5 * (await stat(join(dir, 'blank.png'))).size);
    },
    TIMEOUT_MS,
  );

  test(
    'hostile names stay text: no element, attribute or script of theirs gets into the DOM',
    async () => {
      const payload = `x <img src=x onerror="document.title='PWNED'"> <script>document.title='PWNED'</script> ]] @octocat #123`;
      const hostile: ResultsFile = { ...results, records: results.records.map((r) => ({ ...r, suite: `s ${payload}`, scenario: `n ${payload}`, notes: [`note ${payload}`] })) };
      const path = join(dir, 'hostile.html');
      await writeFile(path, renderHtmlReport(hostile));
      const dom = ok(await chromium(['--dump-dom', pathToFileURL(path).href])).stdout;
      expect(dom).not.toMatch(/<title>PWNED/);
      expect(dom).not.toMatch(/<img[^>]*onerror/);
      expect(dom).not.toContain("<script>document.title='PWNED'");
      // Shown, as text.
      expect(dom).toContain("&lt;script&gt;document.title='PWNED'&lt;/script&gt;");
    },
    TIMEOUT_MS,
  );

  test(
    'keeps the SVG charts with non-empty paths in the DOM after layout',
    async () => {
      const dom = ok(await chromium(['--dump-dom', pathToFileURL(reportPath).href])).stdout;
      const svgs = [...dom.matchAll(/<svg\b[^>]*>[\s\S]*?<\/svg>/g)].map((m) => m[0]);
      const timelines = svgs.filter((s) => s.includes('data-chart="timeline"'));
      expect(timelines).toHaveLength(results.records.length);
      for (const svg of timelines) {
        expect(svg).toMatch(/<title>Timeline of /);
        for (const cls of ['series series-remaining', 'series series-dirty-rate']) {
          const d = new RegExp(`<path class="${cls}" d="([^"]*)"`).exec(svg)?.[1];
          expect(d, cls).toMatch(/^M[-\d.]+ [-\d.]+(L[-\d.]+ [-\d.]+)+$/);
        }
        expect(svg.match(/<rect class="probe-gap"/g)?.length).toBeGreaterThan(0);
      }
    },
    TIMEOUT_MS,
  );

  test(
    'lays the charts out with a real size',
    async () => {
      // Only in this test copy: lift the page's no-script policy and add a script that
      // writes what the layout engine measured into the DOM for --dump-dom to show.
      const html = await readFile(reportPath, 'utf8');
      const csp = /<meta http-equiv="Content-Security-Policy"[^>]*>/;
      expect(html).toMatch(csp);
      const probe = `<script>
        const measure = (el) => { const b = el.getBBox(); return { width: b.width, height: b.height }; };
        const out = {
          viewport: document.documentElement.clientWidth,
          table: (() => { const t = document.querySelector('table.results'); return { width: t.getBoundingClientRect().width, wrap: t.parentElement.clientWidth }; })(),
          charts: [...document.querySelectorAll('svg[data-chart]')].map((svg) => ({
            kind: svg.dataset.chart,
            box: measure(svg),
            rendered: svg.getBoundingClientRect().width,
            remaining: [...svg.querySelectorAll('path.series-remaining')].map(measure),
            gaps: [...svg.querySelectorAll('rect.probe-gap')].map(measure),
            downtime: [...svg.querySelectorAll('rect.downtime')].map(measure),
            text: [...svg.querySelectorAll('text')].map(measure).filter((b) => b.width > 0).length,
          })),
        };
        const pre = document.createElement('pre');
        pre.id = 'layout';
        pre.textContent = JSON.stringify(out);
        document.body.appendChild(pre);
      </script>`;
      const copy = join(dir, 'measured.html');
      await writeFile(copy, html.replace(csp, '').replace('</body>', `${probe}</body>`));
      const dom = ok(await chromium(['--dump-dom', pathToFileURL(copy).href])).stdout;
      const json = /<pre id="layout">([\s\S]*?)<\/pre>/.exec(dom)?.[1];
      expect(json, 'the layout script wrote nothing').toBeDefined();
      type Box = { width: number; height: number };
      const layout = JSON.parse(unescapeHtml(json!)) as {
        viewport: number;
        table: { width: number; wrap: number };
        charts: { kind: string; box: Box; rendered: number; remaining: Box[]; gaps: Box[]; downtime: Box[]; text: number }[];
      };
      const timelines = layout.charts.filter((c) => c.kind === 'timeline');
      expect(timelines).toHaveLength(results.records.length);
      timelines.forEach((chart, i) => {
        expect(chart.box.width).toBeGreaterThan(900);
        expect(chart.box.height).toBeGreaterThan(300);
        // On screen: drawn at a real size, within the window.
        expect(chart.rendered).toBeGreaterThan(900);
        expect(chart.rendered).toBeLessThanOrEqual(layout.viewport);
        expect(chart.remaining).toHaveLength(1);
        expect(chart.remaining[0]!.width).toBeGreaterThan(300);
        expect(chart.remaining[0]!.height).toBeGreaterThan(50);
        expect(chart.gaps).toHaveLength(results.records[i]!.probe!.gaps.length);
        for (const g of [...chart.gaps, ...chart.downtime]) expect(g.width).toBeGreaterThan(0);
        expect(chart.downtime).toHaveLength(4);
        expect(chart.text).toBeGreaterThan(20);
      });
      // The results table fits the page at 1200 px: no sideways scrolling for the figures.
      expect(layout.table.width).toBeLessThanOrEqual(layout.table.wrap + 1);
    },
    TIMEOUT_MS,
  );
});
