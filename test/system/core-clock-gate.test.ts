/**
 * The cores' simulation clock gate (`ClusterConfig.coreClockGate`) on the ITA system program: hart
 * 0 either polls the HWPE's busy line or sleeps in wfi until the completion event (CL_CLINT), the
 * other compute cores and the DMA core wait at the barrier. Gated and clocked runs must agree on
 * every cycle's view of every core and of the HWPE, on every counter and on the output images.
 */
import { describe, expect, it } from 'vitest';
import { loadGolden } from '../../golden/archive.ts';
import type { Cluster } from '../../rtl-model/cluster/cluster.ts';
import { runItaSystem } from '../../rtl-model/cluster/ita_system.ts';
import { Stall } from '../../rtl-model/snitch/core.ts';
import { expectSameCycles } from './same-cycles.ts';

function trace(name: string, coreClockGate: boolean, waitMode: 0 | 1) {
  const lines: string[] = [];
  let cluster: Cluster | null = null;
  let asleep = 0;
  let asleepInWfi = 0;
  const r = runItaSystem(loadGolden(`pyita/${name}`), name, {
    maxCycles: 400_000,
    waitMode,
    onBuild: (c) => {
      cluster = c;
      c.cfg.coreClockGate = coreClockGate;
      c.simulator().onCycle(() => {
        const p = c.periph;
        let line = `${p.hwpeEvt} ${p.hwpeBusy} ${p.barrierOut ? 1 : 0} ${p.clint.cur}`;
        for (const core of c.cores) {
          if (core.asleep) asleep++;
          if (core.asleep && core.stall === Stall.Wfi) asleepInWfi++;
          line += ` ${core.pc.cur.toString(16)}:${core.stall}:${core.cycleQ.cur}:${core.instret.cur}`;
        }
        for (const port of c.accelPorts) line += port.qValid ? ` ${port.addr.toString(16)}` : ' .';
        lines.push(line);
      });
    },
  });
  return { r, lines, asleep, asleepInWfi, stats: cluster!.stats.snapshot() };
}

describe('the cores clock gate changes no cycle of the ITA system', () => {
  for (const waitMode of [0, 1] as const) {
    it(`S64_E64_P64_F64_H1_gelu_seed1, ${waitMode ? 'hart 0 in wfi' : 'hart 0 polling'}: gated and clocked runs agree every cycle`, () => {
      const name = 'S64_E64_P64_F64_H1_gelu_seed1';
      const on = trace(name, true, waitMode);
      const off = trace(name, false, waitMode);
      expect(on.r.pass).toBe(true);
      expect(on.asleep).toBeGreaterThan(on.r.cycles);
      expect(off.asleep).toBe(0);
      if (waitMode === 1) expect(on.asleepInWfi).toBeGreaterThan(on.r.cycles / 10);
      expect(on.r.cycles).toBe(off.r.cycles);
      expectSameCycles(on.lines, off.lines);
      expect(on.stats).toEqual(off.stats);
      expect(on.r.stepCycles).toEqual(off.r.stepCycles);
      expect(on.r.images).toEqual(off.r.images);
    });
  }
});
