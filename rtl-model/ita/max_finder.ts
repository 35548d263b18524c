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
    const x = this.x_i;
    let m = x[0]!;
    for (let i = 1; i < x.length; i++) if (x[i]! > m) m = x[i]!;
    this.max_o = this.prev_max_i > m ? this.prev_max_i : m;
  }
}
