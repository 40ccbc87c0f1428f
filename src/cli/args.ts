// Command-line parsing: turns argv into one command object, or a UsageError that says
// what was wrong. No I/O here.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../model/errors.js';

export const DEFAULT_OUT = 'results';

export type Command =
  | { readonly name: 'help'; readonly command?: string }
  | { readonly name: 'setup'; readonly testTools: boolean }
  | { readonly name: 'init'; readonly force: boolean }
  | { readonly name: 'version' }
  | { readonly name: 'doctor' }
  | { readonly name: 'lab'; readonly action: 'up' | 'down' | 'status'; readonly withLibvirt: boolean }
  | { readonly name: 'run' | 'start'; readonly options: RunOptions }
  | { readonly name: 'report'; readonly results: string; readonly html: boolean }
  | { readonly name: 'validate'; readonly config: string | undefined; readonly credentials: boolean }
  | { readonly name: 'compare'; readonly options: CompareCommandOptions }
  | { readonly name: 'export'; readonly results: string; readonly format: 'bmf' | 'gab' }
  | { readonly name: 'merge'; readonly out: string; readonly inputs: readonly string[]; readonly force: boolean }
  | { readonly name: 'alert'; readonly base: string; readonly head: string; readonly repository: string; readonly label: string; readonly config: string | undefined }
  | { readonly name: 'store'; readonly options: StoreOptions }
  | { readonly name: 'baseline'; readonly options: BaselineOptions }
  | { readonly name: 'history'; readonly options: HistoryOptions };

/** Where stored runs are kept: a repository's data branch, and the branch whose runs they are. */
export interface DataBranchOptions {
  readonly repository: string;
  readonly branch: string;
  /** The measured branch, `refs/heads/main`. */
  readonly ref: string;
}

export interface StoreOptions extends DataBranchOptions {
  readonly results: string;
  readonly commit: string;
  /** This run was itself judged a regression (a nightly's baseline leaves it out). */
  readonly regressed: boolean;
  readonly keep: number | undefined;
  readonly runUrl: string | undefined;
}

export interface BaselineOptions extends DataBranchOptions {
  /** The head's results: the scenarios and environment the baseline is for. */
  readonly head: string;
  /** The base config, when the head's config differs (a pull request); else the head records' own fingerprints. */
  readonly config: string | undefined;
  readonly runs: number;
  readonly excludeRegressed: boolean;
  readonly out: string;
}

export interface HistoryOptions extends DataBranchOptions {
  readonly last: number;
  readonly out: string;
}

export interface CompareCommandOptions {
  readonly base: string;
  readonly head: string;
  /** Config whose `compare` section sets thresholds and alpha. */
  readonly config: string | undefined;
  readonly out: string | undefined;
  readonly json: boolean;
  readonly allowEnvironmentChange: boolean;
  /** Raw samples in the details. */
  readonly samples: boolean;
}

export interface RunOptions {
  /** Unset: found from the current directory (src/config/find.ts); `start`: migbench's default suites. */
  readonly config: string | undefined;
  readonly suites: readonly string[];
  readonly scenarios: readonly string[];
  /** Matrices to run instead of the suites (unless suites are named too). */
  readonly matrices: readonly string[];
  /** Only this share of the selected scenarios (1-based), for a matrix of runners. */
  readonly shard?: { readonly index: number; readonly total: number };
  /** A/B run: base and head configs, interleaved; `config` is then unused. */
  readonly ab?: { readonly base: string; readonly head: string };
  readonly repeat: number | undefined;
  readonly out: string;
  /** Leave a lab that this run brought up running afterwards. */
  readonly keepLab: boolean;
  /** Also write the tests as JUnit XML here (GitLab, Jenkins, test-reporter actions). */
  readonly junit?: string;
  /** Neither vitest's progress nor a line per migration: only the table and errors. */
  readonly quiet?: boolean;
  /** Replace the results already in `out` rather than writing beside them. */
  readonly force?: boolean;
}

