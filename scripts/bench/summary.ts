/**
 * The speed goals as one table: each row a whole process as a user runs it (start-up included),
 * itasim beside its reference where one is installed, the ratio and the goal.
 *
 * Rows: `itasim --help`; `itasim golden` 64 x 64 x 64; `itasim golden` S=256 E=128 P=64 F=256 H=2
 * relu seed 9 against PyITA; `itasim sim --random --layer attention --tiles 8,8,4,1` against a
 * Verilated `ita.sv` with a random-data testbench; the full 24-layer MobileBERT
 * (`encoder run mobilebert`), wall time and peak resident memory.
 *
 * References, by path (flag or environment; a row without its reference shows `-`):
 * - `--pyita <runner.py>` or `PYITA_RUN`: a PyITA runner, called as
 *   `<python> <runner.py> <outdir> -S .. -E .. -P .. -F .. -H .. --activation .. --seed ..`
 *   (testGenerator.py's flags, the folder written to <outdir>); `--python <path>` or
 *   `PYITA_PYTHON` names the interpreter (default python3). PyITA's `tiler_QK` and `tiler_Out`
 *   loop over `self.H` for the feed-forward weights too (one "head") and broadcast a bias of H rows
 *   with `np.tile(bias, [1, S, 1])`, so at H > 1 the runner needs them looping over
 *   `weight.shape[0]` and tiling `bias[:, np.newaxis, :]`; with that the folder equals itasim's.
 * - `--verilated <binary>` or `ITA_VERILATED`: a Verilated ITA (`ita.sv`) whose testbench streams
 *   random data through the same attention layer (S = E = 512, P = 256, F = 64: tiles 8,8,4,1)
 *   and exits 0; `ITA_VERILATED_ARGS` (space-separated) is passed to it.
 *
 * Wall time is the parent's clock around the child; CPU time (user + system) and peak resident
 * memory come from /usr/bin/time where it is installed (otherwise `-`). Small rows run
 * `SUMMARY_RUNS` times (default 3; `--help` 5) and show the median; the references and the
 * MobileBERT row run once. `SUMMARY_ROWS=1,3` runs only the listed rows (1-based).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIsCurrent } from '../../bin/build-state.js';

export const title = 'Speed goals: whole processes, itasim beside its reference';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'itasim.js');
const TIME = '/usr/bin/time';

/** One measured process. */
interface Measured {
  wall: number;
  /** User + system seconds, or null without /usr/bin/time. */
  cpu: number | null;
  /** Peak resident set, MB (10^6 bytes), or null without /usr/bin/time. */
  rssMB: number | null;
}

