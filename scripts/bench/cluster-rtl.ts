/**
 * The cluster model beside the Verilated Snitch cluster RTL on every program of the reference
 * (`golden/data/snitch-rtl.zip`): the 60 riscv-tests and the project's kernels (`sw/bin/*.elf`,
 * default arguments, zero data, as the RTL ran them). Cycles, the difference, and for programs
 * whose RTL issue traces are kept, the first instruction per hart whose issue cycle differs.
 */
import { readFileSync } from 'node:fs';
import {
  firstDifference,
  riscvTest,
  rtlIssues,
  snitchRtlCycles,
  type Issue,
} from '../../golden/snitch_rtl.ts';
import { Cluster } from '../../rtl-model/cluster/cluster.ts';

export const title = 'Snitch cluster model against the RTL: cycles per program';

/** Loads a program of the reference (a riscv-test image or a kernel ELF) into a fresh cluster. */
function load(program: string): Cluster {
  if (program.startsWith('rv32')) {
    const { image, tohost } = riscvTest(program);
    const c = new Cluster();
    c.mem.load(0x8000_0000, image);
    c.tohostAddr = tohost;
    return c;
  }
  const elf = readFileSync(new URL(`../../sw/bin/${program}.elf`, import.meta.url));
  return Cluster.fromElf(elf, {}, `${program}.elf`);
}

export function run(): void {
  const rows: Record<string, string | number>[] = [];
  let equal = 0;
  const rtl = snitchRtlCycles();
  for (const r of rtl) {
    const c = load(r.program);
    const sim = c.simulator();
    const issues: Issue[][] = c.cores.map(() => []);
    c.cores.forEach((core, h) => (core.onRetire = (pc) => issues[h]!.push({ cycle: sim.cycle + 1, pc })));
    const t0 = performance.now();
    const m = c.run(5_000_000);
    const sec = (performance.now() - t0) / 1000;
    if (m.cycles === r.cycles && m.exitCode === r.exitCode) equal++;
    let first = '';
    for (let h = 0; h < c.cores.length; h++) {
      const ref = rtlIssues(r.program, h);
      if (!ref) continue;
      const d = firstDifference(ref, issues[h]!);
      if (d) {
        first += `h${h}#${d.index} pc ${(d.rtl ?? d.model)!.pc.toString(16)} RTL ${d.rtl?.cycle ?? '-'} model ${d.model?.cycle ?? '-'}; `;
      }
    }
    if (r.program.startsWith('rv32') && m.cycles === r.cycles && !first) continue; // one line for all of these
    rows.push({
      program: r.program,
      'RTL cycles': r.cycles,
      'model cycles': m.cycles,
      diff: `${(((m.cycles - r.cycles) / r.cycles) * 100).toFixed(2)}%`,
      exit: m.exitCode === r.exitCode ? 'same' : `${m.exitCode} vs ${r.exitCode}`,
      'cycles/s': Math.round(m.cycles / sec),
      'first issue difference': first || (ref(r.program) ? 'none' : 'no RTL trace kept'),
    });
  }
  console.table(rows);
  console.log(
    `${equal} of ${rtl.length} programs take exactly the RTL's cycles (riscv-tests not listed above are equal instruction by instruction)`,
  );
}

function ref(program: string): boolean {
  return rtlIssues(program, 0) !== null;
}
