/** `ita_max_finder`: the maximum of N signed bytes (pairwise tree) and a previous maximum. */
import { Module } from '../sim/kernel.ts';

export class ItaMaxFinder extends Module {
  x_i!: ArrayLike<number>;
  prev_max_i = 0;
  max_o = 0;
  constructor(parent: Module) {
    super(parent, 'i_max_finder');
    this.port('max_o', 8, () => this.max_o);
  }
  /** Computes `max_o` (called by the parent when its inputs are valid). */
  compute(): void {
    // The RTL's pairwise tree and its strict compares pick a value equal to the plain maximum.
    const x = this.x_i;
    let m = this.prev_max_i;
    for (let i = 0; i < x.length; i++) m = Math.max(m, x[i]!);
    this.max_o = m;
  }
}
