// What a schema cannot say about a valid-looking config: references between its parts
// (targets, scenario names, compare entries), sizes that must fit together, and matrices
// expanded and checked like written scenarios.
import type { Matrix, MigbenchConfig, Suite } from '../generated/config.js';
import { displayPath, validateScenarioSchema } from '../model/schema.js';
import { deref, didYouMean, noSuchTarget, scenarioSchema, schemaProblems, unknownKeyMessage, withoutRepeats, type ConfigIssue, type JsonSchema, type Segments } from './issues.js';
import { autoLabel, expandMatrix, type MatrixPoint } from './matrix.js';
import { scenarioIssues } from './scenario-checks.js';
import { matrixNames, resolveMatrix, resolveScenarios, suiteNames } from './scenarios.js';
import { targetIssues } from './target-checks.js';
import { defaultTargetName, targetNames } from './targets.js';

/** Every problem of the config past its schema, each once. */
export function semanticIssues(config: MigbenchConfig): ConfigIssue[] {
  const names = targetNames(config);
  const defaultTarget = defaultTargetName(config);
  const issues: ConfigIssue[] = names.includes(defaultTarget) ? [] : [{ segments: ['defaults', 'target'], message: noSuchTarget(defaultTarget, names) }];
  for (const [name, target] of Object.entries(config.targets ?? {})) issues.push(...targetIssues(name, target));
  for (const [suite, entry] of Object.entries(config.suites)) issues.push(...suiteIssues(config, suite, entry, names));
  const matrices = Object.entries(config.matrices ?? {}).map(([name, matrix]) => matrixIssues(config, name, matrix));
  issues.push(
    ...matrices.flat(),
    ...compareIssues(
      config,
      matrices.every((m) => m.length === 0),
    ),
  );
  // A scenario run on two targets of the same kind gets the same complaint twice.
  return withoutRepeats(issues);
}

function suiteIssues(config: MigbenchConfig, suite: string, { scenarios, targets }: Suite, names: readonly string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  (targets ?? []).forEach((t, index) => {
    if (!names.includes(t)) issues.push({ segments: ['suites', suite, 'targets', index], message: noSuchTarget(t, names) });
  });
  const seen = new Set<string>();
  scenarios.forEach((scenario, index) => {
    const at = (...rest: Array<string | number>) => ['suites', suite, 'scenarios', index, ...rest];
    if (seen.has(scenario.name)) issues.push({ segments: at('name'), message: `duplicate scenario name "${scenario.name}" in suite ${suite}` });
    seen.add(scenario.name);
    // A scenario run on several targets must suit each of them.
    const on = scenario.target === undefined && targets ? targets.filter((t) => names.includes(t)) : [undefined];
    for (const t of on) issues.push(...scenarioIssues(config, t === undefined ? scenario : { ...scenario, target: t }, at));
  });
  return issues;
}

/**
 * A matrix's problems: axes that set fields scenarios do not have, then each expanded
 * scenario checked like a written one. A problem is reported once, at the axis value or
 * the part of `base` it comes from, naming the scenarios it affects.
 */
function matrixIssues(config: MigbenchConfig, name: string, matrix: Matrix): ConfigIssue[] {
  const at = (...rest: Array<string | number>) => ['matrices', name, ...rest];
  const issues: ConfigIssue[] = config.suites[name] ? [{ segments: at(), message: `a suite is called ${name} too; results would mix` }] : [];
  const pathIssues = matrix.axes.flatMap((axis, a) => axisPathProblems(axis.path).map((message) => ({ segments: at('axes', a, 'path'), message })));
  if (pathIssues.length) return [...issues, ...pathIssues];
  const { points, issues: expansionIssues } = expandMatrix(matrix);
  issues.push(...expansionIssues.map((i) => ({ segments: at(...i.segments), message: i.message })));
  return [...issues, ...pointIssues(config, matrix, points, at)];
}

