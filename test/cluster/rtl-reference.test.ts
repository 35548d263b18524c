/**
 * The cluster model against the Verilated Snitch cluster RTL (`golden/data/snitch-rtl.zip`): every
 * riscv-test gives exactly the RTL's cycle count and exit code, and hart 0 issues every
 * instruction on the RTL's cycle; a failure names the first instruction whose issue cycle differs.
 */
import { describe, expect, it } from 'vitest';
import {
  describeDifference,
  firstDifference,
  referenceRun,
  rtlIssues,
  snitchRtlCycles,
  type Issue,
} from '../../golden/snitch_rtl.ts';

const rows = snitchRtlCycles();
const tests = rows.filter((r) => r.program.startsWith('rv32'));

/** Runs a program of the reference; returns cycles, exit code and every hart's issue events. */
function runProgram(name: string): { cycles: number; exitCode: number; issues: Issue[][] } {
  const { cluster, issues } = referenceRun(name);
  const r = cluster.run(1_000_000);
  expect(r.finished).toBe(true);
  return { cycles: r.cycles, exitCode: r.exitCode, issues };
}

describe('Snitch cluster against its RTL: the riscv-tests', () => {
  it('keeps all 60 riscv-tests of the RTL reference', () => {
    expect(tests.length).toBe(60);
  });
  for (const row of tests) {
    it(`${row.program}: ${row.cycles} cycles, every instruction of hart 0 on the RTL's cycle`, () => {
      const r = runProgram(row.program);
      const d = firstDifference(rtlIssues(row.program, 0)!, r.issues[0]!);
      const where = d ? `first difference at instruction ${describeDifference(d)}` : 'equal';
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
  it('attention: every hart issues every instruction on the RTL cycle', () => {
    // stack stores of nine harts to the same banks, DMA transfers (ids, busy, completion),
    // barriers, the shared mul/div and the L2 path, all in 2264 cycles
    const row = rows.find((r) => r.program === 'attention')!;
    const r = runProgram('attention');
    for (let h = 0; h < 9; h++) expect(firstDifference(rtlIssues('attention', h)!, r.issues[h]!)).toBeNull();
    expect(r.cycles).toBe(row.cycles);
  });

  // kernels whose cycle count the model reproduces (the RTL's issue traces of these are not kept:
  // 1.5-24 MB each)
  for (const name of ['itamax', 'layernorm', 'gelu', 'inonorm', 'residual', 'gemm']) {
    it(`${name}: the RTL's cycle count and exit code`, () => {
      const row = rows.find((r) => r.program === name)!;
      const r = runProgram(name);
      expect(r.cycles).toBe(row.cycles);
      expect(r.exitCode).toBe(row.exitCode);
    });
  }
});
