#!/usr/bin/env node
// The installed command: compiled JavaScript from lib/ (`npm run build`), no TypeScript
// loader at run time. Checks Node first, in syntax any Node still runs, because what it
// imports next needs Node 20.19 or later (vitest 4, require of ES modules).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  process.stderr.write(
    `migbench needs Node.js 20.19 or later; this is ${process.version} (${process.execPath}).\n` +
      'Debian 12 ships Node 18: install Node 20 or 22 from nodejs.org or NodeSource, or use nvm.\n',
  );
  process.exit(2);
}
await import('../lib/cli/index.js');
