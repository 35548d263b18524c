/**
 * Builds `golden/data/system-rtl.zip`, the timing facts of the whole system's RTL (the Snitch
 * cluster with ITA's HWPE) that the tests check the model against, from `../shared/system-rtl/`:
 *   cycles.csv                 per PyITA folder: the RTL's cycles, bit-exact result, ITA jobs
 *   busy.csv                   per folder and job: step and ITA busy interval [start, end)
 *   issue/<folder>/hart<h>.txt per issued instruction of hart h in the RTL's traces: "cycle pc"
 *   generated.json             RTL runs of folders written by `itasim golden` (sizes, activation and
 *                              seed in the folder's name; no bias when it ends in `_nobias`): cycles
 *                              and busy intervals, from the `rtl.json` of each run of the system
 *                              harness (`run_attention.sh`), given as `--generated <run-dir>...`
 * Run: `npx tsx scripts/import-system-rtl.ts [--force] [shared-dir] [--generated <run-dir>...]`
 * (`--force` replaces an existing archive).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { zipSync, type Zippable } from 'fflate';
import { GOLDEN_DATA_DIR } from '../golden/archive.ts';
import { outputPolicy, writeFileAtomic } from '../golden/atomic.ts';
import { issueLines } from '../golden/snitch_rtl.ts';

const args = process.argv.slice(2).filter((a) => a !== '--force');
outputPolicy.force = args.length < process.argv.length - 2;
const g = args.indexOf('--generated');
const runs = g >= 0 ? args.slice(g + 1) : [];
const positional = g >= 0 ? args.slice(0, g) : args;
const shared = resolve(positional[0] ?? join(GOLDEN_DATA_DIR, '..', '..', '..', 'shared'));
const rtl = join(shared, 'system-rtl');
const opts = { level: 9 as const, mtime: new Date('2024-01-01T00:00:00Z') };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const files: Zippable = {
  'cycles.csv': [enc(readFileSync(join(rtl, 'cycles.csv'), 'utf8')), opts],
  'busy.csv': [enc(readFileSync(join(rtl, 'busy.csv'), 'utf8')), opts],
};
let traced = 0;
for (const folder of readdirSync(join(rtl, 'traces'))) {
  for (let h = 0; h < 9; h++) {
    const p = join(rtl, 'traces', folder, `trace_hart_0000${h}.dasm.gz`);
    if (!existsSync(p)) continue;
    files[`issue/${folder}/hart${h}.txt`] = [enc(issueLines(gunzipSync(readFileSync(p)).toString())), opts];
    traced++;
  }
}
const generated = runs.map((dir) => {
  const r = JSON.parse(readFileSync(join(dir, 'rtl.json'), 'utf8').trim().split('\n').pop()!) as {
    cycles: number;
    exitCode: number;
    busyIntervals: [number, number][];
  };
  const c = JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')) as { folder: string; pass: boolean };
  if (r.exitCode !== 0 || !c.pass) throw new Error(`${dir}: the RTL run did not pass`);
  return { folder: c.folder, cycles: r.cycles, busy: r.busyIntervals };
});
if (generated.length) files['generated.json'] = [enc(JSON.stringify(generated)), opts];
writeFileAtomic(join(GOLDEN_DATA_DIR, 'system-rtl.zip'), zipSync(files));
console.log(`${join(GOLDEN_DATA_DIR, 'system-rtl.zip')}: ${traced} hart traces`);
