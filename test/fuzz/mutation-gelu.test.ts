/**
 * `gelu_instances` (ita_gelu.sv, N lanes) driven directly: random inputs with zero lanes and whole
 * zero rows (with and without the parent's all-zero hint), stage enables switched independently,
 * constants over their 16-bit range changing between rows. Every register is checked against
 * ita_gelu.sv read lane by lane in BigInt: stage 1 registers the input and its sign and, while
 * `calc_en_i`, (min(|x|, -b) + b)^2 (held otherwise); stage 2, while `calc_en_q_i`, registers
 * x_q1 * (sign(x_q1) * (poly_sq_q1 + c_q1) + c_q1), all wrapped to 26 bits (held otherwise).
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { ItaGelu } from '../../rtl-model/ita/gelu.ts';
import { strictLanes } from './mutation-lanes.ts';

class Top extends Module {
  constructor() {
    super(null, 'ita');
  }
}

const L = 16;
const w16 = (v: bigint): bigint => BigInt.asIntN(16, v);
const w26 = (v: bigint): bigint => BigInt.asIntN(26, v);

function polySq(x: number, b: number): number {
  const bb = w16(BigInt(b));
  const abs = w16(BigInt(x < 0 ? -x : x));
  const negB = w16(-bb);
  const poly = w16((abs > negB ? negB : abs) + bb);
  return Number(w26(poly * poly));
}

function stage2(x: number, sgn: number, psq: number, c: number): number {
  const erfL = w26(BigInt(psq) + BigInt(c));
  const erf = sgn ? w26(-erfL) : erfL;
  return Number(w26(BigInt(x) * w26(erf + BigInt(c))));
}

describe('gelu_instances against ita_gelu.sv in BigInt', () => {
  it('random traffic: every register every cycle', () => {
    const top = new Top();
    const g = new ItaGelu(top, L);
    const sim = new Simulator(top);
    const x = new Int8Array(L);
    g.data_i = strictLanes(x);
    let seed = 23;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    let data = new Array<number>(L).fill(0);
    let sgn = new Array<number>(L).fill(0);
    let psq = new Array<number>(L).fill(0);
    let out = new Array<number>(L).fill(0);
    let cQ1 = 0;
    let b = -4646;
    let c = -30372;
    for (let t = 0; t < 800; t++) {
      if (rnd(20) === 0) {
        b = rnd(65536) - 32768;
        c = rnd(65536) - 32768;
      }
      const zeroRow = rnd(4) === 0;
      for (let i = 0; i < L; i++) x[i] = zeroRow || rnd(5) === 0 ? 0 : rnd(256) - 128;
      g.calc_en_i = rnd(4) !== 0 ? 1 : 0;
      g.calc_en_q_i = rnd(4) !== 0 ? 1 : 0;
      g.b_i = b;
      g.c_i = c;
      const nOut = g.calc_en_q_i ? data.map((v, i) => stage2(v, sgn[i]!, psq[i]!, cQ1)) : out;
      const nPsq = g.calc_en_i ? Array.from(x, (v) => polySq(v, b)) : psq;
      sim.step();
      out = nOut;
      psq = nPsq;
      data = Array.from(x);
      sgn = data.map((v) => (v < 0 ? 1 : 0));
      cQ1 = c;
      const regs = [g.data_q1, g.erf_sgn_q1, g.poly_sq_q1, g.gelu_out_q2].map((r) => Array.from(r.cur));
      expect(regs, `cycle ${t}`).toEqual([data, sgn, psq, out]);
      expect(Array.from(g.data_o)).toEqual(out);
      expect(g.c_q1.cur).toBe(c);
    }
  });
});
