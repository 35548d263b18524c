/**
 * `ita_inp1_mux`: replicates the 64-element input row to all N dot-product units when the datapath
 * is enabled, zero otherwise. All N copies are equal, so the model keeps one row, and passes it on
 * by reference: `inp1_o` is the input row itself while enabled. Disabled, the RTL drives zeros,
 * which nothing samples (`inp1_q` loads only while enabled); the model then leaves `inp1_o` as it
 * was, so it must be read only in cycles the mux is enabled.
 */
import { Module } from '../sim/kernel.ts';
import type { ItaParams } from './params.ts';

export class ItaInp1Mux extends Module {
  calc_en_i = 0;
  inp_i!: Int8Array;
  /** One row of `inp1_o` (every unit sees the same row); valid in cycles the mux is enabled. */
  inp1_o: Int8Array;
  constructor(parent: Module, p: ItaParams) {
    super(parent, 'i_inp1_mux');
    this.inp1_o = new Int8Array(p.M);
  }
  override evaluate(): void {
    if (this.calc_en_i) this.inp1_o = this.inp_i;
  }
}
