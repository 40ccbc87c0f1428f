// Scenario matrices as data (guestperf's "comparisons"): a base scenario and axes, each
// setting one field to a list of values; their cross product gives the scenarios. A
// scenario's name is its axis labels joined, e.g. "256-dirty-storage".
import type { Matrix, Scenario as ScenarioConfig } from '../generated/config.js';

export interface MatrixIssue {
  /** JSON path segments relative to the matrix. */
  readonly segments: ReadonlyArray<string | number>;
  readonly message: string;
}

export interface MatrixPoint {
  /** The axis values, by axis path, with their labels. */
  readonly axes: Readonly<Record<string, { readonly label: string; readonly value: unknown }>>;
  readonly scenario: ScenarioConfig;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,60}$/;

/** A scalar's label for a scenario name: 0.5 → 0p5, "storage" → storage. */
export function autoLabel(value: unknown): string | null {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    const label = String(value)
      .toLowerCase()
      .replaceAll('.', 'p')
      .replace(/[^a-z0-9]/g, '');
    return label || null;
  }
  return null;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = structuredClone(value);
}

/**
 * The matrix's scenarios in axis order (the last axis varies fastest), or the issues
 * that stop it from expanding. Each scenario still has to pass the Scenario schema.
 */
export function expandMatrix(matrix: Matrix): { points: MatrixPoint[]; issues: MatrixIssue[] } {
  const issues: MatrixIssue[] = [];
  const seenPaths = new Set<string>();
  const labelled = matrix.axes.map((axis, a) => {
    if (seenPaths.has(axis.path)) issues.push({ segments: ['axes', a, 'path'], message: `axis ${axis.path} appears twice` });
    seenPaths.add(axis.path);
    if (axis.path === 'name') issues.push({ segments: ['axes', a, 'path'], message: 'names come from the axis labels; an axis cannot set name' });
    if (axis.labels && axis.labels.length !== axis.values.length) {
      issues.push({ segments: ['axes', a, 'labels'], message: `${axis.labels.length} labels for ${axis.values.length} values` });
    }
    const labels = axis.values.map((value, v) => {
      const label = axis.labels?.[v] ?? autoLabel(value);
      if (label === null) issues.push({ segments: ['axes', a, 'values', v], message: `give this axis labels: ${JSON.stringify(value)} has no obvious name` });
      return label ?? '';
    });
    if (labels.every(Boolean) && new Set(labels).size !== labels.length) issues.push({ segments: ['axes', a], message: `labels must differ: ${labels.join(', ')}` });
    return { axis, labels };
  });
  if ('name' in matrix.base) issues.push({ segments: ['base', 'name'], message: 'names come from the axis labels; remove name from base' });
  if (issues.length) return { points: [], issues };

  let points: MatrixPoint[] = [{ axes: {}, scenario: structuredClone(matrix.base) as unknown as ScenarioConfig }];
  for (const { axis, labels } of labelled) {
    points = points.flatMap((point) =>
      axis.values.map((value, v) => {
        const scenario = structuredClone(point.scenario) as unknown as Record<string, unknown>;
        setPath(scenario, axis.path.split('.'), value);
        return { axes: { ...point.axes, [axis.path]: { label: labels[v]!, value } }, scenario: scenario as unknown as ScenarioConfig };
      }),
    );
  }
  for (const point of points) {
    const name = Object.values(point.axes)
      .map((a) => a.label)
      .join('-');
    if (!NAME.test(name)) {
      issues.push({ segments: ['axes'], message: `scenario name "${name}" is not a valid name (a-z, 0-9, -, at most 61 characters): shorten the labels` });
      return { points: [], issues };
    }
    (point.scenario as { name: string }).name = name;
  }
  return { points, issues };
}

/** Two scenarios that differ along exactly one axis: the unit of a finding. */
export interface AxisPair<T> {
  readonly axis: string;
  readonly a: T;
  readonly b: T;
  /** Index of a's and b's values on the axis (a's is the smaller). */
  readonly aIndex: number;
  readonly bIndex: number;
}

/**
 * Every pair of points that differ only along `axis`, with the values in the order the
 * axis lists them. Findings compare these ("storage takes longer than memory").
 */
export function pairsAlong<T extends { readonly axes: Readonly<Record<string, { readonly label: string }>> }>(
  points: readonly T[],
  axis: string,
  order: readonly string[],
): AxisPair<T>[] {
  const pairs: AxisPair<T>[] = [];
  for (const a of points) {
    for (const b of points) {
      const ia = order.indexOf(a.axes[axis]?.label ?? '');
      const ib = order.indexOf(b.axes[axis]?.label ?? '');
      if (ia < 0 || ib < 0 || ia >= ib) continue;
      const others = Object.keys(a.axes).filter((k) => k !== axis);
      if (others.every((k) => a.axes[k]?.label === b.axes[k]?.label)) pairs.push({ axis, a, b, aIndex: ia, bIndex: ib });
    }
  }
  return pairs;
}
