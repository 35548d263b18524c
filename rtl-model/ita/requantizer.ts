/**
 * `ita_requantizer` (signed mode): stage 1 multiplies by the 8-bit unsigned multiplier and shifts
 * right with rounding half up (`shifted_q`); stage 2 adds the (one-cycle delayed) offset and
 * saturates to 8 bits (`requant_oup_q`). Both stages register zeros when disabled.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { satS } from '../sim/bits.ts';
import type { ItaParams } from './params.ts';
import { vecReg8, vecRegWide } from './vec.ts';
import type { VecReg } from './vec.ts';

export class ItaRequantizer extends Module {
  eps_mult_i = 0;
  right_shift_i = 0;
  calc_en_i = 0;
  calc_en_q_i = 0;
  result_i!: Int32Array;
  /** Set by the parent when every lane of `result_i` is zero. */
  resultZero_i = false;
  add_i = 0;
  readonly shifted_q: VecReg<Float64Array>;
  readonly requant_oup_q: VecReg<Int8Array>;
  readonly add_q1: Reg;
  private oupZero = true;
  /** True while `requant_oup_q` holds zeros written by a disabled stage 2. */
  get requantOupZero(): boolean {
    return this.oupZero;
  }
  get requant_oup_o(): Int8Array {
    return this.requant_oup_q.cur;
  }
  constructor(
    parent: Module,
    name: string,
    readonly p: ItaParams,
  ) {
    super(parent, name);
    this.shifted_q = vecRegWide(this, 'shifted_q', p.N, 8 + p.WO);
    this.requant_oup_q = vecReg8(this, 'requant_oup_q', p.N);
    this.add_q1 = this.reg('add_q1', 8);
  }
  override update(): void {
    const N = this.p.N;
    if (this.calc_en_i && this.resultZero_i) {
      // a zero product shifts and rounds to zero
      this.shifted_q.clear();
    } else if (this.calc_en_i) {
      const s = this.shifted_q.next();
      const r = this.result_i;
      const mult = this.eps_mult_i;
      const sh = this.right_shift_i;
      // |eps * x| < 2^8 * 2^(WO-1): the product and its shifted value always fit the
      // EMS+WO-bit register, so no wrap is needed here. The rounding bit product[sh-1] exists
      // only while sh <= EMS+WO+1 (the product's width); right_shift_i is 8 bits wide.
      // `sraRoundIn(mult * r[i], sh, pw)` per lane: a product times a power of two is exact in
      // doubles, so floor(x / 2^k) is Math.floor(x * 2^-k) (`+ 0` keeps -0 out, as sra does).
      const pw = 8 + this.p.WO + 1;
      if (sh === 0) for (let i = 0; i < N; i++) s[i] = mult * r[i]! + 0;
      else if (sh <= pw) {
        const c = 2 ** -(sh - 1);
        for (let i = 0; i < N; i++) s[i] = Math.floor((Math.floor(mult * r[i]! * c) + 1) * 0.5);
      } else {
        const c = 2 ** -sh;
        for (let i = 0; i < N; i++) s[i] = Math.floor(mult * r[i]! * c) + 0;
      }
    } else this.shifted_q.clear();
    if (this.calc_en_q_i && this.shifted_q.holds(0)) {
      // every lane is the saturated offset
      this.requant_oup_q.fill(satS(this.add_q1.cur, 8));
      this.oupZero = false;
    } else if (this.calc_en_q_i) {
      const o = this.requant_oup_q.next();
      const s = this.shifted_q.cur;
      const add = this.add_q1.cur;
      for (let i = 0; i < N; i++) o[i] = satS(s[i]! + add, 8);
      this.oupZero = false;
    } else if (!this.oupZero) {
      this.requant_oup_q.clear();
      this.oupZero = true;
    }
    this.add_q1.nxt = this.add_i;
  }
}
