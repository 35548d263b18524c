/**
 * `ita_gelu`, the N lanes of `gelu_instances` side by side: the integer GELU polynomial in two
 * stages. Stage 1 clips |x| to -b, squares (x + b) (held when disabled); stage 2 adds c, applies the
 * sign, adds c again and multiplies by the delayed input (held when disabled).
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { wrapS } from '../sim/bits.ts';
import { vecReg } from './vec.ts';
import type { VecReg } from './vec.ts';

const GW = 16; // GELU_CONSTANTS_WIDTH
const OW = 26; // GELU_OUT_WIDTH

export class ItaGelu extends Module {
  b_i = 0;
  c_i = 0;
  calc_en_i = 0;
  calc_en_q_i = 0;
  /** Lane inputs (already gated to zero by the parent when not in GELU). */
  data_i!: Int8Array;
  /** Set by the parent when every lane of `data_i` is zero. */
  dataZero_i = false;
  readonly c_q1: Reg;
  readonly data_q1: VecReg;
  readonly erf_sgn_q1: VecReg;
  readonly poly_sq_q1: VecReg;
  readonly gelu_out_q2: VecReg;
  get data_o(): Int32Array {
    return this.gelu_out_q2.cur;
  }
  constructor(
    parent: Module,
    readonly lanes: number,
  ) {
    super(parent, 'gelu_instances');
    this.c_q1 = this.reg('c_q1', GW);
    this.data_q1 = vecReg(this, 'data_q1', lanes, 8);
    this.erf_sgn_q1 = vecReg(this, 'erf_sgn_q1', lanes, 1);
    this.poly_sq_q1 = vecReg(this, 'poly_sq_q1', lanes, OW);
    this.gelu_out_q2 = vecReg(this, 'gelu_out_q2', lanes, OW);
  }
  override update(): void {
    const L = this.lanes;
    const b = this.b_i;
    const negB = wrapS(-b, GW);
    // stage 2 (reads this cycle's stage-1 registers); a zero input makes every product zero
    if (this.calc_en_q_i && this.data_q1.holds(0)) this.gelu_out_q2.clear();
    else if (this.calc_en_q_i) {
      const out = this.gelu_out_q2.next();
      const c = this.c_q1.cur;
      const psq = this.poly_sq_q1.cur;
      const s = this.erf_sgn_q1.cur;
      const d = this.data_q1.cur;
      for (let i = 0; i < L; i++) {
        const erfL = wrapS(psq[i]! + c, OW);
        const erf = s[i] ? wrapS(-erfL, OW) : erfL;
        const sum = wrapS(erf + c, OW);
        out[i] = wrapS(d[i]! * sum, OW);
      }
    }
    // stage 1
    if (this.dataZero_i) {
      // every lane sees x = 0: no sign, and the same clipped square
      this.data_q1.clear();
      this.erf_sgn_q1.clear();
      if (this.calc_en_i) {
        const clipped = 0 > negB ? negB : 0;
        const poly = wrapS(clipped + b, GW);
        this.poly_sq_q1.fill(wrapS(poly * poly, OW));
      }
      this.c_q1.nxt = this.c_i;
      return;
    }
    const x = this.data_i;
    const dq = this.data_q1.next();
    const sg = this.erf_sgn_q1.next();
    const sq = this.calc_en_i ? this.poly_sq_q1.next() : null;
    for (let i = 0; i < L; i++) {
      const v = x[i]!;
      dq[i] = v;
      sg[i] = v < 0 ? 1 : 0;
      if (sq) {
        const abs = wrapS(v < 0 ? -v : v, GW);
        const clipped = abs > negB ? negB : abs;
        const poly = wrapS(clipped + b, GW);
        sq[i] = wrapS(poly * poly, OW);
      }
    }
    this.c_q1.nxt = this.c_i;
  }
}
