/**
 * ITA's HWPE attached to the Snitch cluster (`ItaSubsystem`): hart 0 runs
 * `sw/bin/ita_attention.elf`, which builds the job table in L1, programs every job through the
 * configuration region at 0x1004_0000 and waits for its completion (polling HWPE_BUSY, or asleep
 * in wfi until the event sets its CL_CLINT bit); the HWPE's 16 ports go through the TCDM
 * interconnect with the cores'. Outputs are compared word by word with the folder's `hwpe/*.txt`.
 */
import { describe, expect, it } from 'vitest';
import { loadGolden } from '../../golden/archive.ts';
import { runItaSystem } from '../../rtl-model/cluster/ita_system.ts';
import { HWPE_BASE } from '../../rtl-model/cluster/ita_subsystem.ts';
import { InputError } from '../../rtl-model/errors.ts';
import { Stall } from '../../rtl-model/snitch/core.ts';

type Result = ReturnType<typeof runItaSystem>;
const mism = (r: Result) => Object.fromEntries(r.images.map((i) => [i.name, i.mismatches]));
const wfi = (r: Result) => r.cluster.cores[0]!.nStall[Stall.Wfi]!.value;
const ALL_EXACT = { Q: 0, K: 0, V: 0, QK: 0, AV: 0, OW: 0, F1: 0, F2: 0 };
const GELU = 'S64_E64_P64_F64_H1_gelu_seed1';

describe('ITA on the cluster', () => {
  it('the configuration region follows the zero memory', () => {
    expect(HWPE_BASE).toBe(0x1004_0000);
  });

  for (const waitMode of [0, 1] as const) {
    it(`one job (Q projection) programmed by a core, ${waitMode ? 'woken by the event' : 'polling busy'}`, () => {
      const r = runItaSystem(loadGolden(`pyita/${GELU}`), GELU, { maxCycles: 50_000, waitMode, maxJobs: 1 });
      expect(r.finished && r.exitCode).toBe(0);
      expect(r.jobs).toBe(1);
      expect(mism(r).Q).toBe(0);
      expect(mism(r).K).toBe(1024); // not computed
      expect(r.itaEvents).toBe(1);
      expect(r.busyIntervals.length).toBe(1);
      if (waitMode) expect(wfi(r)).toBeGreaterThan(250);
      else expect(wfi(r)).toBe(0);
    });
  }

  for (const name of [GELU, 'S64_E64_P64_F64_H1_identity_seed0', 'S64_E64_P64_F64_H1_relu_seed2_nobias']) {
    it(`whole attention and feed-forward, ${name}: every image bit-exact`, () => {
      const r = runItaSystem(loadGolden(`pyita/${name}`), name, { maxCycles: 50_000, waitMode: 0 });
      expect(r.finished && r.exitCode).toBe(0);
      expect(r.jobs).toBe(8);
      expect(mism(r)).toEqual(ALL_EXACT);
      expect(r.pass).toBe(true);
      expect(r.itaEvents).toBe(8);
      expect(r.busyIntervals.length).toBe(8);
      // the jobs are programmed while the previous one runs: ITA is busy most of the issue phase
      expect(r.itaBusy / r.programCycles).toBeGreaterThan(0.8);
    });
  }

  it('the core sleeps in wfi between jobs and is woken by each completion event', () => {
    const r = runItaSystem(loadGolden(`pyita/${GELU}`), GELU, { maxCycles: 50_000, waitMode: 1 });
    expect(mism(r)).toEqual(ALL_EXACT);
    expect(r.itaEvents).toBe(8);
    expect(wfi(r)).toBeGreaterThan(600);
  });

  it('the HWPE competes with the core for the banks (conflicts are counted)', () => {
    const r = runItaSystem(loadGolden(`pyita/${GELU}`), GELU, { maxCycles: 50_000, waitMode: 0 });
    const hwpe = r.cluster.accelPorts.reduce((s, p) => s + p.accesses, 0);
    // every job reads inputs and weights and writes 64 x 64 outputs through the 16 ports
    expect(hwpe).toBeGreaterThan(8 * 16 * 100);
    expect(r.bankConflicts).toBeGreaterThan(0);
  });

  it('a folder too large for L1 is bad input', () => {
    const name = 'S128_E128_P64_F128_H1_identity_seed0';
    expect(() => runItaSystem(loadGolden(`pyita/${name}`), name)).toThrow(InputError);
  });
});
