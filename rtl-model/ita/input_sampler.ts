/** `ita_input_sampler`: registers the input row and its bias on every input handshake. */
import { Module } from '../sim/kernel.ts';
import type { ItaParams } from './params.ts';
import { vecReg, vecReg8 } from './vec.ts';
import type { VecReg } from './vec.ts';

export class ItaInputSampler extends Module {
  valid_i = 0;
  ready_i = 0;
  inp_i!: Int8Array;
  inp_bias_i!: Int32Array;
  readonly inp_q: VecReg<Int8Array>;
  readonly bias_q: VecReg;
  get inp_o(): Int8Array {
    return this.inp_q.cur;
  }
  get inp_bias_o(): Int32Array {
    return this.bias_q.cur;
  }
  constructor(parent: Module, p: ItaParams) {
    super(parent, 'i_input_sampler');
    this.inp_q = vecReg8(this, 'inp_q', p.M);
    this.bias_q = vecReg(this, 'bias_q', p.N, p.WO - 2);
  }
  override update(): void {
    if (this.valid_i && this.ready_i) {
      this.inp_q.load(this.inp_i);
      this.bias_q.load(this.inp_bias_i);
    }
  }
}
