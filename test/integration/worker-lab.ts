// vitest setupFiles entry for the lab projects: the worker's own lab, claimed before the
// test file loads. Everything that reaches the lab reads MIGBENCH_LAB when it does, and the
// migbench runs a test starts inherit it.
import { claimTestLab } from './labs.js';

process.env.MIGBENCH_LAB = await claimTestLab(`vitest worker ${process.pid}`);
