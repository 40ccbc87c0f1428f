// `migbench/vitest`: what a suite file imports. A suite file is an ordinary vitest test
// file in the user's repository; `migbench run` runs it with the scenarios of the config.
export { useMigbench, useMigbenchAb, useMigbenchMatrix, selectedMatrices } from './suite.js';
export type { SuiteBench, SuiteRun, MigbenchRunContext } from './suite.js';
export { migbenchMatchers } from './matchers.js';
export type { MigrationRecord, ResultsFile } from '../generated/results.js';
