/**
 * `ita_serdiv` (unsigned division) driven directly, against plain integer division and the
 * latency the RTL's alignment gives: the divisor's leading one is aligned with the dividend's, then
 * one restoring step per cycle (`bitlen(a) - bitlen(b) + 1` steps, `WIDTH + 1` for a zero divisor),
 * then FINISH until `out_rdy_i`; a divisor longer than the dividend ends after one DIVIDE cycle with
 * quotient 0. Exhaustive at WIDTH 6, random at the softmax's WIDTH 20; handshake stalls and reset.
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { ItaSerdiv } from '../../rtl-model/ita/serdiv.ts';

class Top extends Module {
  constructor() {
    super(null, 'tb');
  }
}

const bitLen = (x: number): number => 32 - Math.clz32(x);

/** Quotient and cycles from the load edge to the first cycle with `out_vld_o` (RTL reading). */
function expected(a: number, b: number, W: number): { q: number; lat: number; steps: number } {
  if (b === 0) return { q: 2 ** W - 1, lat: W + 2, steps: W + 1 };
  if (a === 0 || bitLen(b) > bitLen(a)) return { q: 0, lat: 1, steps: 0 };
  const shift = bitLen(a) - bitLen(b);
  return { q: Math.floor(a / b), lat: shift + 2, steps: shift + 1 };
}

function bench(W: number): { d: ItaSerdiv; sim: Simulator; top: Top } {
  const top = new Top();
  const d = new ItaSerdiv(top, 'i_serdiv', W);
  return { d, sim: new Simulator(top), top };
}

/**
 * One division through the handshake: the operands are offered after `offerDelay` idle cycles
 * (in_vld low), the result taken `takeDelay` cycles after out_vld rises. The operands change to
 * garbage after the load edge, and in_vld stays high while busy (both must be ignored).
 */
function divide(
  d: ItaSerdiv,
  sim: Simulator,
  a: number,
  b: number,
  offerDelay: number,
  takeDelay: number,
): { q: number; lat: number } {
  d.in_vld_i = 0;
  d.out_rdy_i = 0;
  for (let c = 0; c < offerDelay; c++) {
    sim.settle();
    expect([d.in_rdy_o, d.out_vld_o]).toEqual([1, 0]);
    sim.step();
  }
  d.op_a_i = a;
  d.op_b_i = b;
  d.in_vld_i = 1;
  sim.settle();
  expect(d.in_rdy_o).toBe(1);
  sim.step();
  d.op_a_i = 2 ** d.WIDTH - 1 - a;
  d.op_b_i = (b * 7 + 3) % 2 ** d.WIDTH;
  let lat = 1;
  for (;;) {
    sim.settle();
    expect(d.in_rdy_o, 'in_rdy while busy').toBe(0);
    if (d.out_vld_o) break;
    sim.step();
    if (++lat > 4 * d.WIDTH) throw new Error('no result');
  }
  const q = d.res_o;
  for (let c = 0; c < takeDelay; c++) {
    sim.step();
    sim.settle();
    expect([d.out_vld_o, d.in_rdy_o, d.res_o], 'result held until taken').toEqual([1, 0, q]);
  }
  d.out_rdy_i = 1;
  d.in_vld_i = 0;
  sim.step();
  d.out_rdy_i = 0;
  sim.settle();
  expect([d.out_vld_o, d.in_rdy_o], 'idle after the result is taken').toEqual([0, 1]);
  return { q, lat };
}

