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

describe('Snitch cluster against its RTL: kernels on nine harts', () => {
  /** Runs a kernel ELF of sw/bin with its built-in arguments and zero data, as the RTL ran it. */
  function runKernel(name: string): { cycles: number; exitCode: number; issues: Issue[][] } {
    const elf = readFileSync(new URL(`../../sw/bin/${name}.elf`, import.meta.url));
    const c = Cluster.fromElf(elf, {}, `${name}.elf`);
    const sim = c.simulator();
    const issues: Issue[][] = c.cores.map(() => []);
    c.cores.forEach((core, h) => (core.onRetire = (pc) => issues[h]!.push({ cycle: sim.cycle + 1, pc })));
    const r = c.run(1_000_000);
    return { cycles: r.cycles, exitCode: r.exitCode, issues };
  }

  it('attention: every hart issues every instruction on the RTL cycle', () => {
    // stack stores of nine harts to the same banks, DMA transfers (ids, busy, completion),
    // barriers, the shared mul/div and the L2 path, all in 2264 cycles
    const row = rows.find((r) => r.program === 'attention')!;
    const r = runKernel('attention');
    for (let h = 0; h < 9; h++) expect(firstDifference(rtlIssues('attention', h)!, r.issues[h]!)).toBeNull();
    expect(r.cycles).toBe(row.cycles);
  });

  // kernels whose cycle count the model reproduces (the RTL's issue traces of these are not kept:
  // 1.5-24 MB each)
  for (const name of ['itamax', 'layernorm', 'gelu', 'inonorm', 'residual', 'gemm']) {
    it(`${name}: the RTL's cycle count and exit code`, () => {
      const row = rows.find((r) => r.program === name)!;
      const r = runKernel(name);
      expect(r.cycles).toBe(row.cycles);
      expect(r.exitCode).toBe(row.exitCode);
    });
  }
});
