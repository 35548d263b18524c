/**
 * `ita_hwpe_input_bias_fence`: fences the input-row stream with the bias stream so the core gets
 * a row and its bias word in the same cycle. With bias disabled the bias side is always valid
 * with zero data and the bias buffer is never popped.
 */
import { Module } from '../sim/kernel.ts';
import { HwpeStreamFence } from './hwpe_stream_fence.ts';

export class ItaHwpeInputBiasFence extends Module {
  bias_disable_i = 0;
  clear_i = 0;
  // inputs
  input_valid = 0;
  input_data: Uint8Array;
  bias_valid = 0;
  bias_data: Uint8Array;
  input_o_ready = 0;
  bias_o_ready = 0;
  // outputs
  input_ready = 0;
  bias_ready = 0;
  out_valid = 0;
  input_o_data: Uint8Array;
  bias_o_data: Uint8Array;

  readonly i_fence: HwpeStreamFence;
  private readonly zeroBias: Uint8Array;

  constructor(parent: Module, name: string, inputBytes: number, biasBytes: number) {
    super(parent, name);
    this.i_fence = new HwpeStreamFence(this, 'i_fence', [inputBytes, biasBytes]);
    this.input_data = new Uint8Array(inputBytes);
    this.bias_data = new Uint8Array(biasBytes);
    this.zeroBias = new Uint8Array(biasBytes);
    this.input_o_data = this.input_data;
    this.bias_o_data = this.bias_data;
  }

  evaluateOutput(): void {
    const f = this.i_fence;
    f.push_valid[0] = this.input_valid;
    f.push_data[0] = this.input_data;
    f.push_valid[1] = this.bias_disable_i ? 1 : this.bias_valid;
    f.push_data[1] = this.bias_disable_i ? this.zeroBias : this.bias_data;
    f.evaluateOutput();
    this.out_valid = f.pop_valid;
    this.input_o_data = f.pop_data[0]!;
    this.bias_o_data = f.pop_data[1]!;
  }

  evaluateReady(): void {
    const f = this.i_fence;
    f.pop_ready[0] = this.input_o_ready;
    f.pop_ready[1] = this.bias_o_ready;
    f.evaluateReady();
    this.input_ready = f.push_ready[0]!;
    this.bias_ready = this.bias_disable_i ? 0 : f.push_ready[1]!;
  }

  override evaluate(): void {
    this.evaluateOutput();
    this.evaluateReady();
  }

  protected override seq(): void {
    this.i_fence.clear_i = this.clear_i;
  }

  override update(): void {
    this.seq();
    this.i_fence.update();
  }
}
