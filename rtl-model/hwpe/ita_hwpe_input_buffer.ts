/**
 * `ita_hwpe_input_buffer`: an 8-deep FIFO of memory words that hands each word out in
 * `inBytes / outBytes` consecutive slices (`reuse_cnt_q` selects the slice; the word is popped
 * with its last slice). Input rows: 1024-bit words, two 512-bit rows each. Weights: one slice.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { HwpeStreamFifo } from './hwpe_stream_fifo.ts';

export class ItaHwpeInputBuffer extends Module {
  // ---- data_i (push) ----
  data_i_valid = 0;
  data_i_data: Uint8Array;
  // ---- data_o ----
  data_o_ready = 0;
  data_o_valid = 0;
  readonly data_o_data: Uint8Array;

  readonly i_data_fifo: HwpeStreamFifo;
  readonly reuse_cnt_q: Reg;
  private readonly reuse: number;

  constructor(
    parent: Module,
    name: string,
    readonly inBytes: number,
    readonly outBytes: number,
  ) {
    super(parent, name);
    this.reuse = inBytes / outBytes;
    this.i_data_fifo = new HwpeStreamFifo(this, 'i_data_fifo', 8, inBytes, false);
    this.reuse_cnt_q = this.reg('reuse_cnt_q', Math.max(1, this.reuse));
    this.data_i_data = new Uint8Array(inBytes);
    this.data_o_data = new Uint8Array(outBytes);
    this.port('data_o_valid', 1, () => this.data_o_valid);
    this.port('data_o_ready', 1, () => this.data_o_ready);
  }

  /** `data_i.ready` (state only). */
  get data_i_ready(): number {
    return this.i_data_fifo.push_ready;
  }

  /** Output side from the FIFO head (state only). */
  evaluateOutput(): void {
    const f = this.i_data_fifo;
    this.data_o_valid = f.pop_valid;
    const off = this.reuse_cnt_q.cur * this.outBytes;
    const src = f.pop_data;
    const o = this.data_o_data;
    for (let i = 0; i < o.length; i++) o[i] = src[off + i]!;
  }

  /** Push side and pop handshake (needs `data_i_*` and `data_o_ready`). */
  evaluateHandshake(): void {
    const f = this.i_data_fifo;
    f.push_valid = this.data_i_valid;
    f.push_data = this.data_i_data;
    f.pop_ready = this.reuse_cnt_q.cur === this.reuse - 1 ? this.data_o_ready : 0;
  }

  override evaluate(): void {
    this.evaluateOutput();
    this.evaluateHandshake();
  }

  protected override seq(): void {
    if (this.data_o_ready && this.i_data_fifo.pop_valid) {
      const c = this.reuse_cnt_q.cur;
      this.reuse_cnt_q.nxt = c === this.reuse - 1 ? 0 : c + 1;
    }
  }
}
