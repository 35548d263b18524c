/**
 * ITA's HWPE attached to the Snitch cluster (`ItaSubsystem`), every operand in L2: the host places
 * the folder's `hwpe/mem.txt` image in DRAM (`ita_l2`); the DMA core (hart 8) streams 64 x 64 tiles
 * between L2 and four L1 job slots and writes every output back; hart 0 programs each job through
 * the configuration region at 0x1004_0000 and waits for its completion (polling HWPE_BUSY as on
 * the RTL, or asleep in wfi until the event sets its CL_CLINT bit: a variant the RTL does not have). Outputs are compared word by word in L2
 * with the folder's `hwpe/*.txt`.
 */
import { describe, expect, it } from 'vitest';
import { loadGolden, PYITA_FOLDERS } from '../../golden/archive.ts';
import { runItaSystem } from '../../rtl-model/cluster/ita_system.ts';
import { HWPE_BASE } from '../../rtl-model/cluster/ita_subsystem.ts';
import { InputError } from '../../rtl-model/errors.ts';
import { Stall } from '../../rtl-model/snitch/core.ts';

type Result = ReturnType<typeof runItaSystem>;
const mism = (r: Result) => Object.fromEntries(r.images.map((i) => [i.name, i.mismatches]));
const wfi = (r: Result) => r.cluster.cores[0]!.nStall[Stall.Wfi]!.value;
const ALL_EXACT = { Q: 0, K: 0, V: 0, QK: 0, AV: 0, OW: 0, F1: 0, F2: 0 };
const GELU = 'S64_E64_P64_F64_H1_gelu_seed1';
/** Jobs of a folder: per head Q, K, V, QK, AV, OW tiles (with inner tiles), then F1 and F2. */
function jobCount(name: string): number {
  const m = /S(\d+)_E(\d+)_P(\d+)_F(\d+)_H(\d+)/.exec(name)!;
  const [S, E, P, F] = [m[1], m[2], m[3], m[4]].map((v) => Number(v) / 64) as [
    number,
    number,
    number,
    number,
  ];
  const H = Number(m[5]);
  return H * (3 * S * P * E + 2 * S * S * P + E * S * P) + 2 * F * S * E;
}
describe('ITA on the cluster, operands in L2', () => {
  it('the configuration region follows the zero memory', () => {
    expect(HWPE_BASE).toBe(0x1004_0000);
  });

  for (const waitMode of [0, 1] as const) {
    it(`one job (Q projection), ${waitMode ? 'woken by the event' : 'polling busy'}`, () => {
      const r = runItaSystem(loadGolden(`pyita/${GELU}`), GELU, { maxCycles: 50_000, waitMode, maxJobs: 1 });
      expect(r.finished && r.exitCode).toBe(0);
      expect(r.jobs).toBe(1);
      expect(mism(r).Q).toBe(0);
      expect(mism(r).K).toBe(1024); // not computed
      expect(r.itaEvents).toBe(1);
      expect(r.busyIntervals.length).toBe(1);
      if (waitMode) expect(wfi(r)).toBeGreaterThan(250);
      // polling, hart 0 sleeps only after its final store to tohost: the run ends when that
      // store reaches the memory, 6 cycles after it issues, and the wfi issues in the next cycle
      else expect(wfi(r)).toBe(5);
    });
  }

  // one run per folder; the largest (S128 E128 P64 F256 H4, 128 jobs) takes about 3 s
  for (const name of PYITA_FOLDERS) {
    it(`${name}: every image bit-exact in L2`, () => {
      const r = runItaSystem(loadGolden(`pyita/${name}`), name, { maxCycles: 400_000, waitMode: 0 });
      expect(r.finished && r.exitCode).toBe(0);
      expect(r.jobs).toBe(jobCount(name));
      expect(r.itaEvents).toBe(r.jobs);
      expect(r.busyIntervals.length).toBe(r.jobs);
      // the DMA moved the operands and the outputs between L2 and L1
      expect(r.dmaBytes).toBeGreaterThan(r.jobs * 4096);
      // the HWPE competes with the cores and the DMA for the banks
      expect(r.bankConflicts).toBeGreaterThan(0);
      // the first trigger comes after one DMA step, not after a whole job table (the system RTL's
      // first ITA busy cycle is 1448-1699 on these folders, ../shared/system-rtl/cycles.csv)
      expect(r.firstTrigger).toBeLessThan(2000);
      expect(mism(r)).toEqual(ALL_EXACT);
      expect(r.pass).toBe(true);
    });
  }

  it('every completion event goes to core 0 (requester id 0) and only to HWPE_EVT', () => {
    // `reqrsp_to_tcdm` drives the configuration port's user bits to 0: the HWPE offloads every
    // job to core 0, and the event lines reach no interrupt (the driver polls HWPE_BUSY)
    let evtSeen = 0;
    let clint = 0;
    let cluster: Result['cluster'] | null = null;
    const r = runItaSystem(loadGolden(`pyita/${GELU}`), GELU, {
      maxCycles: 50_000,
      waitMode: 0,
      onBuild: (c) => (cluster = c),
      onCycle: () => {
        evtSeen |= cluster!.periph.hwpeEvt;
        clint |= cluster!.periph.clint.cur;
      },
    });
    expect(r.itaEvents).toBe(8);
    expect(evtSeen).not.toBe(0);
    expect(evtSeen & ~3).toBe(0);
    expect(clint).toBe(0);
  });

  it('the core sleeps in wfi between jobs and is woken by each completion event', () => {
    const r = runItaSystem(loadGolden(`pyita/${GELU}`), GELU, { maxCycles: 50_000, waitMode: 1 });
    expect(mism(r)).toEqual(ALL_EXACT);
    expect(r.itaEvents).toBe(8);
    expect(wfi(r)).toBeGreaterThan(300);
  });

  it('a folder whose data and outputs exceed the L2 image of the program is bad input', () => {
    // the layout follows the dimensions in the folder name: S = E = P = F = 960 needs 20 MiB
    expect(() => runItaSystem(loadGolden(`pyita/${GELU}`), 'S960_E960_P960_F960_H1_gelu_seed1')).toThrow(
      InputError,
    );
    expect(() => runItaSystem(loadGolden(`pyita/${GELU}`), 'S960_E960_P960_F960_H1_gelu_seed1')).toThrow(
      /L2/,
    );
  });
});
