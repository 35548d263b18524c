/** `ita_output_controller`: output valid while the FIFO holds a word; pops on the handshake. */
import { Module } from '../sim/kernel.ts';

export class ItaOutputController extends Module {
  fifo_empty_i = 1;
  ready_i = 0;
  valid_o = 0;
  pop_from_fifo_o = 0;
  constructor(parent: Module) {
    super(parent, 'i_output_controller');
    this.port('valid_o', 1, () => this.valid_o);
    this.port('pop_from_fifo_o', 1, () => this.pop_from_fifo_o);
  }
  override evaluate(): void {
    this.valid_o = this.fifo_empty_i ? 0 : 1;
    this.pop_from_fifo_o = this.valid_o && this.ready_i ? 1 : 0;
  }
}
