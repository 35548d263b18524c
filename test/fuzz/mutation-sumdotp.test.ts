/**
 * `ita_sumdotp` / `ita_dotp` driven directly with other parameters than ITA's defaults: an odd
 * number of weight-row pairs (the unpaired tail of the evaluation), short rows, and a narrow WO
 * where the RTL's `int_dotp` chain wraps. Each unit's output is checked against a BigInt dot product
 * of the 9-bit (sign- or zero-extended) input and the int8 weights, wrapped to WO bits.
 */
import { describe, expect, it } from 'vitest';
import { Module } from '../../rtl-model/sim/kernel.ts';
import { ItaSumdotp, PAIR_SCALE, packWeightPair, packWeights } from '../../rtl-model/ita/sumdotp.ts';
import { DEFAULT_PARAMS } from '../../rtl-model/ita/params.ts';
import type { ItaParams } from '../../rtl-model/ita/params.ts';
import { strictLanes } from './mutation-lanes.ts';

class Top extends Module {
  constructor() {
    super(null, 'ita');
  }
}

function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n: number): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((s / 2 ** 31) * n);
  };
}

function dotOracle(x: Int8Array, w: Int8Array, n: number, M: number, signed: boolean, WO: number): number {
  let s = 0n;
  for (let m = 0; m < M; m++) s += BigInt(signed ? x[m]! : x[m]! & 0xff) * BigInt(w[n * M + m]!);
  return Number(BigInt.asIntN(WO, s));
}

describe('ita_sumdotp over other shapes and widths', () => {
  for (const [N, M, WO] of [
    [2, 64, 26],
    [6, 5, 26],
    [10, 64, 13],
    [16, 64, 26],
    [16, 64, 9],
    [4, 1, 26],
  ] as const) {
    it(`N=${N} M=${M} WO=${WO}: every unit equals the wrapped BigInt dot product`, () => {
      const p: ItaParams = { ...DEFAULT_PARAMS, N, M, WO };
      const top = new Top();
      const s = new ItaSumdotp(top, p);
      const rnd = lcg(N * 1000 + M * 10 + WO);
      const packed = new Float64Array((N / 2) * M);
      for (let t = 0; t < 40; t++) {
        const x = new Int8Array(M);
        const w = new Int8Array(N * M);
        const pick = (): number => (t < 4 ? [-128, 127, -128, -1][t]! : rnd(256) - 128);
        for (let m = 0; m < M; m++) x[m] = pick();
        for (let i = 0; i < N * M; i++) w[i] = t < 4 ? (i % 3 === 0 ? 127 : -128) : rnd(256) - 128;
        s.inp1_i = strictLanes(x);
        s.inp2_packed_i = packWeights(w, N, M, packed);
        for (const mode of [1, 0]) {
          s.sign_mode_i = mode;
          s.compute();
          const exp = Array.from({ length: N }, (_, n) => dotOracle(x, w, n, M, mode === 1, WO));
          expect(Array.from(s.oup_o), `case ${t} sign_mode ${mode}`).toEqual(exp);
        }
      }
      expect(top.stats.snapshot()['ita.i_sumdotp.macs']).toBe(80 * N * M);
      expect(top.probes.length + s.probes.length).toBe(1);
      expect([s.probes[0]!.name, s.probes[0]!.width]).toEqual(['ita.i_sumdotp.oup_o', N * WO]);
    });
  }

  it('packs weight rows in pairs, the odd row scaled by 2^24', () => {
    expect(PAIR_SCALE).toBe(2 ** 24);
    expect(packWeightPair(-3, 5)).toBe(-3 + 5 * 2 ** 24);
    const w = Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // N = 4, M = 3
    // exactly N/2 x M doubles are written: a longer buffer keeps its tail
    const out = new Float64Array(8).fill(-1);
    packWeights(w, 4, 3, out);
    expect(Array.from(out.subarray(6))).toEqual([-1, -1]);
    expect(Array.from(packWeights(w, 4, 3, new Float64Array(6)))).toEqual([
      1 + 4 * PAIR_SCALE,
      2 + 5 * PAIR_SCALE,
      3 + 6 * PAIR_SCALE,
      7 + 10 * PAIR_SCALE,
      8 + 11 * PAIR_SCALE,
      9 + 12 * PAIR_SCALE,
    ]);
  });

  it('rejects an odd number of units', () => {
    expect(() => new ItaSumdotp(new Top(), { ...DEFAULT_PARAMS, N: 3 })).toThrow('N must be even');
  });
});
