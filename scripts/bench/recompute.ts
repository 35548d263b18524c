/**
 * Time of the integer reference (`computeOutputs`, all steps and heads) and of formatting the
 * complete PyITA file set (`folderFiles`, in memory, nothing written) against problem size, on
 * seeded inputs from the generator's native mode. `RECOMPUTE_BENCH_MAX=<n>` limits the table to its first n rows.
 */
import { computeOutputs } from '../../rtl-model/ref/ita.ts';
import { folderFiles } from '../../golden/folder.ts';
import { generateInputs } from '../../golden/generate.ts';
import type { ItaParams } from '../../golden/types.ts';

export const title = 'recompute (integer reference + file formatting) vs problem size';

const SIZES = [64, 128, 256, 512];
const HEADS = [1, 8];

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
      const inputs = generateInputs(p, p.S * 31 + p.H, 'native');
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
