/**
 * Every reference folder through the cycle model and the standalone testbench: every output word
 * bit-exact (all heads, both testbench flows), and the output-handshake trace of head 0 byte for
 * byte equal to the RTL's (`rtl-traces/<folder>.csv`, Verilator runs of `ita_tb.sv`).
 */
import { describe, expect, it } from 'vitest';
import { PYITA_FOLDERS, loadGolden, text } from '../../golden/archive.ts';
import { runFolder, traceCsv } from '../../rtl-model/ita/run.ts';
import { dimsFromName } from '../../rtl-model/ita/standalone.ts';

const traces = loadGolden('rtl-traces');

describe('cycle model on the reference folders (no stalls)', () => {
  for (const folder of PYITA_FOLDERS) {
    const files = loadGolden(`pyita/${folder}`);
    const H = dimsFromName(folder).H;
    it(`${folder}: head 0 bit-exact and its handshake trace equals the RTL's`, () => {
      const r = runFolder(files, folder, 0);
      expect(r.firstMismatch).toBeNull();
      expect(r.mismatches).toBe(0);
      const d = dimsFromName(folder);
      const words = (d.S * d.P * 3 + d.S * d.S + d.S * d.P + d.S * d.E + d.S * d.F + d.S * d.E) / 16;
      expect(r.outputHandshakes).toBe(words);
      const mine = traceCsv(r);
      const ref = text(traces, `${folder}.csv`);
      if (mine !== ref) {
        const a = mine.split('\n');
        const b = ref.split('\n');
        const i = a.findIndex((l, k) => l !== b[k]);
        expect(`line ${i}: ${a[i]}`).toBe(`line ${i}: ${b[i]}`);
      }
      expect(mine).toBe(ref);
    });
    for (let h = 1; h < H; h++) {
      it(`${folder}: head ${h} bit-exact`, () => {
        const r = runFolder(files, folder, h);
        expect(r.firstMismatch).toBeNull();
        expect(r.mismatches).toBe(0);
      });
    }
    it(`${folder}: single-step flow (linear / single-attention layers) bit-exact`, () => {
      const r = runFolder(files, folder, H - 1, {}, 'single');
      expect(r.firstMismatch).toBeNull();
      expect(r.mismatches).toBe(0);
      expect(r.layers.map((l) => l.layer)).toEqual([
        'linear',
        'linear',
        'linear',
        'single-attention',
        'linear',
        'linear',
        'linear',
      ]);
    });
  }
});
