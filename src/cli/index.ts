// migbench's command-line entry point; everything it does lives in src/cli/main.ts.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
