/**
 * `npm run bench`: every benchmark in `scripts/bench/`, each printing its own table.
 * `npm run bench -- <name>` runs only the named ones.
 */
import * as cluster from './bench/cluster.ts';
import * as clusterRtl from './bench/cluster-rtl.ts';
import * as encoder from './bench/encoder.ts';
import * as golden from './bench/golden.ts';
import * as itaSim from './bench/ita-sim.ts';
import * as recompute from './bench/recompute.ts';

interface Bench {
  title: string;
  run(): Promise<void> | void;
}
const all: Record<string, Bench> = {
  recompute,
  golden,
  'ita-sim': itaSim,
  cluster,
  'cluster-rtl': clusterRtl,
  encoder,
};
const pick = process.argv.slice(2);
for (const [name, b] of Object.entries(all)) {
  if (pick.length && !pick.includes(name)) continue;
  console.log(`\n== ${b.title} (${name})`);
  await b.run();
}
