/**
 * `npm run bench`: every benchmark in `scripts/bench/`, each printing its own table.
 * `npm run bench -- <name>` runs only the named ones; flags after the names (`--pyita <runner.py>`,
 * `--python <path>`, `--verilated <binary>`) are the summary's references.
 */
import * as cluster from './bench/cluster.ts';
import * as clusterRtl from './bench/cluster-rtl.ts';
import * as encoder from './bench/encoder.ts';
import * as golden from './bench/golden.ts';
import * as itaSim from './bench/ita-sim.ts';
import * as recompute from './bench/recompute.ts';
import * as summary from './bench/summary.ts';

interface Bench {
  title: string;
  run(): Promise<void> | void;
}
const all: Record<string, Bench> = {
  summary,
  recompute,
  golden,
  'ita-sim': itaSim,
  cluster,
  'cluster-rtl': clusterRtl,
  encoder,
};
const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('--'));
const pick = firstFlag < 0 ? args : args.slice(0, firstFlag);
const unknown = pick.filter((n) => !(n in all));
if (unknown.length > 0) {
  console.error(`bench: no benchmark ${unknown.join(', ')} (${Object.keys(all).join(', ')})`);
  process.exit(2);
}
for (const [name, b] of Object.entries(all)) {
  if (pick.length && !pick.includes(name)) continue;
  console.log(`\n== ${b.title} (${name})`);
  await b.run();
}
