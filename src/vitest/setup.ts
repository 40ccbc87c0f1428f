// vitest setupFiles entry: registers migbench's matchers in every test worker.
import { expect } from 'vitest';
import { migbenchMatchers } from './matchers.js';

expect.extend(migbenchMatchers);
