// The measuring child's output as the Action's log shows it: every line as it comes, and
// from a scenario's first progress line on, its lines folded into a group named after it
// (`::group::idle-256` … `::endgroup::`), so a long gate reads as one line per scenario.
const PROGRESS = /^\[\d+\/\d+\] (\S+)/;

export interface LogStream {
  line(text: string): void;
  /** Closes the group left open. */
  end(): void;
}

export function scenarioGroups(write: (line: string) => void): LogStream {
  let open: string | null = null;
  return {
    line(text) {
      const scenario = PROGRESS.exec(text)?.[1];
      if (scenario !== undefined && scenario !== open) {
        if (open !== null) write('::endgroup::');
        open = scenario;
        write(`::group::${scenario}`);
      }
      write(text);
    },
    end() {
      if (open !== null) write('::endgroup::');
      open = null;
    },
  };
}
