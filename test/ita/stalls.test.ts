/**
 * Stalls: seeded random coin flips on input valid, weight valid and output ready (as `ita_tb`
 * without NO_STALLS) leave every output word bit-exact on every folder; and a replay of the RTL's
 * own stalled run (`per-cycle/..._stall_seed1_full.csv`) reproduces it cycle for cycle: controller
 * step, calc_en, busy, last_inner_tile, every handshake and the output word on every cycle. The two
 * unstalled per-cycle runs are compared the same way.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { PYITA_FOLDERS, loadGolden, text } from '../../golden/archive.ts';
import { runFolder, traceCsv } from '../../rtl-model/ita/run.ts';
import { randomStalls, parseCycleTrace, replayStalls } from '../../rtl-model/ita/stalls.ts';
import { CycleComparer } from '../../rtl-model/ita/cycle_compare.ts';

const traces = loadGolden('rtl-traces');

describe('random stalls keep every output bit-exact', () => {
  const probs = [0.5, 0.2, 0.7, 0.35, 0.5, 0.1, 0.6];
  PYITA_FOLDERS.forEach((folder, i) => {
    const seed = 11 + i;
    const p = probs[i]!;
    it(`${folder}: seed ${seed}, stall probability ${p}`, () => {
      const r = runFolder(loadGolden(`pyita/${folder}`), folder, 0, { stalls: randomStalls(seed, p) });
      expect(r.firstMismatch).toBeNull();
      expect(r.mismatches).toBe(0);
      // stalls really happened
      expect(r.stalls.noInput + r.stalls.noWeight).toBeGreaterThan(0);
      expect(r.stalls.outputNotReady).toBeGreaterThan(0);
    });
  });
  const small = 'S64_E64_P64_F64_H1_gelu_seed1';
  for (const [seed, p] of [
    [1, 0.5],
    [2, 0.9],
    [3, 0.05],
  ] as const) {
    it(`${small}: seed ${seed}, stall probability ${p}`, () => {
      const r = runFolder(loadGolden(`pyita/${small}`), small, 0, { stalls: randomStalls(seed, p) });
      expect(r.mismatches).toBe(0);
    });
  }
  it('output ready half of the time: output-credit stalls dominate (about 3150 cycles for 64^3 attention)', () => {
    const folder = 'S64_E64_P64_F64_H1_identity_seed0';
    const coins = randomStalls(4, 0.5);
    const r = runFolder(loadGolden(`pyita/${folder}`), folder, 0, {
      stalls: { inp: () => 1, weight: () => 1, ready: coins.ready },
    });
    expect(r.mismatches).toBe(0);
    expect(r.layers[0]!.stalls.outputCredit).toBeGreaterThan(1000);
  });
});

describe('softmax stalls (fewer dividers, shallower FIFOs than the default elaboration)', () => {
  // With the default ten dividers the divider FIFO never backs up on these data; with one divider
  // both softmax stalls (division not done at the start of AV, divider-FIFO credit at the end of
  // QK) and the output-credit stall occur, and every output word must still be right.
  for (const [folder, params] of [
    ['S64_E64_P64_F64_H1_gelu_seed1', { NumDiv: 1 }],
    ['S128_E128_P64_F256_H4_gelu_seed3', { NumDiv: 1 }],
    ['S128_E64_P128_F128_H2_relu_seed4', { NumDiv: 1, SoftFifoDepth: 1, FifoDepth: 2 }],
  ] as const) {
    it(`${folder} with ${JSON.stringify(params)}`, () => {
      const files = loadGolden(`pyita/${folder}`);
      const r = runFolder(files, folder, 0, { params });
      expect(r.mismatches).toBe(0);
      expect(r.stalls.softmaxFifo).toBeGreaterThan(0);
      if (params.NumDiv === 1 && !('FifoDepth' in params)) expect(r.stalls.softmaxDiv).toBeGreaterThan(0);
      const s = runFolder(files, folder, 0, { params, stalls: randomStalls(21, 0.4) });
      expect(s.mismatches).toBe(0);
    });
  }
});

describe('stalled RTL runs with slow softmax (NumDiv 1 and 2): replayed, same handshakes', () => {
  const DATA = join(dirname(fileURLToPath(import.meta.url)), 'data');
  const gz = (name: string): string => new TextDecoder().decode(gunzipSync(readFileSync(join(DATA, name))));
  const folder = 'S64_E64_P64_F64_H1_identity_seed0';
  for (const [run, params] of [
    ['S64_E64_P64_F64_identity_numdiv1_stall_seed3', { NumDiv: 1 }],
    [
      'S64_E64_P64_F64_identity_numdiv2_softfifo2_fifo4_stall_seed3',
      { NumDiv: 2, SoftFifoDepth: 2, FifoDepth: 4 },
    ],
  ] as const) {
    it(`${run}: every output handshake on the RTL's edge with its data`, () => {
      const coins = replayStalls(parseCycleTrace(gz(`${run}.coins.csv.gz`)));
      const r = runFolder(loadGolden(`pyita/${folder}`), folder, 0, { params, stalls: coins });
      expect(r.mismatches).toBe(0);
      expect(r.stalls.softmaxFifo).toBeGreaterThan(0);
      expect(traceCsv(r)).toBe(gz(`${run}.out.csv.gz`));
    });
  }
});

describe('RTL runs of the single-step testbench flow (linear and single-attention layers)', () => {
  const DATA = join(dirname(fileURLToPath(import.meta.url)), 'data');
  const gz = (name: string): string => new TextDecoder().decode(gunzipSync(readFileSync(join(DATA, name))));
  const folder = 'S64_E64_P64_F64_H1_identity_seed0';
  it('no stalls: the same handshake trace', () => {
    const r = runFolder(loadGolden(`pyita/${folder}`), folder, 0, {}, 'single');
    expect(r.mismatches).toBe(0);
    expect(traceCsv(r)).toBe(gz('S64_E64_P64_F64_identity_single_nostall.out.csv.gz'));
  });
  it('random stalls (seed 7) replayed: the same handshake trace', () => {
    const coins = replayStalls(
      parseCycleTrace(gz('S64_E64_P64_F64_identity_single_stall_seed7.coins.csv.gz')),
    );
    const r = runFolder(loadGolden(`pyita/${folder}`), folder, 0, { stalls: coins }, 'single');
    expect(r.mismatches).toBe(0);
    expect(traceCsv(r)).toBe(gz('S64_E64_P64_F64_identity_single_stall_seed7.out.csv.gz'));
  });
});

describe('cycle-for-cycle replay of the RTL per-cycle traces', () => {
  const runs: [string, string][] = [
    ['per-cycle/S64_E64_P64_F64_identity_stall_seed1_full.csv', 'S64_E64_P64_F64_H1_identity_seed0'],
    ['per-cycle/S64_E64_P64_F64_identity_nostall_full.csv', 'S64_E64_P64_F64_H1_identity_seed0'],
    ['per-cycle/S128_E128_P64_F128_identity_nostall_full.csv', 'S128_E128_P64_F128_H1_identity_seed0'],
  ];
  for (const [trace, folder] of runs) {
    it(`${trace}: every cycle equal`, () => {
      const t = text(traces, trace);
      const cmp = new CycleComparer(t);
      let compared = 0;
      const r = runFolder(loadGolden(`pyita/${folder}`), folder, 0, {
        stalls: replayStalls(parseCycleTrace(t)),
        observe: (c, dut) => {
          if (c < cmp.diff.rows) compared++;
          cmp.observe(c, dut);
        },
        minCycles: cmp.diff.rows,
      });
      expect(r.mismatches).toBe(0);
      expect(compared).toBe(cmp.diff.rows);
      expect(cmp.diff.first).toBeNull();
      expect(cmp.diff.mismatchedRows).toBe(0);
    });
  }
});
