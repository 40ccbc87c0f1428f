// The HTML report: one self-contained file (inline CSS, charts drawn here as inline SVG,
// no script, nothing fetched when viewed), rendered from a results file alone like the
// Markdown table, so it can be re-rendered and tested from recorded results.
import type { Gap, MigrationRecord, ResultsFile } from '../generated/results.js';
import { formatMetricValue, METRIC_ORDER, metricColumns, METRICS, type MetricName } from '../model/metrics.js';
import { median } from '../analysis/stats.js';
import { hasRepeatedScenarios, scenarioSummaries } from './summary.js';
import { guestState, resultsNotes, statusState } from './table.js';
import { attrs, dotPath, escapeXml as esc, linearScale, linePath, niceDomain, num, plainNumber, shortNumber, type Scale } from './svg.js';

export interface HtmlReportOptions {
  /** Page heading and <title>; "migbench results" by default. */
  readonly title?: string;
  /** An earlier results file: distributions then show it (base) against this one (head). */
  readonly base?: ResultsFile;
}

const MiB = 1024 * 1024;

/** The four views of downtime, in table order, with the colour each is drawn in everywhere. */
export const DOWNTIME_SOURCES = [
  { key: 'reported', metric: 'downtimeMs', label: 'reported', colour: '#0072b2' },
  { key: 'stop-resume', metric: 'stopToResumeMs', label: 'stop→resume', colour: '#009e73' },
  { key: 'observed', metric: 'observedDowntimeMs', label: 'observed (probe)', colour: '#d55e00' },
  { key: 'guest', metric: 'guestPauseMs', label: 'guest (heartbeat)', colour: '#cc79a7' },
] as const satisfies ReadonlyArray<{ key: string; metric: MetricName; label: string; colour: string }>;

export type DowntimeSource = (typeof DOWNTIME_SOURCES)[number]['key'];

export interface DowntimeWindow {
  readonly source: DowntimeSource;
  /** ms after the migrate command; null when this view was not measured. */
  readonly startMs: number | null;
  readonly endMs: number | null;
}

const COLOURS = {
  remaining: '#1b1b1b',
  dirty: '#e69f00',
  probeGap: '#d55e00',
  heartbeatGap: '#cc79a7',
  mirror: '#2e7d32',
  event: '#555555',
  base: '#4e79a7',
  head: '#e15759',
  grid: '#e3e3e3',
  axis: '#888888',
  muted: '#777777',
};

// ---------------------------------------------------------------------------------------
// What the charts draw, taken from a record

function sourceStop(record: MigrationRecord): number | null {
  // As the driver measures stop→resume: the source's first STOP after the migrate command.
  return record.events.find((e) => e.side === 'source' && e.name === 'STOP' && e.tMs >= -1)?.tMs ?? null;
}

function destinationResume(record: MigrationRecord): number | null {
  return record.events.find((e) => e.side === 'destination' && e.name === 'RESUME')?.tMs ?? null;
}

/** The gap behind a "largest gap" figure: the one whose duration is closest to it. */
function gapOf(gaps: readonly Gap[], largestMs: number | null): Gap | null {
  if (largestMs === null || gaps.length === 0) return null;
  return gaps.reduce((best, g) => (Math.abs(g.durationMs - largestMs) < Math.abs(best.durationMs - largestMs) ? g : best));
}

/**
 * Where each view of downtime lies on the record's time axis: reported as a window of the
 * reported length starting at the source's STOP (QEMU measures its own pause from there),
 * stop→resume from that STOP to the destination's RESUME, observed and guest as the probe's
 * and the heartbeat's largest gaps during the migration.
 */
export function downtimeWindows(record: MigrationRecord): DowntimeWindow[] {
  const stop = sourceStop(record);
  const resume = destinationResume(record);
  const reported = record.metrics.downtimeMs;
  const observed = record.probe ? gapOf(record.probe.gaps, record.probe.largestGapMs ?? record.metrics.observedDowntimeMs) : null;
  const guest = record.heartbeat ? gapOf(record.heartbeat.gaps, record.heartbeat.largestGapMs ?? record.metrics.guestPauseMs) : null;
  const window = (source: DowntimeSource, startMs: number | null, endMs: number | null): DowntimeWindow =>
    startMs !== null && endMs !== null && Number.isFinite(startMs) && Number.isFinite(endMs) ? { source, startMs, endMs } : { source, startMs: null, endMs: null };
  return [
    window('reported', stop, stop !== null && reported !== null ? stop + reported : null),
    window('stop-resume', stop, resume !== null && stop !== null && resume >= stop ? resume : null),
    window('observed', observed?.startMs ?? null, observed?.endMs ?? null),
    window('guest', guest?.startMs ?? null, guest?.endMs ?? null),
  ];
}

