import type { Command } from 'commander';
import * as cluster from './cluster.ts';
import * as compare from './compare.ts';
import * as encoder from './encoder.ts';
import * as fuzz from './fuzz.ts';
import * as golden from './golden.ts';
import * as hwpe from './hwpe.ts';
import * as onnx from './onnx.ts';
import * as recompute from './recompute.ts';
import * as sim from './sim.ts';

/** Adds every sub-command to the program (each module owns one command and its options). */
export function registerCommands(program: Command): void {
  for (const c of [golden, recompute, compare, sim, hwpe, fuzz, cluster, onnx, encoder]) c.register(program);
}
