/**
 * `ita_max_finder` driven directly: the maximum of the N signed bytes and the previous maximum,
 * against a plain reduction, on random rows with ties, a single large lane in every position, and
 * the previous maximum below, equal to and above the row's.
 */
import { describe, expect, it } from 'vitest';
import { Module } from '../../rtl-model/sim/kernel.ts';
import { ItaMaxFinder } from '../../rtl-model/ita/max_finder.ts';

class Top extends Module {
  constructor() {
    super(null, 'tb');
  }
}

describe('ita_max_finder', () => {
  it('equals max(prev, x_0..x_15) on every kind of row', () => {
    const mf = new ItaMaxFinder(new Top());
    const x = new Int8Array(16);
    mf.x_i = x;
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    const check = (prev: number): void => {
      mf.prev_max_i = prev;
      mf.compute();
      expect(mf.max_o, `${Array.from(x)} prev ${prev}`).toBe(Math.max(prev, ...x));
    };
    for (let lane = 0; lane < 16; lane++) {
      x.fill(-128);
      x[lane] = 5;
      for (const prev of [-128, 4, 5, 6, 127]) check(prev);
      x.fill(-3);
      x[lane] = -128;
      check(-128);
    }
    for (let t = 0; t < 500; t++) {
      const span = 1 + rnd(256);
      for (let i = 0; i < 16; i++) x[i] = rnd(span) - 128;
      check(rnd(256) - 128);
    }
    x.fill(127);
    check(-128);
    x.fill(-128);
    check(-128);
  });
  it('drives the max_o port', () => {
    const mf = new ItaMaxFinder(new Top());
    mf.x_i = new Int8Array(16).fill(-2);
    mf.prev_max_i = -7;
    mf.compute();
    expect(mf.probes.map((p) => [p.name, p.width, p.read()])).toEqual([['tb.i_max_finder.max_o', 8, -2]]);
  });
});
