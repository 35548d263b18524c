/**
 * Wall time of `itasim golden` (draw, compute, format, write the whole folder) against problem
 * size. With `PYITA_RUN=<runner.py>` in the environment, also times PyITA on the same cases
 * (`python3 <runner.py> <outdir> -S .. -E .. -P .. -F .. -H .. --activation .. --seed ..
 * --export-snitch-cluster`, e.g. /work/ref/run_pyita.py, or a copy with the H > 1 tiler fix) and
 * prints the speed-up. `GOLDEN_BENCH_ROWS=1,2` runs only the listed rows (1-based).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ItaParams } from '../../golden/types.ts';
import { runGolden } from '../commands/golden.ts';

export const title = 'itasim golden vs problem size (wall time, whole folder written)';

const CASES: ItaParams[] = [
  { S: 64, E: 64, P: 64, F: 64, H: 1, activation: 'gelu', bias: true },
  { S: 128, E: 128, P: 64, F: 128, H: 2, activation: 'gelu', bias: true },
  { S: 256, E: 256, P: 64, F: 256, H: 4, activation: 'gelu', bias: true },
  { S: 512, E: 512, P: 64, F: 512, H: 8, activation: 'gelu', bias: true },
];
const SEED = 1;

function label(p: ItaParams): string {
  return `S=${p.S} E=${p.E} P=${p.P} F=${p.F} H=${p.H}`;
}

function timeItasim(p: ItaParams, dir: string): { secs: number; mb: number } {
  const t0 = performance.now();
  const { bytes } = runGolden({
    params: p,
    seed: SEED,
    out: join(dir, 'itasim'),
    exportSnitchCluster: true,
    seedMode: 'pyita',
    skipVectorValidation: true,
  });
  return { secs: (performance.now() - t0) / 1000, mb: bytes / 1e6 };
}

function timePyita(runner: string, p: ItaParams, dir: string): number | string {
  const args = [runner, join(dir, 'pyita'), '-S', p.S, '-E', p.E, '-P', p.P, '-F', p.F, '-H', p.H];
  args.push(
    '--activation',
    p.activation,
    '--seed',
    SEED,
    '--export-snitch-cluster',
    '--skip-vector-validation',
  );
  const t0 = performance.now();
  const r = spawnSync('python3', args.map(String), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0) return `failed (${(r.stderr ?? '').trim().split('\n').pop() ?? r.status})`;
  return secs;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function run(): void {
  const runner = process.env['PYITA_RUN'];
  const rows = (process.env['GOLDEN_BENCH_ROWS'] ?? '').split(',').filter(Boolean).map(Number);
  const head = ['case', 'MB written', 'itasim s'];
  if (runner) head.push('PyITA s', 'speed-up');
  const widths = [30, 10, 9, 9, 9];
  console.log(row(head, widths));
  // One untimed run first, so the table does not include the JIT's warm-up.
  const warm = mkdtempSync(join(tmpdir(), 'itasim-bench-golden-'));
  timeItasim(CASES[0]!, warm);
  rmSync(warm, { recursive: true, force: true });
  for (const p of CASES.filter((_, i) => rows.length === 0 || rows.includes(i + 1))) {
    const dir = mkdtempSync(join(tmpdir(), 'itasim-bench-golden-'));
    try {
      const it = timeItasim(p, dir);
      const cells = [label(p), it.mb.toFixed(1), it.secs.toFixed(2)];
      if (runner) {
        const py = timePyita(runner, p, dir);
        if (typeof py === 'number') cells.push(py.toFixed(1), `${(py / it.secs).toFixed(0)}x`);
        else cells.push(py, '-');
      }
      console.log(row(cells, widths));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (!runner) console.log('(set PYITA_RUN=<runner.py> to time PyITA on the same cases)');
}
