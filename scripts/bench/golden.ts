/**
 * Wall and CPU time of `itasim golden` (the command, end to end: start-up, draw, compute, format,
 * write the whole folder) against problem size. CPU time is user + system time of the whole
 * process, all threads. With `PYITA_RUN=<runner.py>` in the environment, also times PyITA on the
 * same cases (`python3 <runner.py> <outdir> -S .. -E .. -P .. -F .. -H .. --activation ..
 * --seed .. --export-snitch-cluster`, e.g. /work/ref/run_pyita.py, or a copy with the H > 1 tiler
 * fix) and prints the speed-up in wall and in CPU time.
 *
 * `GOLDEN_BENCH_ROWS=1,2` runs only the listed rows (1-based); `GOLDEN_BENCH_RUNS=n` (default 3)
 * runs itasim n times per case and reports the median (PyITA runs once: it takes minutes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ItaParams } from '../../golden/types.ts';

export const title = 'itasim golden vs problem size (command end to end, whole folder written)';

const CASES: ItaParams[] = [
  { S: 64, E: 64, P: 64, F: 64, H: 1, activation: 'gelu', bias: true },
  { S: 128, E: 128, P: 64, F: 128, H: 2, activation: 'gelu', bias: true },
  { S: 256, E: 256, P: 64, F: 256, H: 4, activation: 'gelu', bias: true },
  { S: 512, E: 512, P: 64, F: 512, H: 8, activation: 'gelu', bias: true },
];
const SEED = 1;
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'itasim.js');

/** Prints the process's CPU time (all threads) on stderr as it exits. */
const CPU_PROBE =
  'data:text/javascript,process.on("exit",()=>{const u=process.cpuUsage();' +
  'process.stderr.write("\\nCPU_USAGE "+u.user+" "+u.system+"\\n")})';

/** Runs a Python program and prints its CPU time (children included) on stderr. */
const PY_PROBE = [
  'import resource, subprocess, sys',
  'r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)',
  'u = resource.getrusage(resource.RUSAGE_CHILDREN)',
  'print("\\nCPU_USAGE", int(u.ru_utime * 1e6), int(u.ru_stime * 1e6), file=sys.stderr)',
  'sys.exit(r.returncode)',
].join('\n');

interface Timing {
  wall: number;
  /** User + system seconds. */
  cpu: number;
}

function label(p: ItaParams): string {
  return `S=${p.S} E=${p.E} P=${p.P} F=${p.F} H=${p.H}`;
}

function caseArgs(p: ItaParams): string[] {
  return ['-S', p.S, '-E', p.E, '-P', p.P, '-F', p.F, '-H', p.H, '--activation', p.activation]
    .concat(['--seed', SEED, '--export-snitch-cluster'])
    .map(String);
}

/** Runs a command and returns its timing, or a one-line failure. */
function timed(cmd: string, args: string[]): Timing | string {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  const err = r.stderr ?? '';
  const m = /CPU_USAGE (\d+) (\d+)/.exec(err);
  if (r.status !== 0 || !m) {
    const last = err
      .replace(/CPU_USAGE.*/, '')
      .trim()
      .split('\n')
      .pop();
    return `failed (${last || r.status})`;
  }
  return { wall, cpu: (Number(m[1]) + Number(m[2])) / 1e6 };
}

function timeItasim(p: ItaParams, dir: string, runs: number): (Timing & { mb: number }) | string {
  const all: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const t = timed(process.execPath, [
      '--import',
      CPU_PROBE,
      BIN,
      'golden',
      ...caseArgs(p),
      '--out',
      join(dir, 'itasim'),
    ]);
    if (typeof t === 'string') return t;
    all.push(t);
  }
  const median = (v: number[]) => v.sort((a, b) => a - b)[v.length >> 1]!;
  const mb =
    Number(spawnSync('du', ['-sb', join(dir, 'itasim')], { encoding: 'utf8' }).stdout.split('\t')[0]) / 1e6;
  return { wall: median(all.map((t) => t.wall)), cpu: median(all.map((t) => t.cpu)), mb };
}

function timePyita(runner: string, p: ItaParams, dir: string): Timing | string {
  return timed('python3', ['-c', PY_PROBE, 'python3', runner, join(dir, 'pyita'), ...caseArgs(p)]);
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function run(): void {
  const runner = process.env['PYITA_RUN'];
  const rows = (process.env['GOLDEN_BENCH_ROWS'] ?? '').split(',').filter(Boolean).map(Number);
  const runs = Math.max(1, Number(process.env['GOLDEN_BENCH_RUNS'] ?? 3) || 1);
  const head = ['case', 'MB written', 'itasim wall s', 'itasim CPU s'];
  if (runner) head.push('PyITA wall s', 'PyITA CPU s', 'speed-up wall', 'speed-up CPU');
  const widths = [30, 10, 13, 12, 12, 11, 13, 12];
  console.log(row(head, widths));
  for (const p of CASES.filter((_, i) => rows.length === 0 || rows.includes(i + 1))) {
    const dir = mkdtempSync(join(tmpdir(), 'itasim-bench-golden-'));
    try {
      const it = timeItasim(p, dir, runs);
      if (typeof it === 'string') {
        console.log(row([label(p), '-', it], widths));
        continue;
      }
      const cells = [label(p), it.mb.toFixed(1), it.wall.toFixed(2), it.cpu.toFixed(2)];
      if (runner) {
        const py = timePyita(runner, p, dir);
        if (typeof py === 'string') cells.push(py, '-', '-', '-');
        else
          cells.push(
            py.wall.toFixed(1),
            py.cpu.toFixed(1),
            `${(py.wall / it.wall).toFixed(0)}x`,
            `${(py.cpu / it.cpu).toFixed(0)}x`,
          );
      }
      console.log(row(cells, widths));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`(itasim: median of ${runs} runs; CPU = user + system time of all threads)`);
  if (!runner) console.log('(set PYITA_RUN=<runner.py> to time PyITA on the same cases)');
}
