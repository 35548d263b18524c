/**
 * The cluster model against the Verilated Snitch cluster RTL (`golden/data/snitch-rtl.zip`): every
 * riscv-test gives exactly the RTL's cycle count and exit code, and hart 0 issues every
 * instruction on the RTL's cycle; a failure names the first instruction whose issue cycle differs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  firstDifference,
  riscvTest,
  rtlIssues,
  snitchRtlCycles,
  type Issue,
} from '../../golden/snitch_rtl.ts';
import { Cluster } from '../../rtl-model/cluster/cluster.ts';

const rows = snitchRtlCycles();
const tests = rows.filter((r) => r.program.startsWith('rv32'));

/** Runs a riscv-test image; returns cycles, exit code and the issue events of every hart. */
function runTest(name: string): { cycles: number; exitCode: number; issues: Issue[][] } {
  const { image, tohost } = riscvTest(name);
  const c = new Cluster();
  c.mem.load(0x8000_0000, image);
  c.tohostAddr = tohost;
  const sim = c.simulator();
  const issues: Issue[][] = c.cores.map(() => []);
  c.cores.forEach((core, h) => {
    // the model's cycle k is the RTL's cycle k + 1 (the RTL counts the first edge after reset as 1)
    core.onRetire = (pc) => issues[h]!.push({ cycle: sim.cycle + 1, pc });
  });
  const r = c.run(100_000);
  expect(r.finished).toBe(true);
  return { cycles: r.cycles, exitCode: r.exitCode, issues };
}

describe('Snitch cluster against its RTL: the riscv-tests', () => {
  it('keeps all 60 riscv-tests of the RTL reference', () => {
    expect(tests.length).toBe(60);
  });
  for (const row of tests) {
    it(`${row.program}: ${row.cycles} cycles, every instruction of hart 0 on the RTL's cycle`, () => {
      const r = runTest(row.program);
      const d = firstDifference(rtlIssues(row.program, 0)!, r.issues[0]!);
      const where = d
        ? `first difference at instruction #${d.index}: RTL ${d.rtl ? `pc ${d.rtl.pc.toString(16)} cycle ${d.rtl.cycle}` : 'none'}, model ${d.model ? `pc ${d.model.pc.toString(16)} cycle ${d.model.cycle}` : 'none'}`
        : 'equal';
      // the RTL traces the instructions hart 0 issues after its tohost store until the store
      // reaches memory; the model counts them too, so the lists are compared whole
      expect(where).toBe('equal');
      expect(r.cycles).toBe(row.cycles);
      expect(r.exitCode).toBe(row.exitCode);
      expect(r.issues[0]![0]!.cycle).toBe(row.firstIssue);
    });
  }
});

describe('Snitch cluster against its RTL: the attention kernel on nine harts', () => {
  it('every hart issues on the RTL cycle until the first barrier (stack stores from nine harts to the same banks)', () => {
    // The kernel starts with every hart storing its registers to its stack: hart h's k-th store
    // hits the same bank as every other hart's k-th, so the banks' arbiters order them. The
    // cluster barrier at 0x800001c8 then waits for the DMA core's first transfers, whose timing
    // is not the RTL's yet; the comparison stops at each hart's arrival at that barrier, and for
    // the DMA core (hart 8) before the instruction waiting for its first transfer id (dmcpyi at
    // 0x80000108: the Xdma frontend answers one cycle later in the RTL than in the model).
    const elf = readFileSync(new URL('../../sw/bin/attention.elf', import.meta.url));
    const c = Cluster.fromElf(elf, {}, 'attention.elf');
    const sim = c.simulator();
    const issues: Issue[][] = c.cores.map(() => []);
    c.cores.forEach((core, h) => (core.onRetire = (pc) => issues[h]!.push({ cycle: sim.cycle + 1, pc })));
    c.run(10_000);
    for (let h = 0; h < 9; h++) {
      const rtl = rtlIssues('attention', h)!;
      const n =
        h === 8 ? rtl.findIndex((e) => e.pc === 0x8000_010c) : rtl.findIndex((e) => e.pc === 0x8000_01c8) + 1;
      expect(n).toBeGreaterThan(30);
      expect(firstDifference(rtl.slice(0, n), issues[h]!.slice(0, n))).toBeNull();
    }
  });
});
