/** `ita_fifo_controller`: pushes the activation's output into the output FIFO when it is done. */
import { Module } from '../sim/kernel.ts';

export class ItaFifoController extends Module {
  activation_done_i = 0;
  requant_oup_i!: Int8Array;
  fifo_full_i = 0;
  push_to_fifo_o = 0;
  get data_to_fifo_o(): Int8Array {
    return this.requant_oup_i;
  }
  constructor(parent: Module) {
    super(parent, 'i_fifo_controller');
    this.port('push_to_fifo_o', 1, () => this.push_to_fifo_o);
  }
  override evaluate(): void {
    this.push_to_fifo_o = this.activation_done_i;
  }
}
