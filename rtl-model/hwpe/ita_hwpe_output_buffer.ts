/**
 * `ita_hwpe_output_buffer`: packs two 16-byte output words of the core into one memory word
 * (bytes 0..15 and 64..79, i.e. the same 16 columns of two consecutive rows, with their byte
 * strobes) and queues it in an 8-deep FIFO for the output sink.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { WideReg } from './intf.ts';
import { HwpeStreamFifo } from './hwpe_stream_fifo.ts';

const REUSE_FACTOR = 2;

export class ItaHwpeOutputBuffer extends Module {
  // data_i (from the core)
  data_i_valid = 0;
  data_i_data: Uint8Array;
  // data_o (to the sink)
  data_o_ready = 0;

  readonly i_data_fifo: HwpeStreamFifo;
  readonly reuse_cnt_q: Reg;
  readonly data_q: WideReg;
  readonly strb_q: WideReg;
  private readonly dataD: Uint8Array;
  private readonly strbD: Uint8Array;
  private readonly ones: Uint8Array;

  constructor(
    parent: Module,
    name: string,
    readonly inBytes: number,
    readonly outBytes: number,
  ) {
    super(parent, name);
    this.i_data_fifo = new HwpeStreamFifo(this, 'i_data_fifo', 8, outBytes, true);
    this.reuse_cnt_q = this.reg('reuse_cnt_q', 2);
    this.data_q = new WideReg(`${this.path}.data_q`, outBytes);
    this.strb_q = new WideReg(`${this.path}.data_strb_q`, outBytes);
    this.state.push(this.data_q, this.strb_q);
    this.data_i_data = new Uint8Array(inBytes);
    this.dataD = new Uint8Array(outBytes);
    this.strbD = new Uint8Array(outBytes);
    this.ones = new Uint8Array(inBytes).fill(1);
  }

  /** `data_i.ready` (state only). */
  get data_i_ready(): number {
    return this.i_data_fifo.push_ready;
  }
  get data_o_valid(): number {
    return this.i_data_fifo.pop_valid;
  }
  get data_o_data(): Uint8Array {
    return this.i_data_fifo.pop_data;
  }
  get data_o_strb(): Uint8Array {
    return this.i_data_fifo.pop_strb;
  }

  /** Needs `data_i_*` and `data_o_ready`. */
  protected override comb(): void {
    const f = this.i_data_fifo;
    const last = this.reuse_cnt_q.cur === REUSE_FACTOR - 1;
    f.push_valid = last ? this.data_i_valid : 0;
    f.pop_ready = this.data_o_ready;
    if (this.data_i_valid) {
      const off = (this.reuse_cnt_q.cur * this.outBytes) / REUSE_FACTOR;
      this.dataD.set(this.data_q.cur);
      this.strbD.set(this.strb_q.cur);
      this.dataD.set(this.data_i_data, off);
      this.strbD.set(this.ones, off);
      f.push_data = this.dataD;
      f.push_strb = this.strbD;
    }
  }

  override evaluate(): void {
    this.comb();
  }

  protected override seq(): void {
    if (!this.data_i_valid) return;
    if (this.i_data_fifo.push_ready) {
      const c = this.reuse_cnt_q.cur;
      if (c === REUSE_FACTOR - 1) {
        this.reuse_cnt_q.nxt = 0;
        this.data_q.clear();
        this.strb_q.clear();
        return;
      }
      this.reuse_cnt_q.nxt = c + 1;
    }
    this.data_q.load(this.dataD);
    this.strb_q.load(this.strbD);
  }
}