export const USAGE = `migbench: measures virtual machine live migration for real

Usage:
  migbench init [--force]              write a starter migbench.yaml and suites/ into the current directory
  migbench start                       set-up, lab up, run the default suites, print the table, lab down
  migbench run [options]               run suites (brings the lab up and down when a target needs it)
      --config FILE                    config (default: migbench.yaml in the current directory)
      --suite NAME                     only this suite (repeatable)
      --scenario NAME                  only this scenario (repeatable)
      --matrix NAME                    run this scenario matrix from the config instead of the suites (repeatable)
      --ab BASE_CONFIG HEAD_CONFIG     run the suites under two configs, interleaved, and compare them
      --shard I/N                      run only the I-th of N shares of the scenarios (sorted by name)
      --repeat N                       run every scenario N times
      --out DIR                        results directory (default ${DEFAULT_OUT}); one that holds an earlier run's
                                       results is kept, and this run writes to DIR-<date> beside it
      --force                          replace the results already in --out instead
      --keep-lab                       leave the lab up afterwards
      --junit FILE                     also write the tests as JUnit XML (for GitLab, Jenkins, test reporters)
      --quiet                          no progress while it runs (vitest's lines, a line per migration): the table only
  migbench lab up | down | status      the embedded two-host lab
      --with libvirt                   lab up: also run a libvirtd on each host
  migbench report [--html] [RESULTS_JSON]
                                       print the table of a results file (default ${DEFAULT_OUT}/results.json),
                                       or with --html a self-contained page with timelines and distributions
  migbench compare BASE HEAD [options] compare two results files (or folders holding results.json)
      --config FILE                    take thresholds and alpha from this config's compare section
      --out DIR                        also write compare.md and compare.json there
      --json                           print the comparison as JSON instead of Markdown
      --samples                        list every sample of both sides in the details
      --allow-environment-change       judge even when the environments differ (still reported)
  migbench merge --out DIR RESULTS...  combine the results files of shards of one config (a DIR holding results
                                       is kept, as for run; --force replaces them)
  migbench alert --repo OWNER/REPO [--label L] [--config FILE] BASE HEAD
                                       compare, then keep one labelled issue open while a regression persists
                                       and close it on recovery (token from GITHUB_TOKEN, API from GITHUB_API_URL)
  migbench store --repo OWNER/REPO [options] RESULTS
                                       keep a run of a branch (main) on the repository's data branch, keyed by
                                       scenario and environment fingerprints (token from GITHUB_TOKEN: contents write)
      --data-branch NAME               the data branch (default migbench-data; made on first use)
      --ref REF                        the branch measured (default GITHUB_REF)
      --sha SHA                        its commit (default GITHUB_SHA)
      --regressed                      this run was judged a regression: nightly baselines leave it out
      --keep N                         runs the data branch keeps (default 200)
  migbench baseline --repo OWNER/REPO --out DIR [options] HEAD
                                       the stored runs HEAD (results) is compared with, as DIR/results.json: same
                                       scenario fingerprints, the head's environment preferred, newest first
      --config FILE                    take the fingerprints from this (base) config instead of HEAD's records
      --runs N                         stored runs per scenario (default 5)
      --exclude-regressed              leave out runs stored with --regressed
      --data-branch NAME, --ref REF    as for store
  migbench history --repo OWNER/REPO --out DIR [--last N] [--data-branch NAME] [--ref REF]
                                       the last N (default 30) stored runs as history.md (tables, Mermaid) and history.html
  migbench export --format bmf|gab [RESULTS_JSON]
                                       Bencher Metric Format or github-action-benchmark customSmallerIsBetter
  migbench validate [--config FILE]    check a config file, and that the credentials its targets need are here
      --skip-credentials               check the file alone (e.g. in CI without the secrets)
  migbench setup [--test-tools]        prepare this machine once, as root: the Debian packages it lacks,
                                       the guest image and migbench-probe (--test-tools: also vcsim)
  migbench doctor                      what this machine lacks for the lab and local targets, with the fix (exit 3 if anything)

Exit codes: 0 all assertions held (compare: no regression), 1 a migration or assertion failed
(compare: a regression), 2 bad input or usage.`;

