/**
 * The cluster model beside the Verilated Snitch cluster RTL on every program of the reference
 * (`golden/data/snitch-rtl.zip`): the 60 riscv-tests and the project's kernels (`sw/bin/*.elf`,
 * default arguments, zero data, as the RTL ran them). Cycles, the difference, and for programs
 * whose RTL issue traces are kept, the first instruction per hart whose issue cycle differs.
 */
import { firstDifference, referenceRun, rtlIssues, snitchRtlCycles } from '../../golden/snitch_rtl.ts';

export const title = 'Snitch cluster model against the RTL: cycles per program';

export function run(): void {
  const rows: Record<string, string | number>[] = [];
  let equal = 0;
  const rtl = snitchRtlCycles();
  for (const r of rtl) {
    const { cluster: c, issues } = referenceRun(r.program);
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
