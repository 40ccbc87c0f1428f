// Names, errors and notes are data wherever migbench writes them: in the results table and
// its notes, the summary over repetitions, and the comparison a pull request gets as a
// comment. A hostile name keeps every table's columns, mentions nobody, links nothing and
// brings no HTML (the HTML report's side is in html-chromium.test.ts).
import { describe, expect, test } from 'vitest';
import { compareResults } from '../../src/analysis/comparison.js';
import type { MigrationRecord, ResultsFile } from '../../src/generated/results.js';
import { projectPath } from '../../src/model/paths.js';
import { readResults } from '../../src/model/results.js';
import { compareMarkdown } from '../../src/render/comparison.js';
import { resultsMarkdown } from '../../src/render/table.js';
import { htmlText } from '../../src/render/escape.js';

/** Everything a Markdown renderer or GitHub would read as syntax, in one name. */
export const HOSTILE = 'a|b `code` <script>alert(1)</script> @octocat #123 ]] [x](https://evil.example) *em* _u_\nsecond line';

function hostile(results: ResultsFile): ResultsFile {
  const records = results.records.map((r, i): MigrationRecord => ({
    ...r,
    suite: `suite ${HOSTILE}`,
    scenario: `scenario ${HOSTILE}`,
    notes: [`note ${HOSTILE}`],
    warnings: [{ step: `step ${HOSTILE}`, code: 'MB_SSH_LOST', message: `lost ${HOSTILE}` }],
    // One failed run, so its error message reaches the status column.
    ...(i === 0 && { status: 'failed' as const, error: { code: 'MB_MIGRATION', phase: 'migrate', message: `virsh said ${HOSTILE}` } }),
  }));
  return { ...results, records };
}

/** The cells of a Markdown table line, splitting on unescaped pipes only. */
function cells(line: string): string[] {
  return line.split(/(?<!\\)\|/).slice(1, -1);
}

function expectInert(markdown: string): void {
  // Mermaid blocks are text to Mermaid, not Markdown: there a label must only stay one quoted string.
  const mermaid = [...markdown.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]!);
  for (const block of mermaid) for (const title of block.match(/title .*/g) ?? []) expect(title).toMatch(/^title "[^"<>]*"$/);
  const prose = markdown.replace(/```mermaid\n[\s\S]*?```/g, '');
  // No live mention, issue link, HTML tag, Markdown link or code span survives.
  expect(markdown).not.toMatch(/@(?!\u200b)octocat/);
  expect(markdown).not.toMatch(/#(?!\u200b)123/);
  expect(markdown).not.toMatch(/<script>|<\/script>/);
  expect(prose).not.toMatch(/(?<!\\)\[x(?<!\\)\]\(https/);
  expect(prose).not.toMatch(/(?<!\\)`code(?<!\\)`/);
  // The second line of a name never starts a line of its own.
  expect(markdown).not.toMatch(/^second line/m);
}

function expectTablesKeepColumns(markdown: string): void {
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || lines[i - 1]?.startsWith('|')) continue;
    // A table starts here: every one of its lines has the header's columns.
    const width = cells(lines[i]!).length;
    for (let j = i; lines[j]?.startsWith('|'); j++) expect(cells(lines[j]!), lines[j]).toHaveLength(width);
  }
}

describe('names as data', () => {
  test('results table, summary and notes', async () => {
    const results = hostile(await readResults(projectPath('fixtures/results/lab-tcg.json')));
    const markdown = resultsMarkdown(results);
    expectInert(markdown);
    expectTablesKeepColumns(markdown);
    // Still readable: the name is there, escaped.
    expect(markdown).toContain('scenario a\\|b \\`code\\` \\<script\\>');
  });

  test('the comparison a pull request gets as a comment', async () => {
    const load = (side: string) => readResults(projectPath(`fixtures/results/ab-downtime-limit/${side}.json`));
    const [base, head] = [hostile(await load('base')), hostile(await load('head'))];
    const markdown = compareMarkdown(compareResults(base, head), { baseLabel: `base ${HOSTILE}`, headLabel: `head ${HOSTILE}`, samples: true });
    expectInert(markdown);
    expectTablesKeepColumns(markdown);
  });
});

describe(htmlText, () => {
  test('HTML-escaped, Markdown punctuation as character references that stay whole, mentions broken', () => {
    expect(htmlText('a [x](u) `c` <b> @me #1 &\nz')).toBe('a &#91;x&#93;(u) &#96;c&#96; &lt;b&gt; @\u200bme #\u200b1 &amp; z');
  });
});
