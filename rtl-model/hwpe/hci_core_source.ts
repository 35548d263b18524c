/**
 * `hci_core_source` (hci) with aligned accesses only (`MISALIGNED_ACCESSES = 0`, as the ITA
 * streamer builds it): an address generator feeds a 2-deep address FIFO; each address becomes a
 * read request while the output stream is ready; read data leave as the stream (held in
 * `stream_valid_q` / `stream_data_q` while the stream stalls).
 * FSM: IDLE (`ready_start`) -> WORKING on `req_start` -> DONE when the address generator is done
 * -> IDLE (`done` for one cycle) once the address FIFO is empty and `tot_len` words have left.
 * The 8-deep FIFO of misaligned-address offsets is not modelled: with aligned accesses its
 * contents are never used and it has no handshake back.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { HciCoreIntf, HwpeStreamIntf, WideReg } from './intf.ts';
import { HwpeStreamFifo } from './hwpe_stream_fifo.ts';
import { HwpeStreamAddressgenV3, newAddressgenCtrl } from './addressgen_v3.ts';
import type { AddressgenCtrl } from './addressgen_v3.ts';

export const STREAMER_IDLE = 0;
export const STREAMER_WORKING = 1;
export const STREAMER_DONE = 2;

/** `hci_streamer_ctrl_t`. */
export interface StreamerCtrl {
  req_start: number;
  addressgen_ctrl: AddressgenCtrl;
}

export function newStreamerCtrl(): StreamerCtrl {
  return { req_start: 0, addressgen_ctrl: newAddressgenCtrl() };
}

export class HciCoreSource extends Module {
  // ---- wiring (set by the parent) ----
  tcdm: HciCoreIntf;
  readonly stream: HwpeStreamIntf;
  ctrl_i: StreamerCtrl = newStreamerCtrl();
  clear_i = 0;
  enable_i = 1;
  // ---- flags ----
  ready_start = 0;
  done = 0;

  readonly i_addressgen: HwpeStreamAddressgenV3;
  readonly i_fifo_addr: HwpeStreamFifo;
  readonly cs: Reg;
  readonly stream_valid_q: Reg;
  readonly stream_cnt_q: Reg;
  readonly stream_data_q: WideReg;
  private addressGenEn = 0;
  private addressGenClr = 0;
  private streamCntClr = 0;

  constructor(parent: Module, name: string, bytes: number) {
    super(parent, name);
    this.tcdm = new HciCoreIntf(`${this.path}.tcdm`, bytes);
    this.stream = new HwpeStreamIntf(`${this.path}.stream`, bytes);
    this.stream.strb.fill(1);
    this.i_addressgen = new HwpeStreamAddressgenV3(this, 'i_addressgen');
    this.i_fifo_addr = new HwpeStreamFifo(this, 'i_fifo_addr', 2, 0, false, 1);
    this.cs = this.reg('cs', 2);
    this.stream_valid_q = this.reg('stream_valid_q', 1);
    this.stream_cnt_q = this.reg('stream_cnt_q', 16);
    this.stream_data_q = new WideReg(`${this.path}.stream_data_q`, bytes);
    this.state.push(this.stream_data_q);
    this.port('req', 1, () => this.tcdm.req);
    this.port('stream_valid', 1, () => this.stream.valid);
    this.port('stream_ready', 1, () => this.stream.ready);
  }

  /**
   * Everything of this cycle; needs `stream.ready` (downstream) and the state-only wires of the
   * `tcdm` port (`gnt`, `r_valid`, `r_data`).
   */
  protected override comb(): void {
    const ag = this.i_addressgen;
    const af = this.i_fifo_addr;
    const t = this.tcdm;
    const s = this.stream;
    ag.ctrl_i = this.ctrl_i.addressgen_ctrl;
    ag.ready_i = af.push_ready;
    ag.presample_i = this.ctrl_i.req_start;
    ag.evaluate();
    // FSM
    const cs = this.cs.cur;
    this.ready_start = 0;
    this.done = 0;
    this.addressGenEn = 0;
    this.addressGenClr = 0;
    this.streamCntClr = 0;
    let ns = cs;
    if (cs === STREAMER_IDLE) {
      this.ready_start = 1;
      if (this.ctrl_i.req_start) {
        ns = STREAMER_WORKING;
        this.addressGenEn = 1;
      }
    } else if (cs === STREAMER_WORKING) {
      this.addressGenEn = 1;
      if (ag.done_o) ns = STREAMER_DONE;
    } else if (cs === STREAMER_DONE) {
      this.addressGenEn = 1;
      if (af.empty && this.stream_cnt_q.cur === this.ctrl_i.addressgen_ctrl.tot_len) {
        ns = STREAMER_IDLE;
        this.done = 1;
        this.addressGenEn = 0;
        this.addressGenClr = 1;
        this.streamCntClr = 1;
      }
    }
    this.ns = ns;
    ag.enable_i = this.addressGenEn;
    // address FIFO and requests
    af.push_valid = ag.valid_o;
    af.push_scalars[0] = ag.addr_o;
    const active = cs !== STREAMER_IDLE;
    t.req = active ? af.pop_valid & s.ready : 0;
    t.add = active ? (af.popScalar(0) & ~3) >>> 0 : 0;
    t.wen = 1;
    t.id = 0;
    af.pop_ready = active ? af.pop_valid & s.ready & t.gnt : 0;
    // read data -> stream
    t.r_ready = s.ready;
    s.valid = this.enable_i & (t.r_valid | this.stream_valid_q.cur);
    s.data = t.r_valid ? t.r_data : this.stream_data_q.cur;
  }
  private ns = 0;

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
    const t = this.tcdm;
    const s = this.stream;
    this.i_addressgen.clear_i = this.addressGenClr | this.clear_i;
    this.i_fifo_addr.clear_i = this.clear_i;
    if (this.clear_i) {
      this.stream_valid_q.nxt = 0;
      this.stream_data_q.clear();
      this.cs.nxt = STREAMER_IDLE;
      this.stream_cnt_q.nxt = 0;
      return;
    }
    if (this.enable_i) {
      if (t.r_valid && s.ready) this.stream_valid_q.nxt = 0;
      else if (t.r_valid) this.stream_valid_q.nxt = 1;
      else if (this.stream_valid_q.cur && s.ready) this.stream_valid_q.nxt = 0;
      if (t.r_valid) this.stream_data_q.load(t.r_data);
      this.cs.nxt = this.ns;
    }
    if (this.streamCntClr) this.stream_cnt_q.nxt = 0;
    else if (this.enable_i && s.valid && s.ready)
      this.stream_cnt_q.nxt = (this.stream_cnt_q.cur + 1) & 0xffff;
  }
}
