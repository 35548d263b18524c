/**
 * Simulation speed of the cycle-level Snitch cluster: the 8-core int8 GEMM kernel (sw/bin/gemm.elf)
 * on random data, in simulated cycles per second of wall time, with the instruction cache and (last
 * row) with a perfect instruction memory. Then the ITA system
 * (`sw/bin/ita_attention.elf`, operands in L2) on the reference folders: cycles, ITA utilisation,
 * DMA busy cycles, bank-conflict stalls and simulation speed. The GEMM rows give the rate per
 * wall second and per CPU second of this process (the latter steadier on a shared machine).
 */
import { readFileSync } from 'node:fs';
import { loadGolden, PYITA_FOLDERS } from '../../golden/archive.ts';
import { Cluster } from '../../rtl-model/cluster/cluster.ts';
import { runItaSystem } from '../../rtl-model/cluster/ita_system.ts';

export const title = 'Snitch cluster: int8 GEMM and ITA attention, simulated cycles per second';

export function run(): void {
  const elf = readFileSync(new URL('../../sw/bin/gemm.elf', import.meta.url));
  const rows: Record<string, string | number>[] = [];
  for (const [dim, idealFetch] of [
    [32, false],
    [64, false],
    [64, true],
  ] as const) {
    const c = Cluster.fromElf(elf, { idealFetch }, 'gemm.elf');
    const args = new Int32Array([dim, dim, dim, 77, 13, 3, 0, 0]);
    c.writeSymbol('gemm_args', args);
    let s = 12345;
    const rnd = (n: number) =>
      Int8Array.from({ length: n }, () => {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        return (s >>> 16) & 0xff;
      });
    c.writeSymbol('gemm_a', rnd(dim * dim));
    c.writeSymbol('gemm_bt', rnd(dim * dim));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = c.run(50_000_000);
    const sec = (performance.now() - t0) / 1000;
    const cpuU = process.cpuUsage(cpu0);
    const cpu = (cpuU.user + cpuU.system) / 1e6;
    const compute = c.readSymbol('gemm_args', 4, 24);
    const computeCycles = new DataView(compute.buffer).getUint32(0, true);
    rows.push({
      'M=N=K': dim,
      fetch: idealFetch ? 'ideal' : 'icache',
      cycles: r.cycles,
      'MAC/cycle': ((dim * dim * dim) / computeCycles).toFixed(3),
      'wall s': sec.toFixed(2),
      'cycles/s': Math.round(r.cycles / sec),
      'cycles/CPU s': Math.round(r.cycles / cpu),
    });
  }
  console.table(rows);
  const ita: Record<string, string | number>[] = [];
  for (const name of PYITA_FOLDERS.filter((n) => !n.startsWith('S64_E64_P64_F64_H1_r'))) {
    const t0 = performance.now();
    const r = runItaSystem(loadGolden(`pyita/${name}`), name, { maxCycles: 1_000_000 });
    const sec = (performance.now() - t0) / 1000;
    ita.push({
      folder: name,
      exact: r.pass ? 'yes' : 'NO',
      cycles: r.cycles,
      jobs: r.jobs,
      'first trigger': r.firstTrigger,
      'ITA busy': `${((100 * r.itaBusy) / r.cycles).toFixed(1)}%`,
      'DMA busy': r.dmaBusy,
      conflicts: r.bankConflicts,
      'wall s': sec.toFixed(2),
      'cycles/s': Math.round(r.cycles / sec),
    });
  }
  console.table(ita);
}
