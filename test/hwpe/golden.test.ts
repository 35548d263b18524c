/**
 * The HWPE testbench on every reference folder: every word of the nine images (Q K V QK AV OW F1
 * F2 from memory, A from the core's AV operand stream) bit-exact, and, for the folders with an
 * RTL trace (Verilated `ita_hwpe_tb`), the job table and the per-edge event log (trigger, busy,
 * start, done, event edges; granted read and write ports) byte for byte equal to the RTL's.
 */
import { describe, expect, it } from 'vitest';
import { PYITA_FOLDERS, loadGolden, text } from '../../golden/archive.ts';
import { eventsCsv, jobsCsv, runHwpeFolder } from '../../rtl-model/hwpe/run.ts';

const traces = loadGolden('rtl-traces');

function expectSameCsv(mine: string, ref: string): void {
  if (mine !== ref) {
    const a = mine.split('\n');
    const b = ref.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    expect(`line ${i}: ${a[i]}`).toBe(`line ${i}: ${b[i]}`);
  }
  expect(mine).toBe(ref);
}

describe('HWPE testbench on the reference folders', () => {
  for (const folder of PYITA_FOLDERS) {
    const traced = traces.has(`hwpe/${folder}.jobs.csv`);
    it(`${folder}: all nine images bit-exact${traced ? ', job table and event log equal to the RTL' : ''}`, () => {
      const r = runHwpeFolder(loadGolden(`pyita/${folder}`), folder);
      expect(r.images.map((i) => i.name)).toEqual(['Q', 'K', 'V', 'QK', 'AV', 'OW', 'F1', 'F2', 'A']);
      for (const img of r.images) {
        expect(img.words).toBeGreaterThan(0);
        expect({ image: img.name, first: img.first, mismatches: img.mismatches }).toEqual({
          image: img.name,
          first: null,
          mismatches: 0,
        });
      }
      expect(r.pass).toBe(true);
      if (traced) {
        expectSameCsv(jobsCsv(r.jobs), text(traces, `hwpe/${folder}.jobs.csv`));
        expectSameCsv(eventsCsv(r.events), text(traces, `hwpe/${folder}.events.csv`));
      }
    });
  }
});

describe('HWPE with 16 memory ports of 64 bits (the cluster configuration)', () => {
  it('S128_E128_P64_F128_H1_identity_seed0: same images, same jobs and beats, half the port grants', () => {
    const folder = 'S128_E128_P64_F128_H1_identity_seed0';
    const r = runHwpeFolder(loadGolden(`pyita/${folder}`), folder, { memDataWidth: 64 });
    expect(r.images.filter((i) => i.mismatches)).toEqual([]);
    const ref = text(traces, `hwpe/${folder}.jobs.csv`)
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(r.jobs.length).toBe(ref.length);
    r.jobs.forEach((j, k) => {
      const f = ref[k]!;
      expect([j.trigger, j.start, j.done, j.busy_fall, j.rd_beats, j.wr_beats]).toEqual([
        +f[2]!,
        +f[3]!,
        +f[4]!,
        +f[6]!,
        +f[9]!,
        +f[10]!,
      ]);
      expect([j.rd_port_grants, j.wr_port_grants]).toEqual([+f[11]! / 2, +f[12]! / 2]);
    });
  });
});
