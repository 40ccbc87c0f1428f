import { describe, expect, test } from 'vitest';
import { statusLine, wantsStatusLine } from '../../src/cli/terminal.js';

/** A stream that keeps what is written to it, all in one shared log, as a terminal shows it. */
function streams() {
  const log: string[] = [];
  const stream = (name: string) => ({ write: (chunk: string) => (log.push(`${name}:${chunk}`), true), isTTY: true }) as unknown as NodeJS.WriteStream;
  return { log, out: stream('out'), err: stream('err') };
}

describe(statusLine, () => {
  test('the line is erased before anything else is written and drawn again after a whole line', () => {
    const s = streams();
    const status = statusLine(s);
    status.set('[1/2] idle-256 #1 migrate 10%');
    s.out.write('✓ a test\n');
    s.err.write('half a line ');
    s.err.write('and its end\n');
    status.set('[1/2] idle-256 #1 migrate 60%');
    expect(s.log).toEqual([
      'err:[1/2] idle-256 #1 migrate 10%',
      'err:\r\x1b[2K',
      'out:✓ a test\n',
      'err:[1/2] idle-256 #1 migrate 10%',
      'err:\r\x1b[2K',
      'err:half a line ',
      // Not drawn in the middle of someone else's line, nor erased from it.
      'err:and its end\n',
      'err:[1/2] idle-256 #1 migrate 10%',
      'err:\r\x1b[2K',
      'err:[1/2] idle-256 #1 migrate 60%',
    ]);
  });

  test('closing erases the line and gives the streams their own write back', () => {
    const s = streams();
    const own = s.out.write;
    const status = statusLine(s);
    status.set('bar');
    status.close();
    expect(s.out.write).toBe(own);
    s.out.write('after\n');
    expect(s.log).toEqual(['err:bar', 'err:\r\x1b[2K', 'out:after\n']);
  });
});

describe(wantsStatusLine, () => {
  test('a terminal, unless a CI log or a dumb terminal reads it', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    expect(wantsStatusLine(tty, {})).toBe(true);
    expect(wantsStatusLine(tty, { CI: 'true' })).toBe(false);
    expect(wantsStatusLine(tty, { TERM: 'dumb' })).toBe(false);
    expect(wantsStatusLine({ isTTY: false } as NodeJS.WriteStream, {})).toBe(false);
  });
});
