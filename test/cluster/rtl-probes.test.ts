/**
 * The cluster model against the Verilated Snitch cluster RTL on the programs of `sw/probes`
 * (`golden/data/snitch-rtl-probes.zip`): LR/SC and atomics on DRAM words from several harts, and
 * TCDM -> TCDM and mixed-direction DMA queues beside computing cores. Each gives the RTL's cycle
 * count and exit code, and every hart issues every instruction on the RTL's cycle; a failure
 * names the first instruction whose issue cycle differs.
 */
import { describe, expect, it } from 'vitest';
import {
  describeDifference,
  firstDifference,
  probeIssues,
  probeRun,
  snitchRtlProbes,
} from '../../golden/snitch_rtl.ts';

const probes = snitchRtlProbes();

describe('Snitch cluster against its RTL: timing probes', () => {
  it('keeps the LR/SC and the DMA probes', () => {
    const names = probes.map((p) => p.program);
    for (const n of ['lrsc_dram2', 'lrsc_dram8', 'atomics', 'dma', 'dmaone1', 'dmatt3', 'dmamix7'])
      expect(names).toContain(n);
  });
  for (const row of probes) {
    it(`${row.program}: ${row.cycles} cycles, every hart's instructions on the RTL's cycles`, () => {
      const { cluster, issues } = probeRun(row.program);
      const r = cluster.run(200_000);
      expect(r.finished).toBe(true);
      const parts: string[] = [];
      for (let h = 0; h < 9; h++) {
        const d = firstDifference(probeIssues(row.program, h), issues[h]!);
        if (d) parts.push(`hart ${h} ${describeDifference(d)}`);
      }
      expect(parts.join('; ') || 'equal').toBe('equal');
      expect(r.cycles).toBe(row.cycles);
      expect(r.exitCode).toBe(row.exitCode);
    });
  }
});
