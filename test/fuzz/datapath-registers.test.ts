/**
 * What the output-level properties cannot see, found by mutation testing: the requantiser's
 * registers as a waveform shows them. The RTL's `always_comb` drives `shifted_d` and
 * `requant_oup_d` to zero when a stage is disabled, so a disabled stage registers zeros; and the
 * registers keep the RTL's names and widths (EMS + WO = 34-bit lanes, int8 lanes, 8-bit add), so a
 * VCD of the model lines up with one of the RTL.
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { ItaRequantizer } from '../../rtl-model/ita/requantizer.ts';
import { DEFAULT_PARAMS } from '../../rtl-model/ita/params.ts';

class Top extends Module {
  constructor() {
    super(null, 'ita');
  }
}

function bench(): { rq: ItaRequantizer; sim: Simulator; x: Int32Array } {
  const top = new Top();
  const rq = new ItaRequantizer(top, 'i_requantizer', DEFAULT_PARAMS);
  const sim = new Simulator(top);
  const x = new Int32Array(DEFAULT_PARAMS.N);
  rq.result_i = x;
  return { rq, sim, x };
}

describe('ita_requantizer registers (waveform view)', () => {
  it('names and widths as in the RTL', () => {
    const { rq } = bench();
    const N = DEFAULT_PARAMS.N;
    expect(rq.probes.map((p) => [p.name, p.width])).toEqual([
      ['ita.i_requantizer.shifted_q', N * 34],
      ['ita.i_requantizer.requant_oup_q', N * 8],
      ['ita.i_requantizer.add_q1', 8],
    ]);
  });

  it('a disabled stage registers zeros; enabled again it computes', () => {
    const { rq, sim, x } = bench();
    const lanes = (a: ArrayLike<number>): number[] => Array.from(a, (v) => v + 0);
    const zeros = new Array(DEFAULT_PARAMS.N).fill(0);
    x.fill(1000);
    x[DEFAULT_PARAMS.N - 1] = -1000;
    rq.eps_mult_i = 3;
    rq.right_shift_i = 4;
    rq.add_i = 5;
    // reset state: stage 2 output is zero
    expect(rq.requantOupZero).toBe(true);
    rq.calc_en_i = 1;
    rq.calc_en_q_i = 0;
    sim.step();
    // 3000 >> 4 = 187.5 -> 188; -3000 >> 4 = -187.5 -> -187
    expect(lanes(rq.shifted_q.cur)).toEqual(zeros.map((_, i) => (i === 15 ? -187 : 188)));
    expect(lanes(rq.requant_oup_q.cur)).toEqual(zeros);
    expect(rq.add_q1.cur).toBe(5);
    rq.calc_en_i = 0;
    rq.calc_en_q_i = 1;
    sim.step();
    expect(lanes(rq.shifted_q.cur)).toEqual(zeros);
    expect(lanes(rq.requant_oup_q.cur)).toEqual(zeros.map((_, i) => (i === 15 ? -128 : 127)));
    expect(rq.requantOupZero).toBe(false);
    rq.calc_en_q_i = 0;
    sim.step();
    expect(lanes(rq.requant_oup_q.cur)).toEqual(zeros);
    expect(rq.requantOupZero).toBe(true);
    sim.step();
    expect(lanes(rq.shifted_q.cur)).toEqual(zeros);
    expect(lanes(rq.requant_oup_q.cur)).toEqual(zeros);
    expect(rq.requantOupZero).toBe(true);
    // enabled again after the zeros: computes, and stage 2 of a zero input gives the add
    x.fill(0);
    rq.calc_en_i = 1;
    sim.step();
    rq.calc_en_i = 0;
    rq.calc_en_q_i = 1;
    rq.add_i = -7;
    sim.step();
    // the add is registered: this cycle still adds the previous 5
    expect(lanes(rq.requant_oup_q.cur)).toEqual(zeros.map(() => 5));
    rq.calc_en_q_i = 0;
    sim.step();
    rq.calc_en_i = 1;
    rq.calc_en_q_i = 1;
    sim.step();
    expect(lanes(rq.requant_oup_q.cur)).toEqual(zeros.map(() => -7));
  });
});