describe('ita_serdiv against integer division', () => {
  it('every 6-bit dividend and divisor: quotient, latency, busy cycles', () => {
    const { d, sim, top } = bench(6);
    const busy = (): number => top.stats.snapshot()['tb.i_serdiv.busy_cycles']!;
    let k = 0;
    for (let a = 0; a < 64; a++) {
      for (let b = 0; b < 64; b++) {
        const before = busy();
        const e = expected(a, b, 6);
        const got = divide(d, sim, a, b, k % 3, (k >> 2) % 3);
        expect(got, `${a} / ${b}`).toEqual({ q: e.q, lat: e.lat });
        // DIVIDE cycles: the steps, or the one cycle that reports a zero quotient
        expect(busy() - before, `busy cycles of ${a} / ${b}`).toBe(Math.max(e.steps, 1));
        k++;
      }
    }
  });

  it('every 4-bit pair, and 8-bit pairs with a zero or one-bit divisor (counter widths 3 and 4)', () => {
    for (const W of [4, 8]) {
      const { d, sim } = bench(W);
      expect(d.cnt_q.width, `cnt_q width at WIDTH ${W}`).toBe(W === 4 ? 3 : 4);
      for (let a = 0; a < 2 ** W; a++) {
        const bs = W === 4 ? Array.from({ length: 16 }, (_, b) => b) : [0, 1, 2, 255, (a * 37) % 256];
        for (const b of bs) {
          const e = expected(a, b, W);
          expect(divide(d, sim, a, b, 0, a & 1), `${a} / ${b} at WIDTH ${W}`).toEqual({ q: e.q, lat: e.lat });
        }
      }
    }
  });

  it('random 20-bit operands (the softmax divider width), and 65280 over every divisor length', () => {
    const { d, sim } = bench(20);
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    const pairs: [number, number][] = [
      [2 ** 20 - 1, 1],
      [2 ** 20 - 1, 2 ** 20 - 1],
      [2 ** 19, 2 ** 19 + 1],
      [0, 0],
      [5, 0],
    ];
    for (let l = 1; l <= 20; l++) pairs.push([65280, 2 ** (l - 1)], [65280, 2 ** l - 1]);
    for (let t = 0; t < 600; t++) {
      const a = rnd(2 ** rnd(21));
      pairs.push([a, rnd(2 ** rnd(21))]);
    }
    for (const [a, b] of pairs) {
      const e = expected(a, b, 20);
      expect(divide(d, sim, a, b, 0, 0), `${a} / ${b}`).toEqual({ q: e.q, lat: e.lat });
    }
  });

  it('a zero quotient found at load is held in FINISH until taken, or taken at once', () => {
    const { d, sim } = bench(20);
    d.op_a_i = 3;
    d.op_b_i = 100;
    d.in_vld_i = 1;
    d.out_rdy_i = 0;
    sim.step();
    d.in_vld_i = 0;
    sim.settle();
    expect([d.out_vld_o, d.res_o, d.state_q.cur, d.div_res_zero_q.cur]).toEqual([1, 0, 1, 1]);
    sim.step();
    sim.settle();
    expect([d.out_vld_o, d.state_q.cur]).toEqual([1, 2]);
    d.out_rdy_i = 1;
    sim.step();
    sim.settle();
    expect([d.out_vld_o, d.state_q.cur]).toEqual([0, 0]);
    // taken in the DIVIDE cycle itself: straight back to IDLE
    d.in_vld_i = 1;
    sim.step();
    d.in_vld_i = 0;
    sim.settle();
    expect(d.out_vld_o).toBe(1);
    sim.step();
    sim.settle();
    expect([d.out_vld_o, d.in_rdy_o, d.state_q.cur]).toEqual([0, 1, 0]);
  });

  it('register state follows the RTL step by step (27 / 5 at width 6)', () => {
    const { d, sim } = bench(6);
    d.op_a_i = 27; // 011011
    d.op_b_i = 5; // 000101, aligned by 2: 010100
    d.in_vld_i = 1;
    d.out_rdy_i = 0;
    sim.step();
    d.in_vld_i = 0;
    const regs = (): number[] => [
      d.state_q.cur,
      d.op_a_q.cur,
      d.op_b_q.cur,
      d.res_q.cur,
      d.cnt_q.cur,
      d.op_b_zero_q.cur,
      d.div_res_zero_q.cur,
    ];
    const seen = [regs()];
    for (let c = 0; c < 4; c++) {
      sim.step();
      seen.push(regs());
    }
    expect(seen).toEqual([
      [1, 27, 20, 0, 2, 0, 0], // loaded
      [1, 7, 10, 1, 1, 0, 0], // 27 >= 20
      [1, 7, 5, 2, 0, 0, 0], // 7 < 10
      [2, 2, 2, 5, 0, 0, 0], // 7 >= 5, count was zero: FINISH
      [2, 2, 2, 5, 0, 0, 0], // held
    ]);
    // a zero divisor: no alignment shift, the flag is set and the divisor register is zero
    const z = bench(6);
    z.d.op_a_i = 9;
    z.d.op_b_i = 0;
    z.d.in_vld_i = 1;
    z.sim.step();
    expect([z.d.op_b_q.cur, z.d.cnt_q.cur, z.d.op_b_zero_q.cur, z.d.div_res_zero_q.cur]).toEqual([
      0, 6, 1, 0,
    ]);
  });

  it('the counter runs down in IDLE after an early zero result; reset clears every register', () => {
    const { d, sim } = bench(20);
    // 2^19 / 1: alignment 19, then one early exit is impossible; load and reset mid-division
    d.op_a_i = 2 ** 19;
    d.op_b_i = 1;
    d.in_vld_i = 1;
    sim.step();
    d.in_vld_i = 0;
    sim.step();
    sim.step();
    expect(d.cnt_q.cur).toBe(17);
    sim.reset();
    sim.settle();
    expect([
      d.state_q.cur,
      d.op_a_q.cur,
      d.op_b_q.cur,
      d.res_q.cur,
      d.cnt_q.cur,
      d.in_rdy_o,
      d.out_vld_o,
    ]).toEqual([0, 0, 0, 0, 0, 1, 0]);
    // a zero quotient leaves the aligned count in cnt_q: it keeps counting down while idle
    d.op_a_i = 1;
    d.op_b_i = 2 ** 19; // div_shift = 0 - 19: negative, cnt_q takes its low 5 bits (13)
    d.in_vld_i = 1;
    d.out_rdy_i = 1;
    sim.step();
    d.in_vld_i = 0;
    expect(d.cnt_q.cur).toBe((64 - 19) & 31);
    const counts: number[] = [];
    for (let c = 0; c < 4; c++) {
      sim.step();
      counts.push(d.cnt_q.cur);
    }
    expect(counts).toEqual([12, 11, 10, 9]);
    expect(d.state_q.cur).toBe(0);
  });

  it('registers keep the RTL names and widths', () => {
    const { d } = bench(20);
    expect(d.probes.map((p) => [p.name, p.width])).toEqual([
      ['tb.i_serdiv.state_q', 2],
      ['tb.i_serdiv.op_a_q', 20],
      ['tb.i_serdiv.op_b_q', 20],
      ['tb.i_serdiv.res_q', 20],
      ['tb.i_serdiv.cnt_q', 5],
      ['tb.i_serdiv.op_b_zero_q', 1],
      ['tb.i_serdiv.div_res_zero_q', 1],
    ]);
  });
});