/** Runs `cmd args` in `cwd` and measures it; a failure is one line. */
function measure(cmd: string, args: string[], cwd?: string): Measured | string {
  const scratch = mkdtempSync(join(tmpdir(), 'itasim-bench-time-'));
  try {
    const out = join(scratch, 'time.txt');
    const timed = existsSync(TIME);
    const [c, a] = timed ? [TIME, ['-f', 'TIME %U %S %M', '-o', out, cmd, ...args]] : [cmd, args];
    const t0 = performance.now();
    const r = spawnSync(c, a, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const wall = (performance.now() - t0) / 1000;
    if (r.error) return `failed (${r.error.message})`;
    if (r.status !== 0) {
      const last = (r.stderr ?? '').trim().split('\n').pop();
      return `failed (exit ${r.status}${last ? `: ${last.slice(0, 100)}` : ''})`;
    }
    if (!timed) return { wall, cpu: null, rssMB: null };
    const m = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(readFileSync(out, 'utf8'));
    if (!m) return { wall, cpu: null, rssMB: null };
    return { wall, cpu: Number(m[1]) + Number(m[2]), rssMB: (Number(m[3]) * 1024) / 1e6 };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The median run of `runs` (by wall time), each in a fresh scratch folder; or the first failure. */
function median(runs: number, run: (dir: string) => Measured | string): Measured | string {
  const all: Measured[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'itasim-bench-summary-'));
    try {
      const m = run(dir);
      if (typeof m === 'string') return m;
      all.push(m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  all.sort((a, b) => a.wall - b.wall);
  return all[all.length >> 1]!;
}

const itasim = (args: string[], cwd?: string): Measured | string =>
  measure(process.execPath, [BIN, ...args], cwd);

const secs = (s: number): string => (s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);

/** A measurement as a cell: wall, CPU and peak memory. */
function cell(m: Measured | string, name = ''): string {
  if (typeof m === 'string') return `${name}${m}`;
  const parts = [`${secs(m.wall)} wall`];
  if (m.cpu !== null) parts.push(`${secs(m.cpu)} CPU`);
  if (m.rssMB !== null) parts.push(`${m.rssMB.toFixed(0)} MB peak`);
  return `${name}${parts.join(', ')}`;
}

interface Row {
  what: string;
  itasim: string;
  reference: string;
  ratio: string;
  goal: string;
  met: string;
}

interface RowSpec {
  what: string;
  goal: string;
  run(): Omit<Row, 'what' | 'goal'>;
}

/** The value of `--name <v>` on the command line, else of the environment variable. */
function option(flag: string, env: string): string | undefined {
  const argv = process.argv;
  const i = argv.indexOf(flag);
  if (i >= 0) {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) {
      console.error(`bench summary: ${flag} needs a path`);
      process.exit(2);
    }
    return v;
  }
  return process.env[env] || undefined;
}

function checkPath(what: string, p: string | undefined): string | undefined {
  if (p !== undefined && !existsSync(p)) {
    console.error(`bench summary: ${what} ${p} does not exist`);
    process.exit(2);
  }
  return p;
}

const yesNo = (ok: boolean): string => (ok ? 'yes' : 'no');
const GOLDEN_BIG = ['-S', '256', '-E', '128', '-P', '64', '-F', '256', '-H', '2', '--activation', 'relu'];

function rows(runs: number): RowSpec[] {
  const pyita = checkPath('the PyITA runner', option('--pyita', 'PYITA_RUN'));
  const python = option('--python', 'PYITA_PYTHON') ?? 'python3';
  const verilated = checkPath('the Verilated binary', option('--verilated', 'ITA_VERILATED'));
  const vArgs = (process.env['ITA_VERILATED_ARGS'] ?? '').split(' ').filter(Boolean);
  return [
    {
      what: '`itasim --help`',
      goal: '<= 0.3 s wall',
      run: () => {
        const m = median(Math.max(runs, 5), () => itasim(['--help']));
        return { itasim: cell(m), reference: '-', ratio: '-', met: wallAtMost(m, 0.3) };
      },
    },
    {
      what: '`itasim golden` 64^3',
      goal: '<= 0.5 s wall',
      run: () => {
        const args = ['golden', '-S', '64', '-E', '64', '-P', '64', '-F', '64'];
        const m = median(runs, (dir) => itasim([...args, '--out', join(dir, 'out')]));
        return { itasim: cell(m), reference: '-', ratio: '-', met: wallAtMost(m, 0.5) };
      },
    },
    {
      what: '`golden` S=256 E=128 P=64 F=256 H=2 relu seed 9',
      goal: '>= 50x PyITA (wall)',
      run: () => {
        const args = [...GOLDEN_BIG, '--seed', '9'];
        const m = median(runs, (dir) => itasim(['golden', ...args, '--out', join(dir, 'out')]));
        if (!pyita) return { itasim: cell(m), reference: '- (set PYITA_RUN)', ratio: '-', met: '-' };
        const dir = mkdtempSync(join(tmpdir(), 'itasim-bench-pyita-'));
        let ref: Measured | string;
        try {
          ref = measure(python, [pyita, join(dir, 'out'), ...args]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        return compare(m, ref, 'PyITA ', 50);
      },
    },
    {
      what: '`sim --random --layer attention --tiles 8,8,4,1`',
      goal: '>= 5x Verilated ita.sv (wall)',
      run: () => {
        const args = ['sim', '--random', '--layer', 'attention', '--tiles', '8,8,4,1', '--quiet'];
        const m = median(runs, () => itasim(args));
        if (!verilated) return { itasim: cell(m), reference: '- (set ITA_VERILATED)', ratio: '-', met: '-' };
        return compare(m, measure(verilated, vArgs), 'Verilated ', 5);
      },
    },
    {
      what: 'full MobileBERT, 24 layers, `encoder run mobilebert`',
      goal: '<= 90 s wall, <= 400 MB peak',
      run: () => {
        const m = itasim(['encoder', 'run', 'mobilebert', '--quiet', '--json']);
        const met = typeof m === 'string' || m.rssMB === null ? '-' : yesNo(m.wall <= 90 && m.rssMB <= 400);
        return { itasim: cell(m), reference: '-', ratio: '-', met };
      },
    },
  ];
}

function wallAtMost(m: Measured | string, s: number): string {
  return typeof m === 'string' ? '-' : yesNo(m.wall <= s);
}

/** itasim against a reference: the reference's wall time over itasim's. */
function compare(
  m: Measured | string,
  ref: Measured | string,
  name: string,
  goal: number,
): Omit<Row, 'what' | 'goal'> {
  const base = { itasim: cell(m), reference: cell(ref, name) };
  if (typeof m === 'string' || typeof ref === 'string') return { ...base, ratio: '-', met: '-' };
  const ratio = ref.wall / m.wall;
  return { ...base, ratio: `${ratio.toFixed(1)}x`, met: yesNo(ratio >= goal) };
}

function table(rs: Row[]): string {
  const head: Row = {
    what: 'what',
    itasim: 'itasim',
    reference: 'reference',
    ratio: 'ratio',
    goal: 'goal',
    met: 'met',
  };
  const keys = Object.keys(head) as (keyof Row)[];
  const w = keys.map((k) => Math.max(...[head, ...rs].map((r) => r[k].length)));
  const line = (r: Row): string => `| ${keys.map((k, i) => r[k].padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rs.map(line)].join('\n');
}

export function run(): void {
  const runs = Math.max(1, Number(process.env['SUMMARY_RUNS'] ?? 3) || 1);
  const pick = (process.env['SUMMARY_ROWS'] ?? '').split(',').filter(Boolean).map(Number);
  const out: Row[] = [];
  rows(runs).forEach((spec, i) => {
    if (pick.length > 0 && !pick.includes(i + 1)) return;
    const r: Row = { what: spec.what, goal: spec.goal, ...spec.run() };
    console.log(`${i + 1}. ${r.what}: ${r.itasim}; reference ${r.reference}; ratio ${r.ratio}`);
    out.push(r);
  });
  console.log(`\n${table(out)}`);
  console.log(
    `(wall: median of ${runs} runs, --help of ${Math.max(runs, 5)}; references and MobileBERT once; ` +
      `CPU = user + system; peak = maximum resident set; node ${process.version}; the CLI ran ` +
      `${buildIsCurrent(ROOT) ? 'compiled (dist/)' : 'from the TypeScript sources (tsx): dist/ is missing or stale'})`,
  );
}
