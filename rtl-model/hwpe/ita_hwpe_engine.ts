/**
 * `ita_hwpe_engine`: the ITA core (`ita`, built with `N_WRITE_EN = 8`) behind the engine's four
 * streams: input rows (64 bytes), weight words (128 bytes), bias words (16 x 24 bits) and output
 * words (16 bytes, all strobes set). `flags_o.busy` is the core's `busy_o`.
 */
import { Module } from '../sim/kernel.ts';
import { Ita } from '../ita/ita.ts';
import { wrapS } from '../sim/bits.ts';
import type { CtrlI } from '../ita/params.ts';
import { HWPE_N_WRITE_EN } from './params.ts';

export class ItaHwpeEngine extends Module {
  readonly i_ita: Ita;
  // stream inputs (data are copied into the core's port arrays)
  input_valid = 0;
  weight_valid = 0;
  bias_valid = 0;
  output_ready = 0;
  readonly oup_bytes: Uint8Array;

  constructor(parent: Module, name: string, ctrl: CtrlI) {
    super(parent, name);
    this.i_ita = new Ita({}, HWPE_N_WRITE_EN, this, 'i_ita');
    this.i_ita.ctrl_i = ctrl;
    this.oup_bytes = new Uint8Array(this.i_ita.oup_o.length);
  }

  get input_ready(): number {
    return this.i_ita.inp_ready_o;
  }
  get weight_ready(): number {
    return this.i_ita.inp_weight_ready_o;
  }
  get bias_ready(): number {
    return this.i_ita.inp_bias_ready_o;
  }
  get output_valid(): number {
    return this.i_ita.valid_o;
  }
  get busy(): number {
    return this.i_ita.busy_o;
  }

  /** Drives the core's inputs from the streams' bytes. */
  setInputs(input: Uint8Array, weight: Uint8Array, bias: Uint8Array): void {
    const ita = this.i_ita;
    ita.inp_valid_i = this.input_valid;
    ita.inp_weight_valid_i = this.weight_valid;
    ita.inp_bias_valid_i = this.bias_valid;
    ita.ready_i = this.output_ready;
    ita.inp_i.set(input);
    ita.inp_weight_i.set(weight);
    const b = ita.inp_bias_i;
    for (let i = 0; i < b.length; i++) {
      const k = 3 * i;
      b[i] = wrapS(bias[k]! | (bias[k + 1]! << 8) | (bias[k + 2]! << 16), 24);
    }
  }

  override evaluate(): void {
    const ita = this.i_ita;
    ita.evaluate();
    const o = this.oup_bytes;
    const src = ita.oup_o;
    for (let i = 0; i < o.length; i++) o[i] = src[i]! & 0xff;
  }
}
