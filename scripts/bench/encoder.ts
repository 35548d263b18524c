/**
 * The tiler on whole encoders: wall time and simulated cycles per second. Rows: one layer of each
 * preset (ITA mode, default sequence lengths), the full 24-layer MobileBERT (S = 128) in ITA mode,
 * and one MobileBERT layer (S = 64) on the 8 cores alone (the cluster-only baseline is about
 * 90 times more cycles, so one short layer is what it costs to time it). A row whose model the
 * tiler cannot map yet shows the reason instead of numbers.
 */
import { InputError } from '../../rtl-model/errors.ts';
import { buildPreset } from '../../tiler/presets.ts';
import { runEncoder } from '../../tiler/run.ts';

export const title = 'Tiler: encoders on the cycle-level cluster, wall time and simulated cycles per second';

const CASES: { preset: string; seq?: number; layers: number; clusterOnly: boolean }[] = [
  { preset: 'mobilebert', layers: 1, clusterOnly: false },
  { preset: 'dinov2', layers: 1, clusterOnly: false },
  { preset: 'whisper', layers: 1, clusterOnly: false },
  { preset: 'mobilebert', layers: 24, clusterOnly: false },
  { preset: 'mobilebert', seq: 64, layers: 1, clusterOnly: true },
];

export function run(): void {
  const rows: Record<string, string | number>[] = [];
  for (const c of CASES) {
    const t0 = performance.now();
    const row: Record<string, string | number> = {
      model: c.preset,
      S: c.seq ?? 'default',
      layers: c.layers,
      mode: c.clusterOnly ? 'cluster only' : 'ITA',
    };
    try {
      const m = buildPreset(c.preset, { seq: c.seq, layers: c.layers });
      const r = runEncoder(m, { clusterOnly: c.clusterOnly, dropWeights: true });
      const wall = (performance.now() - t0) / 1000;
      Object.assign(row, {
        'bit-exact': r.bitExact ? 'yes' : 'NO',
        cycles: r.cycles,
        'GOp/s @500MHz': ((r.ops * 500e6) / r.cycles / 1e9).toFixed(1),
        'ITA util': `${(100 * r.itaUtilisation).toFixed(1)} %`,
        'wall s': wall.toFixed(1),
        'sim s': r.simSeconds.toFixed(1),
        'cycles/s': Math.round(r.simCyclesPerSecond),
      });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      row['bit-exact'] = `not mapped: ${e.message.slice(0, 90)}`;
    }
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.table(rows);
}
