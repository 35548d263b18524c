/**
 * `ita_inp1_mux`: replicates the 64-element input row to all N dot-product units when the datapath
 * is enabled, zero otherwise. All N copies are equal, so the model keeps one row.
 */
import { Module } from '../sim/kernel.ts';
import type { ItaParams } from './params.ts';

export class ItaInp1Mux extends Module {
  calc_en_i = 0;
  inp_i!: Int8Array;
  /** One row of `inp1_o` (every unit sees the same row). */
  readonly inp1_o: Int8Array;
  constructor(parent: Module, p: ItaParams) {
    super(parent, 'i_inp1_mux');
    this.inp1_o = new Int8Array(p.M);
  }
  override evaluate(): void {
    if (this.calc_en_i) this.inp1_o.set(this.inp_i);
  }
}
