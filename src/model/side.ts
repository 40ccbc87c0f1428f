// The two ends of a migration. Every per-host figure and action names its side.
export type Side = 'source' | 'destination';