/** The part of USAGE about one command (its line and its options); a UsageError for an unknown one. */
export function commandHelp(name: string): string {
  const blocks: string[][] = [];
  for (const line of USAGE.split('\n')) {
    if (/^ {2}migbench /.test(line)) blocks.push([line]);
    else if (/^\s{3,}/.test(line) && blocks.length) blocks.at(-1)!.push(line);
  }
  const mine = blocks.filter((b) => b[0]!.split(/\s+/)[2] === name);
  if (!mine.length) throw new UsageError(`unknown command "${name}" (migbench --help lists them)`);
  return `Usage:\n${mine.map((b) => b.join('\n')).join('\n')}\n`;
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1000) throw new UsageError(`${flag} needs a whole number from 1 to 1000, got "${value}"`);
  return Number(value);
}

/** `i/n` with 1 ≤ i ≤ n. */
export function parseShard(text: string): { index: number; total: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard needs I/N with 1 ≤ I ≤ N, got "${text}"`);
  return { index: Number(m[1]), total: Number(m[2]) };
}

type ParsedArgs = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
type ParseOptions = (options: ParseArgsConfig['options'], allowPositionals?: boolean) => ParsedArgs;

export function parseCommand(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return { name: 'help' };
  if (name === '--version' || name === '-v' || name === 'version') return { name: 'version' };
  if (rest.includes('--help') || rest.includes('-h')) {
    commandHelp(name);
    return { name: 'help', command: name };
  }
  const parse = optionParser(name, rest);
  switch (name) {
    case 'setup':
      return { name, testTools: Boolean(parse({ 'test-tools': { type: 'boolean' } }).values['test-tools']) };
    case 'doctor':
      parse({});
      return { name };
    case 'init':
      return { name, force: Boolean(parse({ force: { type: 'boolean' } }).values.force) };
    case 'lab':
      return labCommand(parse);
    case 'run':
    case 'start':
      return runCommand(name, parse);
    case 'report':
      return reportCommand(parse);
    case 'compare':
      return compareCommand(parse);
    case 'alert':
      return alertCommand(parse);
    case 'merge':
      return mergeCommand(parse);
    case 'export':
      return exportCommand(parse);
    case 'store':
      return storeCommand(parse);
    case 'baseline':
      return baselineCommand(parse);
    case 'history':
      return historyCommand(parse);
    case 'validate':
      return validateCommand(parse);
    default:
      throw new UsageError(`unknown command "${name}" (try: migbench help)`);
  }
}

/** node:util's parseArgs over the command's arguments, its complaints as UsageErrors that name the command. */
function optionParser(name: string, rest: readonly string[]): ParseOptions {
  return (options, allowPositionals = false) => {
    try {
      return parseArgs({ args: [...rest], options, allowPositionals, strict: true }) as never;
    } catch (error) {
      throw new UsageError(`${name}: ${(error as Error).message.replace(/\. To specify a positional.*$/, '')}`);
    }
  };
}

function labCommand(parse: ParseOptions): Command {
  const { values, positionals } = parse({ with: { type: 'string', multiple: true } }, true);
  const action = positionals[0];
  if (positionals.length !== 1 || (action !== 'up' && action !== 'down' && action !== 'status')) throw new UsageError('lab needs one of: up, down, status');
  const extras = (values.with as string[] | undefined) ?? [];
  for (const extra of extras) if (extra !== 'libvirt') throw new UsageError(`lab up --with: unknown component ${JSON.stringify(extra)} (known: libvirt)`);
  if (extras.length && action !== 'up') throw new UsageError('--with goes with lab up');
  return { name: 'lab', action, withLibvirt: extras.includes('libvirt') };
}

function runCommand(name: 'run' | 'start', parse: ParseOptions): Command {
  const { values, positionals } = parse(
    {
      ab: { type: 'boolean' },
      shard: { type: 'string' },
      config: { type: 'string' },
      suite: { type: 'string', multiple: true },
      scenario: { type: 'string', multiple: true },
      matrix: { type: 'string', multiple: true },
      repeat: { type: 'string' },
      out: { type: 'string' },
      'keep-lab': { type: 'boolean' },
      junit: { type: 'string' },
      quiet: { type: 'boolean' },
      force: { type: 'boolean' },
    },
    name === 'run',
  );
  if (values.ab && positionals.length !== 2) throw new UsageError('--ab needs two configs: --ab BASE_CONFIG HEAD_CONFIG');
  if (!values.ab && positionals.length) throw new UsageError(`${name}: unexpected argument "${positionals[0]}"`);
  if (values.ab && (values.matrix as string[] | undefined)?.length) throw new UsageError('--ab runs suites, not matrices');
  return { name, options: runOptions(values, positionals) };
}

function runOptions(values: ParsedArgs['values'], positionals: readonly string[]): RunOptions {
  return {
    config: values.config as string | undefined,
    suites: (values.suite as string[] | undefined) ?? [],
    scenarios: (values.scenario as string[] | undefined) ?? [],
    matrices: (values.matrix as string[] | undefined) ?? [],
    repeat: positiveInteger(values.repeat as string | undefined, '--repeat'),
    out: (values.out as string | undefined) ?? DEFAULT_OUT,
    keepLab: Boolean(values['keep-lab']),
    ...(values.junit !== undefined && { junit: values.junit as string }),
    ...(values.quiet && { quiet: true }),
    ...(values.force && { force: true }),
    ...(values.ab && { ab: { base: positionals[0]!, head: positionals[1]! } }),
    ...(values.shard !== undefined && { shard: parseShard(values.shard as string) }),
  };
}

function reportCommand(parse: ParseOptions): Command {
  const { values, positionals } = parse({ html: { type: 'boolean' } }, true);
  if (positionals.length > 1) throw new UsageError('report takes at most one results file');
  return { name: 'report', results: positionals[0] ?? `${DEFAULT_OUT}/results.json`, html: Boolean(values.html) };
}

function compareCommand(parse: ParseOptions): Command {
  const { values, positionals } = parse(
    { config: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, samples: { type: 'boolean' }, 'allow-environment-change': { type: 'boolean' } },
    true,
  );
  if (positionals.length !== 2) throw new UsageError('compare needs two results files or folders: BASE HEAD');
  return {
    name: 'compare',
    options: {
      base: positionals[0]!,
      head: positionals[1]!,
      config: values.config as string | undefined,
      out: values.out as string | undefined,
      json: Boolean(values.json),
      allowEnvironmentChange: Boolean(values['allow-environment-change']),
      samples: Boolean(values.samples),
    },
  };
}

function alertCommand(parse: ParseOptions): Command {
  const { values, positionals } = parse({ repo: { type: 'string' }, label: { type: 'string' }, config: { type: 'string' } }, true);
  if (!/^[\w.-]+\/[\w.-]+$/.test((values.repo as string | undefined) ?? '')) throw new UsageError('alert needs --repo OWNER/REPO');
  if (positionals.length !== 2) throw new UsageError('alert needs two results files or folders: BASE HEAD');
  return {
    name: 'alert',
    base: positionals[0]!,
    head: positionals[1]!,
    repository: values.repo as string,
    label: (values.label as string | undefined) ?? 'migbench-regression',
    config: values.config as string | undefined,
  };
}

function mergeCommand(parse: ParseOptions): Command {
  const { values, positionals } = parse({ out: { type: 'string' }, force: { type: 'boolean' } }, true);
  if (!values.out) throw new UsageError('merge needs --out DIR');
  if (!positionals.length) throw new UsageError('merge needs the results files to combine');
  return { name: 'merge', out: values.out as string, inputs: positionals, force: Boolean(values.force) };
}

function exportCommand(parse: ParseOptions): Command {
  const { values, positionals } = parse({ format: { type: 'string' } }, true);
  const format = values.format as string | undefined;
  if (format !== 'bmf' && format !== 'gab') throw new UsageError('export needs --format bmf or --format gab');
  if (positionals.length > 1) throw new UsageError('export takes at most one results file');
  return { name: 'export', format, results: positionals[0] ?? `${DEFAULT_OUT}/results.json` };
}

function validateCommand(parse: ParseOptions): Command {
  const { values } = parse({ config: { type: 'string' }, 'skip-credentials': { type: 'boolean' } });
  return { name: 'validate', config: values.config as string | undefined, credentials: !values['skip-credentials'] };
}

const DATA_BRANCH_FLAGS = { repo: { type: 'string' }, 'data-branch': { type: 'string' }, ref: { type: 'string' } } as const;

/** --repo, --data-branch and --ref (default GITHUB_REF), each checked. */
function dataBranchOptions(command: string, values: ParsedArgs['values']): DataBranchOptions {
  const repository = (values.repo as string | undefined) ?? '';
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new UsageError(`${command} needs --repo OWNER/REPO`);
  const branch = (values['data-branch'] as string | undefined) ?? 'migbench-data';
  if (!/^[\w][\w./-]*$/.test(branch) || branch.includes('..')) throw new UsageError(`--data-branch: not a branch name: ${JSON.stringify(branch)}`);
  const ref = (values.ref as string | undefined) ?? process.env.GITHUB_REF ?? '';
  if (!ref) throw new UsageError(`${command} needs --ref (the branch measured, e.g. refs/heads/main) or GITHUB_REF`);
  return { repository, branch, ref: ref.startsWith('refs/') ? ref : `refs/heads/${ref}` };
}

function storeCommand(parse: ParseOptions): Command {
  const { values, positionals } = parse(
    { ...DATA_BRANCH_FLAGS, sha: { type: 'string' }, regressed: { type: 'boolean' }, keep: { type: 'string' }, 'run-url': { type: 'string' } },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('store needs one results file or folder');
  const commit = (values.sha as string | undefined) ?? process.env.GITHUB_SHA ?? '';
  if (!/^[0-9a-f]{7,64}$/i.test(commit)) throw new UsageError(`store needs --sha (the commit measured) or GITHUB_SHA${commit ? `, got ${JSON.stringify(commit)}` : ''}`);
  const env = process.env;
  const runUrl =
    (values['run-url'] as string | undefined) ??
    (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined);
  return {
    name: 'store',
    options: {
      ...dataBranchOptions('store', values),
      results: positionals[0]!,
      commit,
      regressed: Boolean(values.regressed),
      keep: positiveInteger(values.keep as string | undefined, '--keep'),
      runUrl,
    },
  };
}

function baselineCommand(parse: ParseOptions): Command {
  const { values, positionals } = parse(
    { ...DATA_BRANCH_FLAGS, config: { type: 'string' }, runs: { type: 'string' }, 'exclude-regressed': { type: 'boolean' }, out: { type: 'string' } },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('baseline needs the head results (a file or folder) it is for');
  if (!values.out) throw new UsageError('baseline needs --out DIR');
  return {
    name: 'baseline',
    options: {
      ...dataBranchOptions('baseline', values),
      head: positionals[0]!,
      config: values.config as string | undefined,
      runs: positiveInteger(values.runs as string | undefined, '--runs') ?? 5,
      excludeRegressed: Boolean(values['exclude-regressed']),
      out: values.out as string,
    },
  };
}

function historyCommand(parse: ParseOptions): Command {
  const { values } = parse({ ...DATA_BRANCH_FLAGS, last: { type: 'string' }, out: { type: 'string' } });
  if (!values.out) throw new UsageError('history needs --out DIR');
  return {
    name: 'history',
    options: { ...dataBranchOptions('history', values), last: positiveInteger(values.last as string | undefined, '--last') ?? 30, out: values.out as string },
  };
}
