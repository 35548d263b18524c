/**
 * `ita_requantizer` driven directly with both stages enabled independently, new constants every
 * cycle and inputs over the whole 26-bit range: stage 1 (`shifted_q`) is the BigInt product of the
 * 8-bit multiplier and the input, shifted right with the bit shifted out last added back (when it
 * lies inside the 35-bit product); stage 2 (`requant_oup_q`) adds the offset registered one cycle
 * earlier (`add_q1`) and saturates to int8; a disabled stage registers zeros.
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { ItaRequantizer } from '../../rtl-model/ita/requantizer.ts';
import { DEFAULT_PARAMS } from '../../rtl-model/ita/params.ts';
import { strictLanes } from './mutation-lanes.ts';

class Top extends Module {
  constructor() {
    super(null, 'ita');
  }
}

const N = DEFAULT_PARAMS.N;

/** Stage 1 of ita_requantizer.sv in BigInt. */
function stage1(x: number, mult: number, shift: number): number {
  const product = BigInt.asIntN(35, BigInt(mult) * BigInt(x));
  let v = product >> BigInt(shift);
  if (shift > 0 && shift <= 35 && (BigInt.asUintN(35, product) >> BigInt(shift - 1)) & 1n) v += 1n;
  return Number(BigInt.asIntN(34, v));
}

describe('ita_requantizer, stage by stage', () => {
  it('random enables and constants every cycle against BigInt', () => {
    const top = new Top();
    const rq = new ItaRequantizer(top, 'i_requantizer', DEFAULT_PARAMS);
    const sim = new Simulator(top);
    const x = new Int32Array(N);
    rq.result_i = strictLanes(x);
    let seed = 17;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    let shifted = new Array<number>(N).fill(0);
    let addQ1 = 0;
    for (let t = 0; t < 600; t++) {
      const en = rnd(3) !== 0 ? 1 : 0;
      const enQ = rnd(3) !== 0 ? 1 : 0;
      const mult = rnd(256);
      const shift = rnd(4) === 0 ? rnd(256) : rnd(30);
      const add = rnd(256) - 128;
      for (let i = 0; i < N; i++)
        x[i] =
          rnd(6) === 0
            ? [2 ** 25 - 1, -(2 ** 25), 0, -1, 1][rnd(5)]!
            : wrap26(rnd(2 ** (1 + rnd(26))) - 2 ** rnd(26));
      rq.calc_en_i = en;
      rq.calc_en_q_i = enQ;
      rq.eps_mult_i = mult;
      rq.right_shift_i = shift;
      rq.add_i = add;
      const nOup = enQ
        ? shifted.map((v) => Math.max(-128, Math.min(127, v + addQ1)))
        : new Array<number>(N).fill(0);
      const nShifted = en ? Array.from(x, (v) => stage1(v, mult, shift)) : new Array<number>(N).fill(0);
      sim.step();
      shifted = nShifted;
      addQ1 = add;
      expect(Array.from(rq.shifted_q.cur), `shifted_q after cycle ${t}`).toEqual(shifted);
      expect(Array.from(rq.requant_oup_o), `requant_oup_q after cycle ${t}`).toEqual(nOup);
      expect(rq.add_q1.cur).toBe(addQ1);
      // the flag the parent reads to skip copying zeros: set exactly while stage 2 is disabled
      expect(rq.requantOupZero, `zero flag after cycle ${t}`).toBe(!enQ);
    }
  });

  it("shifts 34 and 35 still add the product's top bit; 36 and beyond add nothing", () => {
    // |255 x| < 2^33: for a negative product bits 33 and 34 are sign bits, so shifts 34 and 35
    // round -1 up to 0 while 36 (past the 35-bit product) leaves -1
    const top = new Top();
    const rq = new ItaRequantizer(top, 'i_requantizer', DEFAULT_PARAMS);
    const sim = new Simulator(top);
    rq.result_i = new Int32Array(N).fill(-(2 ** 25));
    rq.eps_mult_i = 255;
    rq.calc_en_i = 1;
    const shifts = [33, 34, 35, 36, 255];
    const got: number[] = [];
    for (const shift of shifts) {
      rq.right_shift_i = shift;
      sim.step();
      got.push(rq.shifted_q.cur[0]!);
    }
    expect(got).toEqual(shifts.map((sh) => stage1(-(2 ** 25), 255, sh)));
    expect(got).toEqual([-1, 0, 0, -1, -1]);
  });
});

function wrap26(v: number): number {
  return Number(BigInt.asIntN(26, BigInt(v)));
}
