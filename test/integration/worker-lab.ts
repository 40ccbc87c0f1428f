// vitest setupFiles entry for the lab projects: the worker's own lab, chosen before the test
// file loads. Everything that reaches the lab reads MIGBENCH_LAB when it does, and the
// migbench runs a test starts inherit it.
import { testLabName } from './labs.js';

process.env.MIGBENCH_LAB = testLabName(Number(process.env.VITEST_POOL_ID ?? '1'));
