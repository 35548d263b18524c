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
  /** Set by the parent while `data_i` is all zeros. */
  inputZero = true;
  /** `data_q1` holds zeros (so the stage-2 product is zero). */
  private q1Zero = true;
  /** `gelu_out_q2` holds zeros. */
  private outZero = true;
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
    const q1WasZero = this.q1Zero;
    // stage 2 (reads this cycle's stage-1 registers)
    if (this.calc_en_q_i) {
      if (q1WasZero) {
        // the delayed input is zero in every lane: so is the product
        if (!this.outZero) this.gelu_out_q2.clear();
        this.outZero = true;
      } else {
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
        this.outZero = false;
      }
    }
    // stage 1
    if (this.inputZero) {
      if (!q1WasZero) {
        this.data_q1.clear();
        this.erf_sgn_q1.clear();
      }
      if (this.calc_en_i) {
        // every lane sees 0: one value for all lanes
        const poly = wrapS((0 > negB ? negB : 0) + b, GW);
        this.poly_sq_q1.next().fill(wrapS(poly * poly, OW));
      }
      this.q1Zero = true;
    } else {
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
      this.q1Zero = false;
    }
    this.c_q1.nxt = this.c_i;
  }
}
