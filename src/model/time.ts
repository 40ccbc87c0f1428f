// Time as migbench keeps it: wall-clock instants in ms since the epoch with sub-ms
// precision (so host and guest timestamps can be lined up), and the one way to wait.

/** The wall clock as ms since the epoch, with sub-ms precision. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** ns since the epoch as printed by migbench-probe, to ms with ns precision kept. */
export function nsToEpochMs(ns: string): number {
  if (!/^\d{7,}$/.test(ns)) throw new Error(`not a nanosecond timestamp: ${ns}`);
  return Number(ns.slice(0, -6)) + Number(ns.slice(-6)) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
