/** `ita_inp2_mux`: passes the weight buffer's read data to the dot-product units when enabled. */
import { Module } from '../sim/kernel.ts';
import type { WeightWord } from './weight_buffer.ts';

export class ItaInp2Mux extends Module {
  calc_en_i = 0;
  weight_i!: WeightWord;
  /** `inp2_o`: the read word when enabled, zero otherwise. */
  inp2_o!: WeightWord;
  constructor(
    parent: Module,
    private readonly zero: WeightWord,
  ) {
    super(parent, 'i_inp2_mux');
  }
  override evaluate(): void {
    this.inp2_o = this.calc_en_i ? this.weight_i : this.zero;
  }
}
