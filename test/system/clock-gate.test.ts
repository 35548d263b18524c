/**
 * The HWPE's simulation clock gate (`ItaSubsystem`, `clockGate`): between jobs the model stops
 * evaluating and clocking an HWPE that provably sits still. The run must be the same cycle for
 * cycle as one that clocks it every cycle: here both run side by side on reference folders, and
 * every cycle's view of the HWPE from the cluster (its 16 TCDM requests with their addresses, the
 * grants, its event and busy lines, the configuration port) and every core's program counter and
 * issue must agree, as must the statistics at the end (the ITA's own counters included).
 */
import { describe, expect, it } from 'vitest';
import { loadGolden } from '../../golden/archive.ts';
import type { Cluster } from '../../rtl-model/cluster/cluster.ts';
import type { ItaSubsystem } from '../../rtl-model/cluster/ita_subsystem.ts';
import { runItaSystem } from '../../rtl-model/cluster/ita_system.ts';
import { expectSameCycles } from './same-cycles.ts';

/** One line per cycle of what the cluster sees of the HWPE, and of the cores. */
function trace(name: string, clockGate: boolean, waitMode: 0 | 1) {
  const lines: string[] = [];
  let cluster: Cluster | null = null;
  let ita: ItaSubsystem | null = null;
  const r = runItaSystem(loadGolden(`pyita/${name}`), name, {
    maxCycles: 400_000,
    waitMode,
    subsystem: { clockGate },
    onBuild: (c, s) => {
      cluster = c;
      ita = s;
      const before = c.afterTcdm!;
      c.afterTcdm = () => {
        before();
        const p = c.periph;
        let line = `${p.hwpeEvt} ${p.hwpeBusy}`;
        for (const port of c.accelPorts)
          line += port.qValid
            ? ` ${port.addr.toString(16)}${port.write ? 'w' : 'r'}${port.qReady ? '+' : '-'}`
            : ' .';
        for (const core of c.cores) line += ` ${core.pc.cur.toString(16)}:${core.stall}`;
        lines.push(line);
      };
    },
  });
  ita!.syncStatistics();
  return { r, lines, stats: cluster!.stats.snapshot(), skipped: ita!.nSkipped.value };
}

/** The statistics of the hardware (without the simulation's own count of skipped cycles). */
const hardwareStats = (s: Record<string, number>) =>
  Object.fromEntries(Object.entries(s).filter(([k]) => !k.endsWith('.sim_skipped_cycles')));

describe('the HWPE clock gate changes no cycle', () => {
  for (const [name, waitMode] of [
    ['S64_E64_P64_F64_H1_gelu_seed1', 0],
    ['S64_E64_P64_F64_H1_gelu_seed1', 1],
    ['S128_E64_P128_F128_H2_relu_seed4', 0],
  ] as const) {
    it(`${name}, ${waitMode ? 'woken by the event' : 'polling busy'}: gated and clocked runs agree every cycle`, () => {
      const on = trace(name, true, waitMode);
      const off = trace(name, false, waitMode);
      expect(on.r.finished && on.r.exitCode).toBe(0);
      // the gate did stop the HWPE for a good part of the run (else this test proves nothing)
      expect(on.skipped).toBeGreaterThan(on.r.cycles / 10);
      expect(off.skipped).toBe(0);
      expect(on.r.cycles).toBe(off.r.cycles);
      expectSameCycles(on.lines, off.lines);
      expect(hardwareStats(on.stats)).toEqual(hardwareStats(off.stats));
      expect(on.r.busyIntervals).toEqual(off.r.busyIntervals);
      expect(on.r.images.map((i) => i.mismatches)).toEqual(off.r.images.map((i) => i.mismatches));
    });
  }
});
