/**
 * Time of the integer reference (`computeOutputs`, all steps and heads) and of formatting the
 * complete PyITA file set (`folderFiles`, in memory, nothing written) against problem size, on
 * deterministic pseudo-random inputs. `RECOMPUTE_BENCH_MAX=<n>` limits the table to its first n rows.
 */
import { computeOutputs } from '../../rtl-model/ref/ita.ts';
import { folderFiles } from '../../golden/folder.ts';
import type { ItaInputs, ItaParams, RequantTable, Tensor } from '../../golden/types.ts';

export const title = 'recompute (integer reference + file formatting) vs problem size';

const SIZES = [64, 128, 256, 512];
const HEADS = [1, 8];

/** A small linear congruential generator: the inputs only need to be fixed, not random. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8) / 2 ** 24;
}

function randomInputs(p: ItaParams): ItaInputs {
  const r = lcg(p.S * 31 + p.H);
  const t = (shape: number[], lo: number, hi: number): Tensor => ({
    shape,
    data: Int32Array.from(
      { length: shape.reduce((a, b) => a * b, 1) },
      () => lo + Math.floor(r() * (hi - lo + 1)),
    ),
  });
  const i8 = (shape: number[]) => t(shape, -128, 127);
  const b = (shape: number[]) => t(shape, -(2 ** 15), 2 ** 15 - 1);
  const table = (steps: number, heads: number, shift: number): RequantTable => ({
    mult: Array.from({ length: steps }, () => Array.from({ length: heads }, () => 64 + Math.floor(r() * 63))),
    shift: Array.from({ length: steps }, () => Array.from({ length: heads }, () => shift)),
    add: Array.from({ length: steps }, () => Array.from({ length: heads }, () => 0)),
  });
  const { S, E, P, F, H } = p;
  return {
    params: p,
    Q: i8([S, E]),
    K: i8([S, E]),
    Wq: i8([H, E, P]),
    Wk: i8([H, E, P]),
    Wv: i8([H, E, P]),
    Wo: i8([H, P, E]),
    Bq: b([H, P]),
    Bk: b([H, P]),
    Bv: b([H, P]),
    Bo: b([H, E]),
    FF: i8([S, E]),
    Wff: i8([1, E, F]),
    Wff2: i8([1, F, E]),
    Bff: b([1, F]),
    Bff2: b([1, E]),
    preactivation: i8([S, F]),
    rqsAttn: table(7, H, 16),
    rqsFfn: table(2, 1, 16),
    gelu: { one: -7091, b: -80, c: -7091, rqsMul: 74, rqsShift: 20, rqsAdd: 0 },
  };
}

/** Multiply-accumulates of one case (projections, QK, AV, OW, F1, F2). */
function macs(p: ItaParams): number {
  const { S, E, P, F, H } = p;
  return H * (3 * S * E * P + S * P * S + S * S * P + S * P * E) + S * E * F + S * F * E;
}

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(30) : c.padStart(12))).join('');
}

export function run(): void {
  const max = Number(process.env['RECOMPUTE_BENCH_MAX'] ?? SIZES.length * HEADS.length);
  console.log(row(['case', 'GMAC', 'compute s', 'GMAC/s', 'format s', 'MB']));
  let n = 0;
  for (const H of HEADS)
    for (const d of SIZES) {
      if (n++ >= max) return;
      const p: ItaParams = { S: d, E: d, P: d, F: d, H, activation: 'gelu', bias: true };
      const inputs = randomInputs(p);
      const t0 = performance.now();
      const outputs = computeOutputs(inputs);
      const t1 = performance.now();
      let bytes = 0;
      for (const [, data] of folderFiles(
        { inputs, outputs },
        { commandLine: 'bench', exportSnitchCluster: true },
      ))
        bytes += data.length;
      const t2 = performance.now();
      const g = macs(p) / 1e9;
      const compute = (t1 - t0) / 1000;
      console.log(
        row([
          `S=E=P=F=${d} H=${H}`,
          g.toFixed(3),
          compute.toFixed(2),
          (g / compute).toFixed(2),
          ((t2 - t1) / 1000).toFixed(2),
          (bytes / 1e6).toFixed(1),
        ]),
      );
    }
}