function finite(values: ReadonlyArray<number | null | undefined>): number[] {
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

// ---------------------------------------------------------------------------------------
// SVG building blocks

const CHAR_WIDTH = 6.6; // average width of a 12 px sans-serif character, for layout only

function text(x: number, y: number, content: string, extra: Record<string, string | number | undefined> = {}): string {
  return `<text${attrs({ x, y, ...extra })}>${esc(content)}</text>`;
}

interface LegendItem {
  readonly label: string;
  readonly colour: string;
  readonly shape: 'line' | 'band' | 'dash';
  readonly opacity?: number;
}

/** Legend items laid out left to right from (x, y), wrapping before maxX; returns the SVG and its height. */
function legend(items: readonly LegendItem[], x0: number, y0: number, maxX: number): { svg: string; height: number } {
  const parts: string[] = [];
  let x = x0;
  let y = y0;
  for (const item of items) {
    const width = 22 + item.label.length * CHAR_WIDTH + 18;
    if (x + width > maxX && x > x0) {
      x = x0;
      y += 18;
    }
    const swatch =
      item.shape === 'line'
        ? `<path class="legend-swatch"${attrs({ d: `M${num(x)} ${num(y)}h16`, stroke: item.colour, 'stroke-width': 2.5, fill: 'none' })}/>`
        : item.shape === 'dash'
          ? `<path class="legend-swatch"${attrs({ d: `M${num(x + 8)} ${num(y - 7)}v14`, stroke: item.colour, 'stroke-width': 1.5, 'stroke-dasharray': '3 2', fill: 'none' })}/>`
          : `<rect class="legend-swatch"${attrs({ x, y: y - 6, width: 16, height: 12, fill: item.colour, 'fill-opacity': item.opacity ?? 1 })}/>`;
    parts.push(`<g class="legend-item">${swatch}${text(x + 22, y + 4, item.label)}</g>`);
    x += width;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: y - y0 + 18 };
}

function xAxis(x: Scale, ticks: readonly number[], y: number, gridTop: number, unit: string, title: string, format: (v: number) => string = plainNumber): string {
  const [left, right] = x.range;
  const parts = [`<path class="axis"${attrs({ d: `M${num(left)} ${num(y)}H${num(right)}`, stroke: COLOURS.axis, fill: 'none' })}/>`];
  for (const t of ticks) {
    const px = x(t);
    if (gridTop < y) parts.push(`<path class="grid"${attrs({ d: `M${num(px)} ${num(gridTop)}V${num(y)}`, stroke: COLOURS.grid, fill: 'none' })}/>`);
    parts.push(`<path class="tick"${attrs({ d: `M${num(px)} ${num(y)}v4`, stroke: COLOURS.axis, fill: 'none' })}/>`);
    parts.push(text(px, y + 16, `${format(t)} ${unit}`, { 'text-anchor': 'middle', class: 'tick-label' }));
  }
  if (title) parts.push(text((left + right) / 2, y + 34, title, { 'text-anchor': 'middle', class: 'axis-title' }));
  return `<g class="x-axis">${parts.join('')}</g>`;
}

function yAxis(y: Scale, ticks: readonly number[], x: number, right: number, unit: string, format: (v: number) => string = plainNumber): string {
  const parts = [`<path class="axis"${attrs({ d: `M${num(x)} ${num(y.range[0])}V${num(y.range[1])}`, stroke: COLOURS.axis, fill: 'none' })}/>`];
  for (const t of ticks) {
    const py = y(t);
    parts.push(`<path class="grid"${attrs({ d: `M${num(x)} ${num(py)}H${num(right)}`, stroke: COLOURS.grid, fill: 'none' })}/>`);
    parts.push(text(x - 6, py + 4, `${format(t)} ${unit}`, { 'text-anchor': 'end', class: 'tick-label' }));
  }
  return `<g class="y-axis">${parts.join('')}</g>`;
}

function band(cls: string, x: Scale, startMs: number, endMs: number, top: number, height: number, fill: string, opacity: number, tip: string): string {
  const x0 = x(Math.min(startMs, endMs));
  const width = Math.max(1.5, x(Math.max(startMs, endMs)) - x0); // a 1 ms window still shows
  return `<rect${attrs({ class: cls, x: x0, y: top, width, height, fill, 'fill-opacity': opacity })}><title>${esc(tip)}</title></rect>`;
}

function ms(value: number): string {
  return `${Number(value.toFixed(1))} ms`;
}

function svgOpen(kind: string, width: number, height: number, title: string, data: Record<string, string>): string {
  const dataAttrs = Object.fromEntries(Object.entries(data).map(([k, v]) => [`data-${k}`, v]));
  return `<svg${attrs({ class: `chart chart-${kind}`, 'data-chart': kind, ...dataAttrs, viewBox: `0 0 ${num(width)} ${num(height)}`, width, height, role: 'img' })}><title>${esc(title)}</title>`;
}

// ---------------------------------------------------------------------------------------
// Timeline chart, one per record

const TL = { width: 1100, left: 150, right: 28, main: 200, dirty: 64, lane: 20 };

/** What a timeline marks on the record's time axis besides its samples. */
interface TimelineMarks {
  readonly windows: readonly DowntimeWindow[];
  readonly stop: number | null;
  readonly resume: number | null;
  readonly probeGaps: readonly Gap[];
  readonly beatGaps: readonly Gap[];
  readonly mirror: { readonly startMs: number; readonly endMs: number } | null;
}

/** Where a timeline's parts lie: its time scale, then the legend, panels and lanes from top to bottom. */
interface TimelineFrame {
  readonly x: Scale;
  readonly xTicks: readonly number[];
  readonly plotRight: number;
  readonly legend: { readonly svg: string; readonly height: number };
  readonly mainTop: number;
  readonly mainBottom: number;
  readonly dirtyTop: number;
  readonly dirtyBottom: number;
  readonly lanes: readonly string[];
  readonly lanesTop: number;
  readonly lanesBottom: number;
  readonly height: number;
}

function timelineMarks(record: MigrationRecord): TimelineMarks {
  const storage = record.storage;
  return {
    windows: downtimeWindows(record),
    stop: sourceStop(record),
    resume: destinationResume(record),
    probeGaps: record.probe?.gaps ?? [],
    beatGaps: record.heartbeat?.gaps ?? [],
    mirror: storage && storage.mirrorStartMs !== null && storage.mirrorReadyMs !== null ? { startMs: storage.mirrorStartMs, endMs: storage.mirrorReadyMs } : null,
  };
}

/** The time axis: everything drawn, and the migrate command (0). */
function timeScale(record: MigrationRecord, marks: TimelineMarks, plotRight: number): { x: Scale; ticks: number[] } {
  const { probeGaps, beatGaps, windows, mirror } = marks;
  const times = finite([
    0,
    ...record.timeline.map((s) => s.tMs),
    ...record.events.map((e) => e.tMs),
    ...probeGaps.flatMap((g) => [g.startMs, g.endMs]),
    ...beatGaps.flatMap((g) => [g.startMs, g.endMs]),
    ...windows.flatMap((w) => [w.startMs, w.endMs]),
    mirror?.startMs,
    mirror?.endMs,
  ]);
  const xNice = niceDomain(Math.min(...times), Math.max(...times), 9);
  return { x: linearScale(xNice.domain, [TL.left, plotRight]), ticks: xNice.ticks };
}

function timelineLegend(marks: TimelineMarks, plotRight: number): { svg: string; height: number } {
  const legendItems: LegendItem[] = [
    { label: 'remaining (MiB)', colour: COLOURS.remaining, shape: 'line' },
    { label: 'dirty rate (pages/s)', colour: COLOURS.dirty, shape: 'line' },
    { label: `probe gaps (${marks.probeGaps.length})`, colour: COLOURS.probeGap, shape: 'band', opacity: 0.2 },
    ...(marks.mirror ? [{ label: 'disk mirror', colour: COLOURS.mirror, shape: 'band', opacity: 0.14 } as const] : []),
    { label: 'source STOP / destination RESUME', colour: COLOURS.event, shape: 'dash' },
    ...DOWNTIME_SOURCES.map((s) => ({ label: `downtime ${s.label}`, colour: s.colour, shape: 'band' as const })),
  ];
  return legend(legendItems, TL.left, 16, plotRight);
}

function timelineFrame(record: MigrationRecord, marks: TimelineMarks): TimelineFrame {
  const plotRight = TL.width - TL.right;
  const { x, ticks } = timeScale(record, marks, plotRight);
  const leg = timelineLegend(marks, plotRight);
  const mainTop = 16 + leg.height + 10;
  const mainBottom = mainTop + TL.main;
  const dirtyTop = mainBottom + 26;
  const dirtyBottom = dirtyTop + TL.dirty;
  const lanes = [...(marks.mirror ? ['mirror'] : []), ...DOWNTIME_SOURCES.map((s) => s.key)];
  const lanesTop = dirtyBottom + 16;
  const lanesBottom = lanesTop + lanes.length * TL.lane;
  return { x, xTicks: ticks, plotRight, legend: leg, mainTop, mainBottom, dirtyTop, dirtyBottom, lanes, lanesTop, lanesBottom, height: lanesBottom + 48 };
}

/** Backgrounds: the disk mirror phase, then the probe gaps (one rect per gap). */
function backgroundBands({ mirror, probeGaps }: TimelineMarks, { x, mainTop, dirtyBottom }: TimelineFrame): string {
  const parts: string[] = [];
  if (mirror) {
    parts.push(
      band(
        'mirror-phase',
        x,
        mirror.startMs,
        mirror.endMs,
        mainTop,
        dirtyBottom - mainTop,
        COLOURS.mirror,
        0.1,
        `disk mirror ${ms(mirror.startMs)} to ${ms(mirror.endMs)} (${ms(mirror.endMs - mirror.startMs)})`,
      ),
    );
    parts.push(text(x(mirror.startMs) + 4, mainTop + 14, 'disk mirror', { class: 'band-label', fill: COLOURS.mirror }));
  }
  for (const g of probeGaps) {
    parts.push(
      band(
        'probe-gap',
        x,
        g.startMs,
        g.endMs,
        mainTop,
        TL.main,
        COLOURS.probeGap,
        0.2,
        `probe gap ${ms(g.startMs)} to ${ms(g.endMs)} (${ms(g.durationMs)}${g.open ? ', never closed' : ''})`,
      ),
    );
  }
  return parts.join('');
}

/** A panel's name, written upwards beside its y axis. */
function panelTitle(label: string, top: number, bottom: number): string {
  return text(14, (top + bottom) / 2, label, { class: 'axis-title', 'text-anchor': 'middle', transform: `rotate(-90 14 ${num((top + bottom) / 2)})` });
}

/** The main panel: remaining bytes, line and samples. */
function remainingPanel(record: MigrationRecord, { x, plotRight, mainTop, mainBottom }: TimelineFrame): string {
  const { left } = TL;
  const remaining = record.timeline.filter((s) => s.remainingBytes !== null && Number.isFinite(s.tMs));
  const maxBytes = Math.max(0, ...finite(record.timeline.flatMap((s) => [s.remainingBytes, s.totalBytes])));
  const yMain = niceDomain(0, maxBytes / MiB, 4);
  const y = linearScale(yMain.domain, [mainBottom, mainTop]);
  const parts = [yAxis(y, yMain.ticks, left, plotRight, 'MiB')];
  if (remaining.length > 0) {
    const d = linePath(remaining.map((s) => [x(s.tMs), y(s.remainingBytes! / MiB)] as const));
    parts.push(`<path${attrs({ class: 'series series-remaining', d, fill: 'none', stroke: COLOURS.remaining, 'stroke-width': 2, 'stroke-linejoin': 'round' })}/>`);
    for (const s of remaining) parts.push(`<path${attrs({ class: 'sample sample-remaining', d: dotPath(x(s.tMs), y(s.remainingBytes! / MiB), 2.2), fill: COLOURS.remaining })}/>`);
  } else {
    parts.push(text((left + plotRight) / 2, (mainTop + mainBottom) / 2, 'no progress samples with remaining bytes', { 'text-anchor': 'middle', class: 'empty' }));
  }
  parts.push(panelTitle('remaining', mainTop, mainBottom));
  return parts.join('');
}

/** Dirty page rate, its own small panel on the same time axis. */
function dirtyRatePanel(record: MigrationRecord, { x, plotRight, dirtyTop, dirtyBottom }: TimelineFrame): string {
  const { left } = TL;
  const dirty = record.timeline.filter((s) => s.dirtyRatePagesPerSec !== null && Number.isFinite(s.tMs));
  const maxDirty = Math.max(0, ...finite(dirty.map((s) => s.dirtyRatePagesPerSec)));
  const yDirtyNice = niceDomain(0, Math.max(maxDirty, 10), 2);
  const yDirty = linearScale(yDirtyNice.domain, [dirtyBottom, dirtyTop]);
  const parts = [yAxis(yDirty, yDirtyNice.ticks, left, plotRight, 'pg/s', shortNumber)];
  if (dirty.length > 0) {
    const d = linePath(dirty.map((s) => [x(s.tMs), yDirty(s.dirtyRatePagesPerSec!)] as const));
    parts.push(`<path${attrs({ class: 'series series-dirty-rate', d, fill: 'none', stroke: COLOURS.dirty, 'stroke-width': 2, 'stroke-linejoin': 'round' })}/>`);
  } else {
    parts.push(text((left + plotRight) / 2, (dirtyTop + dirtyBottom) / 2 + 4, 'no dirty-rate samples', { 'text-anchor': 'middle', class: 'empty' }));
  }
  parts.push(panelTitle('dirty', dirtyTop, dirtyBottom));
  return parts.join('');
}

function laneTop(frame: TimelineFrame, key: string): number {
  return frame.lanesTop + frame.lanes.indexOf(key) * TL.lane;
}

/** A lane's figure right of its band, or left of it where the plot ends first. */
function valueLabel(frame: TimelineFrame, endX: number, startX: number, top: number, label: string, colour: string): string {
  return endX + 6 + label.length * CHAR_WIDTH < frame.plotRight
    ? text(endX + 6, top + 14, label, { class: 'band-label', fill: colour })
    : text(startX - 6, top + 14, label, { class: 'band-label', fill: colour, 'text-anchor': 'end' });
}

function mirrorLane(mirror: NonNullable<TimelineMarks['mirror']>, frame: TimelineFrame): string {
  const { x } = frame;
  const top = laneTop(frame, 'mirror');
  return (
    text(TL.left - 8, top + 14, 'disk mirror', { 'text-anchor': 'end', class: 'lane-label' }) +
    band('lane-mirror', x, mirror.startMs, mirror.endMs, top + 3, TL.lane - 6, COLOURS.mirror, 0.75, `disk mirror ${ms(mirror.startMs)} to ${ms(mirror.endMs)}`) +
    valueLabel(frame, x(mirror.endMs), x(mirror.startMs), top, ms(mirror.endMs - mirror.startMs), COLOURS.mirror)
  );
}

function downtimeLane(record: MigrationRecord, marks: TimelineMarks, source: (typeof DOWNTIME_SOURCES)[number], frame: TimelineFrame): string {
  const { x } = frame;
  const top = laneTop(frame, source.key);
  const w = marks.windows.find((v) => v.source === source.key)!;
  const parts = [text(TL.left - 8, top + 14, source.label, { 'text-anchor': 'end', class: 'lane-label' })];
  // Every gap faintly behind the largest, so a stall elsewhere is seen next to the switchover.
  const context = source.key === 'observed' ? marks.probeGaps : source.key === 'guest' ? marks.beatGaps : [];
  for (const g of context)
    parts.push(band('lane-gap', x, g.startMs, g.endMs, top + 3, TL.lane - 6, source.colour, 0.25, `gap ${ms(g.startMs)} to ${ms(g.endMs)} (${ms(g.durationMs)})`));
  const figure = record.metrics[source.metric];
  if (w.startMs !== null && w.endMs !== null) {
    const label = ms(figure ?? w.endMs - w.startMs);
    parts.push(
      band(
        `downtime downtime-${source.key}`,
        x,
        w.startMs,
        w.endMs,
        top + 3,
        TL.lane - 6,
        source.colour,
        1,
        `${source.label} downtime ${label}: ${ms(w.startMs)} to ${ms(w.endMs)}`,
      ),
    );
    parts.push(valueLabel(frame, x(w.endMs), x(w.startMs), top, label, source.colour));
  } else {
    parts.push(text(TL.left + 6, top + 14, 'not measured', { class: 'empty' }));
  }
  return parts.join('');
}

/** Lanes: the mirror phase and the four views of downtime side by side. */
function downtimeLanes(record: MigrationRecord, marks: TimelineMarks, frame: TimelineFrame): string {
  const parts: string[] = [`<g class="lanes">`];
  for (const key of frame.lanes) {
    const top = laneTop(frame, key);
    parts.push(`<rect${attrs({ class: 'lane-track', x: TL.left, y: top + 3, width: frame.plotRight - TL.left, height: TL.lane - 6, fill: '#f4f4f4' })}/>`);
  }
  if (marks.mirror) parts.push(mirrorLane(marks.mirror, frame));
  for (const source of DOWNTIME_SOURCES) parts.push(downtimeLane(record, marks, source, frame));
  parts.push(`</g>`);
  return parts.join('');
}

/** A dashed line across every panel at t, labelled on the anchor's side unless the label would leave the chart. */
function eventMarker({ x, mainTop, lanesBottom }: TimelineFrame, cls: string, t: number, label: string, anchor: 'start' | 'end', labelY: number): string {
  const px = x(t);
  const fits = anchor === 'start' ? px + 4 + label.length * CHAR_WIDTH < TL.width : px - 4 - label.length * CHAR_WIDTH > 0;
  const side = fits ? anchor : anchor === 'start' ? 'end' : 'start';
  return (
    `<path${attrs({ class: `event ${cls}`, d: `M${num(px)} ${num(mainTop - 4)}V${num(lanesBottom)}`, stroke: COLOURS.event, 'stroke-width': 1.2, 'stroke-dasharray': '4 3', fill: 'none' })}/>` +
    text(side === 'start' ? px + 4 : px - 4, labelY, label, { 'text-anchor': side, class: 'event-label' })
  );
}

// Events across every panel: the migrate command, the source's STOP, the destination's RESUME.
// STOP's label left of its line, RESUME's right of it and lower, so close events stay legible.
function eventMarkers({ stop, resume }: TimelineMarks, frame: TimelineFrame): string {
  const { x, mainTop, mainBottom, lanesBottom } = frame;
  return (
    `<path${attrs({ class: 'event event-migrate', d: `M${num(x(0))} ${num(mainTop)}V${num(lanesBottom)}`, stroke: '#bbbbbb', 'stroke-width': 1, fill: 'none' })}/>` +
    text(x(0) + 4, mainBottom - 6, 'migrate', { class: 'event-label muted' }) +
    (stop !== null ? eventMarker(frame, 'event-stop', stop, 'STOP', 'end', mainTop + 12) : '') +
    (resume !== null ? eventMarker(frame, 'event-resume', resume, 'RESUME', 'start', mainTop + 26) : '')
  );
}

/** The record's timeline as an SVG chart (data-chart="timeline"). */
export function timelineChart(record: MigrationRecord, index: number): string {
  const marks = timelineMarks(record);
  const frame = timelineFrame(record, marks);
  const title = `Timeline of ${record.suite} / ${record.scenario} run ${record.repetition}: remaining bytes and dirty rate over time, probe gaps shaded, the four views of downtime below`;
  return [
    svgOpen('timeline', TL.width, frame.height, title, { record: String(index), scenario: record.scenario, suite: record.suite }),
    frame.legend.svg,
    backgroundBands(marks, frame),
    remainingPanel(record, frame),
    dirtyRatePanel(record, frame),
    downtimeLanes(record, marks, frame),
    eventMarkers(marks, frame),
    xAxis(frame.x, frame.xTicks, frame.lanesBottom + 4, frame.mainTop, 'ms', 'time since the migrate command (ms)'),
    '</svg>',
  ].join('');
}

// ---------------------------------------------------------------------------------------
// Distribution (strip) charts, one per scenario

/** The metrics the distribution charts show, in order. */
export const DISTRIBUTION_METRICS: readonly MetricName[] = ['totalTimeMs', 'downtimeMs', 'observedDowntimeMs', 'guestPauseMs', 'transferredBytes'];

function metricUnit(m: MetricName): { unit: string; scale: number } {
  switch (METRICS[m].unit) {
    case 'bytes':
      return { unit: 'MiB', scale: 1 / MiB };
    case 'ms':
      return { unit: 'ms', scale: 1 };
    case 'pages/s':
      return { unit: 'pg/s', scale: 1 };
    default:
      return { unit: '', scale: 1 };
  }
}

interface Strip {
  readonly key: 'base' | 'head';
  readonly label: string;
  readonly colour: string;
  readonly records: readonly MigrationRecord[];
}

const DIST = { width: 1100, left: 240, right: 28, stripHeight: 26 };

/** A strip's measured values of one metric, in the row's unit. */
function stripValues(strip: Strip, m: MetricName, scale: number): Array<{ record: MigrationRecord; value: number }> {
  return strip.records.flatMap((r) => (r.metrics[m] !== null && Number.isFinite(r.metrics[m]) ? [{ record: r, value: r.metrics[m]! * scale }] : []));
}

/** One strip: its label, a bar at the median and a dot per run. */
function stripMarks(s: Strip, values: ReturnType<typeof stripValues>, stripTop: number, x: Scale, unit: string): string {
  const { left, stripHeight } = DIST;
  const mid = stripTop + stripHeight / 2;
  const parts = [text(left - 8, mid + 4, s.label, { 'text-anchor': 'end', class: 'strip-label', fill: s.colour })];
  const med = median(values.map((v) => v.value));
  if (med !== null) {
    parts.push(
      `<rect${attrs({ class: `median median-${s.key}`, x: x(med) - 1.5, y: stripTop + 1, width: 3, height: stripHeight - 2, fill: s.colour })}><title>${esc(`${s.label} median ${Number(med.toFixed(1))} ${unit}`)}</title></rect>`,
    );
  }
  values.forEach((v, j) => {
    const jitter = ((j % 3) - 1) * 4; // deterministic, so equal values stay visible
    parts.push(
      `<path${attrs({ class: `dot dot-${s.key}`, d: dotPath(x(v.value), mid + jitter, 4.5), fill: s.colour, 'fill-opacity': 0.55, stroke: s.colour, 'stroke-width': 1 })}><title>${esc(`${s.label} run ${v.record.repetition}: ${Number(v.value.toFixed(1))} ${unit}`)}</title></path>`,
    );
  });
  if (values.length === 0) parts.push(text(left + 6, mid + 4, s.records.length === 0 ? 'no completed runs' : 'not measured', { class: 'empty' }));
  return parts.join('');
}

/** One metric's row: its label, an axis over every strip's values, and the strips. */
function metricRow(m: MetricName, rowTop: number, strips: readonly Strip[]): string {
  const { left, stripHeight } = DIST;
  const { unit, scale } = metricUnit(m);
  const axisY = rowTop + 8 + strips.length * stripHeight;
  const all = strips.flatMap((s) => stripValues(s, m, scale).map((v) => v.value));
  const parts = [`<g class="metric-row"${attrs({ 'data-metric': m })}>`, text(8, rowTop + 8 + (strips.length * stripHeight) / 2 + 4, METRICS[m].label, { class: 'row-label' })];
  if (all.length === 0) return [...parts, text(left + 6, rowTop + 18, 'not measured', { class: 'empty' }), '</g>'].join('');
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = hi > lo ? (hi - lo) * 0.08 : 0;
  const nice = niceDomain(Math.max(0, lo - pad), hi + pad, 6);
  const x = linearScale(nice.domain, [left, DIST.width - DIST.right]);
  parts.push(xAxis(x, nice.ticks, axisY, rowTop + 6, unit, '', unit === 'pg/s' ? shortNumber : plainNumber));
  strips.forEach((s, i) => parts.push(stripMarks(s, stripValues(s, m, scale), rowTop + 8 + i * stripHeight, x, unit)));
  parts.push('</g>');
  return parts.join('');
}

/** Strip plots of the key metrics for one scenario's runs, base and head in two colours. */
export function distributionChart(suite: string, scenario: string, strips: readonly Strip[]): string {
  const { width, left, right, stripHeight } = DIST;
  const plotRight = width - right;
  const rowHeight = strips.length * stripHeight + 42;
  const leg = legend(
    strips.map((s) => ({ label: `${s.label} (${s.records.length} run${s.records.length === 1 ? '' : 's'})`, colour: s.colour, shape: 'band' as const })),
    left,
    16,
    plotRight,
  );
  const top = 16 + leg.height + 8;
  const height = top + DISTRIBUTION_METRICS.length * rowHeight + 4;
  return [
    svgOpen('distribution', width, height, `Distribution of key metrics for ${suite} / ${scenario}${strips.length > 1 ? ', base against head' : ''}`, { scenario, suite }),
    leg.svg,
    ...DISTRIBUTION_METRICS.map((m, row) => metricRow(m, top + row * rowHeight, strips)),
    '</svg>',
  ].join('');
}

// ---------------------------------------------------------------------------------------
// Tables and text

type Cell = { readonly html: string; readonly cls?: string };

function tableHtml(cls: string, header: readonly Cell[], rows: readonly (readonly Cell[])[]): string {
  const cell = (tag: 'th' | 'td', c: Cell) => `<${tag}${c.cls ? attrs({ class: c.cls }) : ''}>${c.html}</${tag}>`;
  return (
    `<div class="table-wrap"><table${attrs({ class: cls })}>` +
    `<thead><tr>${header.map((c) => cell('th', c)).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => cell('td', c)).join('')}</tr>`).join('')}</tbody></table></div>`
  );
}

// The same cells as resultsTable(), as HTML: bold there is <strong> here.
function statusCell(record: MigrationRecord): Cell {
  const s = statusState(record);
  return s.detail === null ? { html: esc(s.status) } : { html: `<strong>${esc(s.status)}</strong>: ${esc(s.detail)}`, cls: 'bad' };
}

function guestCell(record: MigrationRecord): Cell {
  const g = guestState(record);
  return g.bad ? { html: `<strong>${esc(g.text)}</strong>`, cls: 'bad' } : { html: esc(g.text) };
}

const DOWNTIME_COLOUR: Partial<Record<MetricName, string>> = Object.fromEntries(DOWNTIME_SOURCES.map((s) => [s.metric, s.colour]));

function resultsTableHtml(results: ResultsFile): string {
  if (results.records.length === 0) return '<p class="empty">No migrations were measured.</p>';
  const columns = metricColumns(results.records);
  const header: Cell[] = [
    { html: 'suite' },
    { html: 'scenario' },
    { html: 'run', cls: 'num' },
    { html: 'status' },
    // Numeric headings run upwards so 17 metric columns fit beside each other.
    ...columns.map((m) => ({ html: `<span class="v">${esc(METRICS[m].label)}</span>`, cls: DOWNTIME_COLOUR[m] ? `num downtime-col downtime-col-${m}` : 'num' })),
    { html: '<span class="v">probe loss</span>', cls: 'num' },
    { html: 'guest after migration', cls: 'guest' },
  ];
  const rows = results.records.map((r, i): Cell[] => [
    { html: esc(r.suite) },
    { html: `<a${attrs({ href: `#record-${i}` })}>${esc(r.scenario)}</a>` },
    { html: esc(String(r.repetition)), cls: 'num' },
    statusCell(r),
    ...columns.map((m) => ({ html: esc(formatMetricValue(m, r.metrics[m])), cls: 'num' })),
    { html: esc(r.probe ? `${r.probe.lossCount}/${r.probe.sent}` : '—'), cls: 'num' },
    { ...guestCell(r), cls: `guest ${guestCell(r).cls ?? ''}`.trim() },
  ]);
  return tableHtml('results', header, rows);
}

function summaryTableHtml(results: ResultsFile): string {
  const rows: Cell[][] = [];
  for (const s of scenarioSummaries(results)) {
    if (s.completed < s.runs)
      rows.push([
        { html: esc(s.suite) },
        { html: esc(s.scenario) },
        { html: `<strong>${s.completed} of ${s.runs} runs completed</strong>`, cls: 'bad' },
        ...Array.from({ length: 6 }, () => ({ html: '' })),
      ]);
    for (const m of METRIC_ORDER) {
      const x = s.metrics[m];
      if (x.n === 0) continue;
      rows.push([
        { html: esc(s.suite) },
        { html: esc(s.scenario) },
        { html: esc(METRICS[m].label) },
        { html: String(x.n), cls: 'num' },
        ...[x.median, x.p95, x.min, x.max].map((v) => ({ html: esc(formatMetricValue(m, v)), cls: 'num' })),
        { html: x.cv === null ? '—' : `${(x.cv * 100).toFixed(1)}%`, cls: 'num' },
      ]);
    }
  }
  const header = ['suite', 'scenario', 'metric', 'n', 'median', 'p95', 'min', 'max', 'CV'].map((h, i) => ({ html: h, cls: i >= 3 ? 'num' : undefined }));
  return tableHtml('summary', header, rows);
}

/** resultsNotes() Markdown list lines as HTML items (escaped; **bold** kept as bold). */
function notesHtml(results: ResultsFile): string {
  const items = resultsNotes(results)
    .split('\n')
    .filter((l) => l.startsWith('- '))
    // The header already says which environment, migbench and config measured.
    .filter((l) => !l.startsWith('- Environment') && !l.startsWith('- migbench '))
    // **bold** first, while its asterisks are still unescaped; then the Markdown escapes of
    // names and messages (markdownText) go, since HTML escaping takes their place here.
    .map(
      (l) =>
        `<li>${esc(l.slice(2))
          .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
          .replace(/\\([\\`*_[\]<>|~!]|&lt;|&gt;)/g, '$1')}</li>`,
    );
  return `<ul class="notes">${items.join('')}</ul>`;
}

function describeFile(results: ResultsFile): string {
  const sha = results.gitSha ? ` (${results.gitSha.slice(0, 12)})` : '';
  return `migbench ${results.migbenchVersion}${sha}`;
}

function environments(results: ResultsFile): string[] {
  const seen = new Map<string, number>();
  for (const r of results.records) {
    const s = r.environment.source;
    const d = r.environment.destination;
    const hosts = `${s.host} → ${d.host}`;
    const key = `${s.hypervisorVersion}, accel ${s.accel}${s.accelReason ? ` (${s.accelReason})` : ''}; host kernel ${s.kernel}, ${s.cpuCount}× ${s.cpuModel}; ${hosts}; ${r.hypervisor}, Node ${r.environment.nodeVersion}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].map(([env, n]) => `${env} (${n} run${n === 1 ? '' : 's'})`);
}

function headerHtml(title: string, results: ResultsFile, base: ResultsFile | undefined): string {
  const n = results.records.length;
  const completed = results.records.filter((r) => r.status === 'completed').length;
  const row = (term: string, html: string) => `<dt>${esc(term)}</dt><dd>${html}</dd>`;
  const envs = environments(results);
  const workarounds = [...new Set(results.records.flatMap((r) => r.workarounds))];
  const suites = [...new Set(results.records.map((r) => r.suite))];
  return (
    `<header><h1>${esc(title)}</h1>` +
    `<p class="lede">${n} live migration${n === 1 ? '' : 's'} measured (${completed} completed) in ${suites.length} suite${suites.length === 1 ? '' : 's'}${suites.length ? `: ${esc(suites.join(', '))}` : ''}.</p>` +
    `<dl class="facts">` +
    row('measured by', esc(describeFile(results))) +
    row('config', `<code>${esc(results.config.path)}</code> (sha256 <code>${esc(results.config.sha256.slice(0, 12))}</code>)`) +
    row('when', `${esc(results.startedAt)} to ${esc(results.updatedAt)}`) +
    row(envs.length === 1 ? 'environment' : 'environments', envs.length ? envs.map((e) => esc(e)).join('<br>') : '—') +
    (workarounds.length ? row('workarounds', workarounds.map((w) => esc(w)).join('<br>')) : '') +
    (base
      ? row(
          'base',
          `${esc(describeFile(base))}, config <code>${esc(base.config.path)}</code> (sha256 <code>${esc(base.config.sha256.slice(0, 12))}</code>), ${base.records.length} record${base.records.length === 1 ? '' : 's'} from ${esc(base.startedAt)}`,
        )
      : '') +
    `</dl></header>`
  );
}

function recordFacts(r: MigrationRecord): string {
  const w = r.workload;
  const workload = [
    w.memory && `memory ${w.memory.workingSetMiB} MiB at ${w.memory.dirtyRateMBps} MB/s (${w.memory.pattern})`,
    w.disk && `disk ${w.disk.workingSetMiB} MiB at ${w.disk.writeRateMBps} MB/s`,
    w.cpu && `cpu ${w.cpu.threads} thread${w.cpu.threads === 1 ? '' : 's'}`,
  ].filter(Boolean);
  const facts = [
    `${r.kind} migration on ${r.hypervisor} (${r.target})`,
    `guest ${r.guest.memoryMiB} MiB, ${r.guest.vcpus} vCPU${r.guest.vcpus === 1 ? '' : 's'}`,
    `workload: ${workload.length ? workload.join(', ') : 'idle'}`,
    r.link && `link ${r.link.bandwidthMbps ?? '∞'} Mbit/s, ${r.link.delayMs ?? 0} ms delay`,
    r.probe && `probe every ${r.probe.intervalMs} ms, ${r.probe.lossCount}/${r.probe.sent} lost`,
    r.heartbeat && `heartbeat every ${r.heartbeat.periodMs} ms`,
  ].filter(Boolean);
  return `<p class="record-facts">${esc(facts.join(' · '))}</p>`;
}

function recordSection(r: MigrationRecord, i: number): string {
  const status = r.status === 'completed' ? '' : ` <span class="bad"><strong>${esc(r.status)}</strong>${r.error ? `: ${esc(r.error.message.split('\n')[0]!)}` : ''}</span>`;
  return (
    `<section class="record"${attrs({ id: `record-${i}` })}>` +
    `<h3>${esc(r.suite)} / ${esc(r.scenario)} <span class="run">run ${esc(String(r.repetition))}</span>${status}</h3>` +
    recordFacts(r) +
    `<figure>${timelineChart(r, i)}</figure></section>`
  );
}

function scenarioKey(r: MigrationRecord): string {
  return JSON.stringify([r.suite, r.scenario]);
}

function groupByScenario(records: readonly MigrationRecord[]): Map<string, MigrationRecord[]> {
  const groups = new Map<string, MigrationRecord[]>();
  for (const r of records) {
    const group = groups.get(scenarioKey(r));
    if (group) group.push(r);
    else groups.set(scenarioKey(r), [r]);
  }
  return groups;
}

function distributionsHtml(results: ResultsFile, base: ResultsFile | undefined): string {
  const head = groupByScenario(results.records);
  const before = base ? groupByScenario(base.records) : new Map<string, MigrationRecord[]>();
  const keys = base ? [...new Set([...head.keys(), ...before.keys()])] : [...head.keys()].filter((k) => head.get(k)!.length > 1);
  if (keys.length === 0) return '';
  const sections = keys.map((key) => {
    const [suite, scenario] = JSON.parse(key) as [string, string];
    const headRuns = head.get(key) ?? [];
    const baseRuns = before.get(key) ?? [];
    const completed = (rs: readonly MigrationRecord[]) => rs.filter((r) => r.status === 'completed');
    const strips: Strip[] = [
      ...(base ? [{ key: 'base' as const, label: 'base', colour: COLOURS.base, records: completed(baseRuns) }] : []),
      { key: 'head' as const, label: base ? 'head' : 'runs', colour: COLOURS.head, records: completed(headRuns) },
    ];
    const dropped = headRuns.length + baseRuns.length - strips.reduce((n, s) => n + s.records.length, 0);
    const note = dropped > 0 ? ` <span class="bad">${dropped} run${dropped === 1 ? '' : 's'} that did not complete left out</span>` : '';
    return `<section class="distribution"><h3>${esc(suite)} / ${esc(scenario)}${note}</h3><figure>${distributionChart(suite, scenario, strips)}</figure></section>`;
  });
  const intro = base
    ? 'Each dot is one completed run: base (the earlier results) and head (these results) in two colours; the bar marks the median.'
    : 'Each dot is one completed run of the scenario; the bar marks the median.';
  return `<h2>Distributions</h2><p class="hint">${intro}</p>${sections.join('')}`;
}

const CSS = `
:root{color-scheme:light}
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans","Liberation Sans",sans-serif;color:#1b1b1b;background:#fff;margin:0}
main{max-width:1140px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:4px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:18px 0 2px}h3 .run{color:#777;font-weight:normal}
.lede{margin:0 0 8px;color:#444}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}dl.facts dt{color:#777}dl.facts dd{margin:0}
code{font:12px ui-monospace,"DejaVu Sans Mono",monospace}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:11px}
th,td{border:1px solid #e0e0e0;padding:2px 4px;vertical-align:top}
th{vertical-align:bottom}td.guest{min-width:11em}
th .v{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;display:inline-block}
th{background:#f6f6f6;font-weight:600;text-align:left}
td.num,th.num{text-align:right}td.num{white-space:nowrap;font-variant-numeric:tabular-nums}
th.downtime-col{border-top:3px solid var(--c)}
${DOWNTIME_SOURCES.map((s) => `th.downtime-col-${s.metric}{--c:${s.colour}}`).join('')}
tbody tr:nth-child(even){background:#fbfbfb}
.bad{color:#b00020}
ul.notes{padding-left:18px;color:#333}ul.notes li{margin:2px 0}
.record-facts,.hint{color:#555;margin:0 0 4px}
figure{margin:0}
svg.chart{display:block;max-width:100%;height:auto;font-size:12px}
svg .tick-label{fill:#555;font-size:11px}
svg .axis-title{fill:#444;font-size:12px}
svg .lane-label,svg .row-label{fill:#333;font-size:12px}svg .row-label{font-weight:600}
svg .band-label,svg .strip-label{font-size:11px;font-weight:600}
svg .event-label{fill:#444;font-size:11px}svg .muted{fill:#999}
svg .empty{fill:#999;font-style:italic}
svg .legend text{fill:#333}
`;

/** The whole report as one self-contained HTML document. */
export function renderHtmlReport(results: ResultsFile, options: HtmlReportOptions = {}): string {
  const title = options.title ?? 'migbench results';
  const summary = hasRepeatedScenarios(results) ? `<h2>Summary over repetitions</h2>${summaryTableHtml(results)}` : '';
  const timelines = results.records.length
    ? `<h2>Timelines</h2><p class="hint">Per migration, times in ms from the migrate command: remaining bytes and the dirty page rate as the hypervisor reported them, probe gaps shaded, and the four views of downtime side by side in the lanes below (faint: every gap; solid: the one the figure comes from).</p>${results.records.map(recordSection).join('')}`
    : '';
  return (
    '<!DOCTYPE html>\n' +
    `<html lang="en"><head><meta charset="utf-8">` +
    // Nothing may be fetched when the report is viewed: it is one file, and stays so.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head>` +
    `<body><main>${headerHtml(title, results, options.base)}` +
    `<h2>Results</h2>${resultsTableHtml(results)}${notesHtml(results)}${summary}${timelines}${distributionsHtml(results, options.base)}` +
    `</main></body></html>\n`
  );
}