/** The expanded scenarios' problems, one per source and message, naming the scenarios it affects. */
function pointIssues(config: MigbenchConfig, matrix: Matrix, points: readonly MatrixPoint[], at: (...rest: Array<string | number>) => Array<string | number>): ConfigIssue[] {
  const grouped = new Map<string, { segments: Segments; inner: Segments; message: string; scenarios: string[] }>();
  const add = (point: MatrixPoint, inner: Segments, message: string) => {
    const segments = at(...matrixSource(matrix, point, inner));
    const key = `${displayPath(segments)}|${displayPath(inner)}|${message}`;
    const group = grouped.get(key) ?? { segments, inner, message, scenarios: [] };
    group.scenarios.push(point.scenario.name);
    grouped.set(key, group);
  };
  for (const point of points) {
    if (!validateScenarioSchema(point.scenario)) {
      for (const problem of schemaProblems(validateScenarioSchema.errors, point.scenario, scenarioSchema)) add(point, problem.segments, problem.message);
      continue;
    }
    for (const issue of scenarioIssues(config, point.scenario, (...rest) => rest)) add(point, issue.segments, issue.message);
  }
  return [...grouped.values()].map((g) => {
    const shown = g.scenarios.length > 4 ? `${g.scenarios.slice(0, 4).join(', ')} and ${g.scenarios.length - 4} more` : g.scenarios.join(', ');
    const inner = displayPath(g.inner);
    return { segments: g.segments, message: `scenario${g.scenarios.length === 1 ? '' : 's'} ${shown}: ${inner ? `${inner}: ` : ''}${g.message}` };
  });
}

/** Where in the matrix a field of an expanded scenario came from: the axis value that set it, else `base`. */
function matrixSource(matrix: Matrix, point: MatrixPoint, inner: Segments): Array<string | number> {
  for (let a = matrix.axes.length - 1; a >= 0; a--) {
    const axis = matrix.axes[a]!;
    const path = axis.path.split('.');
    if (path.length > inner.length || path.some((p, i) => inner[i] !== p)) continue;
    const label = point.axes[axis.path]?.label;
    const v = axis.values.findIndex((value, i) => (axis.labels?.[i] ?? autoLabel(value)) === label);
    if (v >= 0) return ['axes', a, 'values', v, ...inner.slice(path.length)];
  }
  return ['base', ...inner];
}

/** An axis path must name a field a scenario has (guest.memoryMiB, not guest.memory). */
function axisPathProblems(path: string): string[] {
  let schema: JsonSchema | undefined = scenarioSchema;
  const parts = path.split('.');
  for (const [i, part] of parts.entries()) {
    schema = deref(schema);
    const here = parts.slice(0, i).join('.');
    if (!schema?.properties) return [`${here || 'a scenario'} has no fields, so the axis cannot set ${path}`];
    if (!(part in schema.properties)) return [`a scenario has no field ${path}: ${unknownKeyMessage(part, schema)}`];
    schema = schema.properties[part];
  }
  return [];
}

/** The compare section: thresholds that make sense together, for scenarios that exist (known only when every matrix expanded). */
function compareIssues(config: MigbenchConfig, allExpanded: boolean): ConfigIssue[] {
  const compare = config.compare;
  if (!compare) return [];
  const issues: ConfigIssue[] = [];
  const check = (t: { warnPct: number; failPct: number } | undefined, segments: Array<string | number>) => {
    if (t && t.warnPct > t.failPct) {
      issues.push({
        segments: [...segments, 'warnPct'],
        message: `expected at most failPct (${t.failPct}%): a change large enough to fail must also be large enough to warn, found ${t.warnPct}%`,
      });
    }
  };
  check(compare.default, ['compare', 'default']);
  for (const [metric, t] of Object.entries(compare.metrics ?? {})) check(t, ['compare', 'metrics', metric]);
  const known = allExpanded ? scenarioNames(config) : [];
  for (const [scenario, metrics] of Object.entries(compare.scenarios ?? {})) {
    if (allExpanded && !known.includes(scenario)) {
      issues.push({
        segments: ['compare', 'scenarios', scenario],
        message: `no scenario named "${scenario}" in this config's suites or matrices${didYouMean(scenario, known)}${known.length <= 20 ? ` (known: ${known.join(', ') || 'none'})` : ''}`,
      });
    }
    for (const [metric, t] of Object.entries(metrics)) check(t, ['compare', 'scenarios', scenario, metric]);
  }
  return issues;
}

/** Every scenario name of the config's suites and matrices, each once. */
function scenarioNames(config: MigbenchConfig): string[] {
  const known = new Set<string>();
  for (const suite of suiteNames(config)) for (const s of resolveScenarios(config, suite)) known.add(s.name);
  for (const matrix of matrixNames(config)) for (const p of resolveMatrix(config, matrix)) known.add(p.resolved.name);
  return [...known];
}
