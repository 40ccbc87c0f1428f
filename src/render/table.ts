// The results table, rendered from a results file alone (never from memory), so it
// can be re-rendered and tested from recorded results.
import { markdownTable } from 'markdown-table';
import type { MigrationRecord, ResultsFile } from '../generated/results.js';
import { formatMetricValue, metricColumns, METRICS } from '../model/metrics.js';
import { hasRepeatedScenarios, summaryTable } from './summary.js';
import { markdownText } from './escape.js';

/** The guest after the migration in words; `bad` when it is not known to be intact. Shared by every rendering. */
export function guestState(record: MigrationRecord): { text: string; bad: boolean } {
  const i = record.integrity;
  if (i.guestAlive && i.memoryIntact && i.diskIntact !== false)
    return { text: `ok (${i.pagesChecked} pages${i.diskIntact ? `, ${i.blocksChecked} disk blocks` : ''} verified)`, bad: false };
  if (i.guestAlive && i.memoryIntact === null) return { text: 'alive (no agent to verify memory)', bad: false };
  return { text: i.problem ?? 'not intact', bad: true };
}

/** The migration's status, and for one that did not complete, the first line of its error. */
export function statusState(record: MigrationRecord): { status: string; detail: string | null } {
  return record.status === 'completed' ? { status: 'completed', detail: null } : { status: record.status, detail: record.error?.message.split('\n')[0] ?? '' };
}

// Names, errors and notes are data (escape.ts): a `|` in an error message must not add a
// column, nor an `@name` in a scenario mention anyone where the table is posted.
function guestCell(record: MigrationRecord): string {
  const g = guestState(record);
  return g.bad ? `**${markdownText(g.text)}**` : markdownText(g.text);
}

function statusCell(record: MigrationRecord): string {
  const s = statusState(record);
  return s.detail === null ? s.status : `**${s.status}**: ${markdownText(s.detail)}`;
}

export function resultsTable(results: ResultsFile): string {
  if (results.records.length === 0) return '_No migrations were measured._\n';
  const columns = metricColumns(results.records);
  const header = ['suite', 'scenario', 'run', 'status', ...columns.map((m) => METRICS[m].label), 'probe loss', 'guest after migration'];
  const rows = results.records.map((r) => [
    markdownText(r.suite),
    markdownText(r.scenario),
    String(r.repetition),
    statusCell(r),
    ...columns.map((m) => formatMetricValue(m, r.metrics[m])),
    r.probe ? `${r.probe.lossCount}/${r.probe.sent}` : '—',
    guestCell(r),
  ]);
  const align = ['l', 'l', 'r', 'l', ...columns.map(() => 'r' as const), 'r', 'l'];
  return `${markdownTable([header, ...rows], { align })}\n`;
}

/** What produced the figures and what each downtime column means. */
export function resultsNotes(results: ResultsFile): string {
  const lines: string[] = [];
  const environments = new Map<string, number>();
  for (const r of results.records) {
    const s = r.environment.source;
    const key = `${s.hypervisorVersion}, accel ${s.accel}${s.accelReason ? ` (${s.accelReason})` : ''}, host kernel ${s.kernel}, ${s.cpuCount}× ${s.cpuModel}`;
    environments.set(key, (environments.get(key) ?? 0) + 1);
  }
  for (const [env, n] of environments) lines.push(`- Environment (${n} run${n === 1 ? '' : 's'}): ${markdownText(env)}.`);
  const workarounds = new Set(results.records.flatMap((r) => r.workarounds));
  for (const w of workarounds) lines.push(`- Workaround applied: ${markdownText(w)}.`);
  lines.push(
    `- migbench ${markdownText(results.migbenchVersion)}${results.gitSha ? ` (${markdownText(results.gitSha.slice(0, 12))})` : ''}; config ${markdownText(results.config.path)} (sha256 ${markdownText(results.config.sha256.slice(0, 12))}).`,
  );
  const probe = results.records.find((r) => r.probe)?.probe;
  const beat = results.records.find((r) => r.heartbeat)?.heartbeat;
  lines.push(
    '- Downtime, four ways: **reported** is what the hypervisor says (QEMU measures its own source-side pause); ' +
      '**stop→resume** runs from the source STOP event to the destination RESUME event; ' +
      `**observed** is the largest gap between ICMP replies seen from the observer${probe ? ` (${probe.tool}, every ${probe.intervalMs} ms)` : ''}; ` +
      `**guest pause** is the largest gap between the guest agent's heartbeats${beat ? ` (every ${beat.periodMs} ms)` : ''}, timestamped as they reach the hosts.`,
  );
  lines.push('- "—" means not measured; migbench never fills in an estimate.');
  for (const r of results.records) {
    const run = markdownText(`${r.scenario} #${r.repetition}`);
    for (const w of r.warnings ?? [])
      lines.push(`- **Teardown warning** (${run}, measured and kept): step "${markdownText(w.step)}" failed ${markdownText(`[${w.code}]`)}: ${markdownText(w.message)}`);
    for (const note of r.notes ?? []) lines.push(`- Note (${run}): ${markdownText(note)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The loud line at the end of a run whose teardowns failed: the records stand, but QEMUs
 * or taps may be left on the hosts. Null when every teardown went through.
 */
export function teardownWarning(results: ResultsFile, lab: boolean): string | null {
  const warned = results.records.filter((r) => r.warnings?.length);
  if (!warned.length) return null;
  const steps = warned.flatMap((r) => r.warnings!.map((w) => `${r.scenario} #${r.repetition}: "${w.step}" [${w.code}]`));
  const where = lab ? '`migbench lab status` lists what is left on the lab, `migbench lab down` removes it' : 'check the hosts for QEMUs and taps left running';
  return `migbench: WARNING: the teardown of ${warned.length} measured migration${warned.length === 1 ? '' : 's'} failed (the records stand): ${steps.join('; ')}. ${where}.`;
}

export function resultsMarkdown(results: ResultsFile): string {
  const summary = hasRepeatedScenarios(results) ? `## Summary over repetitions\n\n${summaryTable(results)}\n` : '';
  return `# migbench results\n\n${resultsTable(results)}\n${summary}${resultsNotes(results)}`;
}
