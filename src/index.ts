// `migbench`: the programmatic API, for scripts that load a config, run suites, compare
// results and render them without the command line. The results JSON (schema in
// schemas/results.schema.json, types below) is the seam between these steps.
export { loadConfig, parseConfig, type LoadedConfig } from './config/load.js';
export { findConfig, defaultSuitesConfig } from './config/find.js';
export { runSuites, type RunSummary, type Io } from './cli/run.js';
export type { RunOptions } from './cli/args.js';
export { readResults, parseResults, mergeResults, SCHEMA_VERSION, RESULTS_FILE } from './model/results.js';
export { compareResults, comparisonExitCode, JUDGED_METRICS, type Comparison, type CompareOptions, type MetricComparison, type Verdict } from './analysis/comparison.js';
export { compareMarkdown, headline, type CompareReportOptions } from './render/comparison.js';
export { resultsMarkdown, resultsTable } from './render/table.js';
export { renderHtmlReport, type HtmlReportOptions } from './render/html.js';
export { MigbenchError, UsageError, formatError } from './model/errors.js';
export { MIGBENCH_VERSION } from './model/version.js';
export type { MigbenchConfig } from './generated/config.js';
export type { ResultsFile, MigrationRecord } from './generated/results.js';
