/**
 * The cores' simulation clock gate (`ClusterConfig.coreClockGate`): a core asleep in wfi or stalled
 * at the hardware barrier with nothing in flight is not evaluated or clocked until the event that
 * ends its wait. A tiler program (one MobileBERT layer at S = 64 in ITA mode) runs
 * with the gate and without it; every cycle's view of every core (pc, stall cause, issue, barrier
 * arrival, scoreboard, queues, cycle and instruction counters) and of the cluster (barrier, TCDM
 * requests, HWPE and DMA busy) is folded into one hash per cycle, and the two runs must agree on
 * every cycle, on the per-step statistics, on every counter of the design and on every byte of L1
 * and DRAM at the end.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../rtl-model/cluster/cluster.ts';
import type { Machine } from '../../tiler/machine.ts';
import { buildPreset } from '../../tiler/presets.ts';
import { runEncoder } from '../../tiler/run.ts';

/** FNV-style fold of 32-bit values. */
const mix = (h: number, v: number): number => Math.imul(h ^ (v | 0), 0x01000193) >>> 0;

function traced(coreClockGate: boolean) {
  const hashes: number[] = [];
  let asleep = 0;
  let machine: Machine | null = null;
  const model = buildPreset('mobilebert', { seq: 64, layers: 1 });
  const r = runEncoder(model, {
    dropWeights: true,
    beforeRun: (m) => {
      machine = m;
      const c: Cluster = m.cluster;
      c.cfg.coreClockGate = coreClockGate;
      const periph = c.periph;
      c.simulator().onCycle(() => {
        let h = 0x811c9dc5;
        h = mix(h, periph.barrierOut ? 1 : 0);
        h = mix(h, periph.arrival.cur);
        h = mix(h, periph.hwpeBusy);
        h = mix(h, c.dma.isBusy ? 1 : 0);
        for (const core of c.cores) {
          if (core.asleep) asleep++;
          h = mix(h, core.pc.cur);
          h = mix(h, core.stall);
          h = mix(h, core.barrierOut ? 1 : 0);
          h = mix(h, core.flushI ? 1 : 0);
          h = mix(h, core.sb.cur);
          h = mix(h, core.memq.cur);
          h = mix(h, core.dreq.count | (core.drsp.count << 4) | (core.accReq.count << 8));
          h = mix(h, core.accRsp.count);
          h = mix(h, core.cycleQ.cur);
          h = mix(h, core.instret.cur);
          h = mix(h, core.wfi.cur | (core.csrStall.cur << 1));
        }
        for (const p of c.tcdm.ports) h = mix(h, p.qValid ? p.addr : 0);
        hashes.push(h);
      });
    },
  });
  const c = machine!.cluster;
  let mem = 0x811c9dc5;
  for (const bytes of [c.mem.tcdm, c.mem.dram]) {
    const words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    for (let i = 0; i < words.length; i++) mem = mix(mem, words[i]!);
  }
  return { r, hashes, asleep, stats: c.stats.snapshot(), mem };
}

describe('the cores clock gate changes no cycle', () => {
  it('one MobileBERT layer (S = 64, ITA mode): gated and clocked runs agree every cycle', () => {
    const on = traced(true);
    const off = traced(false);
    expect(on.r.bitExact).toBe(true);
    // the gate did stop cores for a good part of the run (else this test proves nothing)
    expect(on.asleep).toBeGreaterThan(on.r.cycles / 10);
    expect(off.asleep).toBe(0);
    expect(on.r.cycles).toBe(off.r.cycles);
    expect(on.hashes.length).toBe(off.hashes.length);
    const first = on.hashes.findIndex((h, i) => h !== off.hashes[i]);
    expect(first).toBe(-1);
    expect(on.r.layers).toEqual(off.r.layers);
    expect(on.r.opStats).toEqual(off.r.opStats);
    expect(on.r.stepStats).toEqual(off.r.stepStats);
    expect(on.r.timeline).toEqual(off.r.timeline);
    expect(on.stats).toEqual(off.stats);
    expect(on.mem).toBe(off.mem);
  }, 240_000);
});
