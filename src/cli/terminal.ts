// One status line kept at the bottom of a terminal while vitest and migbench print above
// it: every write to stdout or stderr first erases the line, and a write that ends a line
// draws it again. The way vitest's own window renderer shares the terminal.
type Write = NodeJS.WriteStream['write'];

const ERASE = '\r\x1b[2K';

export interface StatusLine {
  /** Shows this text as the status line; null removes it. */
  set(text: string | null): void;
  /** Removes the line and gives the streams back their own write. */
  close(): void;
}

interface Streams {
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
}

/** Whether a status line belongs on this terminal: stderr is one, and no CI log reads it. */
export function wantsStatusLine(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI && env.TERM !== 'dumb';
}

export function statusLine(streams: Streams = { out: process.stdout, err: process.stderr }): StatusLine {
  const own = { out: streams.out.write, err: streams.err.write } as { out: Write; err: Write };
  let text: string | null = null;
  let atLineStart = true;
  const draw = (): void => {
    if (text !== null && atLineStart) own.err.call(streams.err, text);
  };
  const erase = (): void => {
    if (text !== null && atLineStart) own.err.call(streams.err, ERASE);
  };
  const wrap = (stream: NodeJS.WriteStream, write: Write): Write =>
    function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
      erase();
      const ok = (write as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      const s = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
      if (s.length) atLineStart = s.endsWith('\n');
      draw();
      return ok;
    } as Write;
  streams.out.write = wrap(streams.out, own.out);
  streams.err.write = wrap(streams.err, own.err);
  return {
    set(next) {
      erase();
      text = next;
      draw();
    },
    close() {
      erase();
      text = null;
      streams.out.write = own.out;
      streams.err.write = own.err;
    },
  };
}
