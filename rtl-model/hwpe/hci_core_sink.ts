/**
 * `hci_core_sink` (hci) with aligned accesses and no TCDM FIFO of its own (as the ITA streamer
 * builds it): each word of the input stream, with its byte strobes, becomes a write request at
 * the next generated address. FSM as the source; it returns to IDLE once `tot_len` addresses
 * have been used.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { HciCoreIntf } from './intf.ts';
import { HwpeStreamFifo } from './hwpe_stream_fifo.ts';
import { HwpeStreamAddressgenV3 } from './addressgen_v3.ts';
import { STREAMER_DONE, STREAMER_IDLE, STREAMER_WORKING, newStreamerCtrl } from './hci_core_source.ts';
import type { StreamerCtrl } from './hci_core_source.ts';

export class HciCoreSink extends Module {
  tcdm: HciCoreIntf;
  // ---- input stream (driven by the producer) ----
  stream_valid = 0;
  stream_data: Uint8Array;
  stream_strb: Uint8Array;
  /** `stream.ready` (output). */
  stream_ready = 0;
  ctrl_i: StreamerCtrl = newStreamerCtrl();
  clear_i = 0;
  enable_i = 1;
  ready_start = 0;

  readonly i_addressgen: HwpeStreamAddressgenV3;
  readonly i_fifo_addr: HwpeStreamFifo;
  readonly cs: Reg;
  readonly address_cnt_q: Reg;
  /** `flags_o.done` (registered in the sink). */
  readonly done_q: Reg;
  private readonly zero: Uint8Array;
  private ns = 0;
  private doneD = 0;
  private addressCntClr = 0;
  private addressCntEn = 0;
  private fsmClr = 0;

  constructor(parent: Module, name: string, bytes: number) {
    super(parent, name);
    this.tcdm = new HciCoreIntf(`${this.path}.tcdm`, bytes);
    this.zero = new Uint8Array(bytes);
    this.stream_data = this.zero;
    this.stream_strb = this.zero;
    this.i_addressgen = new HwpeStreamAddressgenV3(this, 'i_addressgen');
    this.i_fifo_addr = new HwpeStreamFifo(this, 'i_fifo_addr', 2, 0, false, 1);
    this.cs = this.reg('cs', 2);
    this.address_cnt_q = this.reg('address_cnt_q', 16);
    this.done_q = this.reg('done_q', 1);
    this.port('req', 1, () => this.tcdm.req);
    this.port('stream_valid', 1, () => this.stream_valid);
    this.port('stream_ready', 1, () => this.stream_ready);
  }

  /** Needs the input stream and the state-only `tcdm.gnt`. */
  protected override comb(): void {
    const ag = this.i_addressgen;
    const af = this.i_fifo_addr;
    const t = this.tcdm;
    ag.ctrl_i = this.ctrl_i.addressgen_ctrl;
    ag.ready_i = af.push_ready;
    ag.presample_i = this.ctrl_i.req_start;
    ag.evaluate();
    const cs = this.cs.cur;
    let ns = cs;
    let en = 0;
    let clr = 0;
    this.ready_start = 0;
    this.doneD = 0;
    this.addressCntClr = 0;
    if (cs === STREAMER_IDLE) {
      this.ready_start = 1;
      if (this.ctrl_i.req_start) {
        ns = STREAMER_WORKING;
        en = 1;
      }
    } else if (cs === STREAMER_WORKING) {
      en = 1;
      if (ag.done_o) ns = STREAMER_DONE;
    } else if (cs === STREAMER_DONE) {
      en = 1;
      if (this.address_cnt_q.cur === this.ctrl_i.addressgen_ctrl.tot_len) {
        ns = STREAMER_IDLE;
        this.doneD = 1;
        en = 0;
        clr = 1;
        this.addressCntClr = 1;
      }
    }
    this.ns = ns;
    ag.enable_i = en;
    this.fsmClr = clr;
    af.push_valid = ag.valid_o;
    af.push_scalars[0] = ag.addr_o;
    const active = cs !== STREAMER_IDLE;
    const v = this.stream_valid;
    t.req = active ? v & af.pop_valid : 0;
    t.add = active ? (af.popScalar(0) & ~3) >>> 0 : 0;
    t.wen = 0;
    t.id = 0;
    t.be = active ? this.stream_strb : this.zero;
    t.data = active ? this.stream_data : this.zero;
    t.r_ready = 1;
    this.stream_ready = v ^ 1 || t.gnt & af.pop_valid ? 1 : 0;
    const popReady = v & this.stream_ready;
    af.pop_ready = popReady;
    this.addressCntEn = af.pop_valid & popReady;
  }

  override evaluate(): void {
    this.comb();
  }

  /** `clear_i` arrives late in the cycle (from the controller): apply it before the children. */
  override update(): void {
    this.seq();
    this.i_addressgen.update();
    this.i_fifo_addr.update();
  }

  protected override seq(): void {
    this.i_addressgen.clear_i = this.fsmClr | this.clear_i;
    this.i_fifo_addr.clear_i = this.clear_i;
    if (this.clear_i) {
      this.done_q.nxt = 0;
      this.cs.nxt = STREAMER_IDLE;
      this.address_cnt_q.nxt = 0;
      return;
    }
    if (this.enable_i) {
      this.done_q.nxt = this.doneD;
      this.cs.nxt = this.ns;
    }
    if (this.addressCntClr) this.address_cnt_q.nxt = 0;
    else if (this.enable_i && this.addressCntEn)
      this.address_cnt_q.nxt = (this.address_cnt_q.cur + 1) & 0xffff;
  }
}
