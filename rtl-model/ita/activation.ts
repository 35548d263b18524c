/**
 * `ita_activation`: identity delays the requantised data four cycles; ReLU (`relu_instances`, on
 * the twice-delayed data) and GELU (`gelu_instances`, two stages) feed the unit's own requantiser.
 * The result is selected by the activation four cycles after the input.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { Activation } from './params.ts';
import type { ItaParams } from './params.ts';
import { ItaGelu } from './gelu.ts';
import { ItaRequantizer } from './requantizer.ts';
import { vecChain8 } from './vec.ts';
import type { VecChain, VecStage } from './vec.ts';

export class ItaActivation extends Module {
  b_i = 0;
  c_i = 0;
  requant_mult_i = 0;
  requant_shift_i = 0;
  requant_add_i = 0;
  activation_i = 0;
  activation_q2_i = 0;
  calc_en_i = 0;
  calc_en_q_i = 0;
  data_i!: Int8Array;
  /** Selected output (`data_o`). */
  data_o!: Int8Array;

  readonly activation_q3: Reg;
  readonly activation_q4: Reg;
  readonly data_q1: VecStage<Int8Array>;
  readonly data_q2: VecStage<Int8Array>;
  readonly data_q3: VecStage<Int8Array>;
  readonly data_q4: VecStage<Int8Array>;
  /** data_q1..q4: the input delayed one to four cycles. */
  private readonly dataLine: VecChain<Int8Array>;
  readonly calc_en_q2: Reg;
  readonly calc_en_q3: Reg;
  readonly i_requantizer: ItaRequantizer;
  readonly i_gelu: ItaGelu;
  private readonly geluIn: Int8Array;
  private readonly requantIn: Int32Array;
  private readonly zero8: Int8Array;
  /** `geluIn` / `requantIn` hold all zeros. */
  private geluInZero = true;
  private requantInZero = true;

  constructor(
    parent: Module,
    readonly p: ItaParams,
  ) {
    super(parent, 'i_activation');
    this.activation_q3 = this.reg('activation_q3', 2);
    this.activation_q4 = this.reg('activation_q4', 2);
    this.dataLine = vecChain8(this, ['data_q1', 'data_q2', 'data_q3', 'data_q4'], p.N);
    [this.data_q1, this.data_q2, this.data_q3, this.data_q4] = this.dataLine.stages as [
      VecStage<Int8Array>,
      VecStage<Int8Array>,
      VecStage<Int8Array>,
      VecStage<Int8Array>,
    ];
    this.calc_en_q2 = this.reg('calc_en_q2', 1);
    this.calc_en_q3 = this.reg('calc_en_q3', 1);
    this.i_requantizer = new ItaRequantizer(this, 'i_requantizer', p);
    this.i_gelu = new ItaGelu(this, p.N);
    this.geluIn = new Int8Array(p.N);
    this.requantIn = new Int32Array(p.N);
    this.zero8 = new Int8Array(p.N);
    this.i_requantizer.result_i = this.requantIn;
    this.i_gelu.data_i = this.geluIn;
  }

  override evaluate(): void {
    const N = this.p.N;
    // GELU inputs are gated to zero unless enabled and selected.
    const g = this.i_gelu;
    g.b_i = this.b_i;
    g.c_i = this.c_i;
    g.calc_en_i = this.calc_en_i;
    g.calc_en_q_i = this.calc_en_q_i;
    if (this.calc_en_i && this.activation_i === Activation.Gelu) {
      this.geluIn.set(this.data_i);
      this.geluInZero = false;
    } else if (!this.geluInZero) {
      this.geluIn.fill(0);
      this.geluInZero = true;
    }
    g.dataZero_i = this.geluInZero;
    // requant_in: GELU output, ReLU of the twice-delayed data, or zero.
    const ri = this.requantIn;
    const act2 = this.activation_q2_i;
    if (act2 === Activation.Gelu) {
      ri.set(g.data_o);
      this.requantInZero = false;
    } else if (act2 === Activation.Relu) {
      this.requantInZero = false;
      const d = this.data_q2.cur;
      const en = this.calc_en_q2.cur;
      for (let i = 0; i < N; i++) {
        const v = en ? d[i]! : 0;
        ri[i] = v > 0 ? v : 0;
      }
    } else if (!this.requantInZero) {
      ri.fill(0);
      this.requantInZero = true;
    }
    const rq = this.i_requantizer;
    rq.resultZero_i = this.requantInZero;
    rq.eps_mult_i = this.requant_mult_i;
    rq.right_shift_i = this.requant_shift_i;
    rq.add_i = this.requant_add_i;
    rq.calc_en_i = this.calc_en_q2.cur;
    rq.calc_en_q_i = this.calc_en_q3.cur;
    const a4 = this.activation_q4.cur;
    this.data_o = a4 === Activation.Gelu || a4 === Activation.Relu ? rq.requant_oup_o : this.data_q4.cur;
  }

  override update(): void {
    this.i_requantizer.update();
    this.i_gelu.update();
    this.activation_q3.nxt = this.activation_q2_i;
    this.activation_q4.nxt = this.activation_q3.cur;
    // the delay line
    this.dataLine.input().set(this.data_i ?? this.zero8);
    this.calc_en_q2.nxt = this.calc_en_q_i;
    this.calc_en_q3.nxt = this.calc_en_q2.cur;
  }
}
