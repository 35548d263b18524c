/**
 * `hci_core_fifo` (hci): decouples an HCI-Core initiator from its target with two FIFOs of
 * `depth` words: requests (address, write enable, id, data, byte enables) go out through one,
 * responses (read data, id) come back through the other. A request is granted while the outgoing
 * FIFO has room; it is issued downstream only while the incoming FIFO can take its response. A
 * response that arrives while the incoming FIFO is full is held in `r_valid_q` / `r_data_q`.
 * `flags_o.empty` (both FIFOs empty) tells the HWPE controller that nothing is in flight.
 *
 * Evaluated in two steps around the memory-side grant: `evaluateRequest()` (needs the target's
 * request, the target's `r_ready` and the initiator-side `r_valid`), then `evaluateGrant()`.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { HciCoreIntf, WideReg } from './intf.ts';
import { HwpeStreamFifo } from './hwpe_stream_fifo.ts';

const ADD = 0;
const WEN = 1;
const ID = 2;

export class HciCoreFifo extends Module {
  /** Upstream side (the source or sink drives the request). */
  tcdm_target: HciCoreIntf;
  /** Downstream side (towards the memory). */
  readonly tcdm_initiator: HciCoreIntf;
  clear_i = 0;

  readonly i_fifo_outgoing: HwpeStreamFifo;
  readonly i_fifo_incoming: HwpeStreamFifo;
  readonly r_valid_q: Reg;
  readonly r_id_q: Reg;
  readonly r_data_q: WideReg;
  private rValidD = 0;

  constructor(parent: Module, name: string, depth: number, bytes: number) {
    super(parent, name);
    this.tcdm_target = new HciCoreIntf(`${this.path}.tcdm_target`, bytes);
    this.tcdm_initiator = new HciCoreIntf(`${this.path}.tcdm_initiator`, bytes);
    this.i_fifo_outgoing = new HwpeStreamFifo(this, 'i_fifo_outgoing', depth, bytes, true, 3);
    this.i_fifo_incoming = new HwpeStreamFifo(this, 'i_fifo_incoming', depth, bytes, false, 1);
    this.r_valid_q = this.reg('tcdm_initiator_r_valid_q', 1);
    this.r_id_q = this.reg('tcdm_initiator_r_id_q', 8);
    this.r_data_q = new WideReg(`${this.path}.tcdm_initiator_r_data_q`, bytes);
    this.state.push(this.r_data_q);
    this.port('req', 1, () => this.tcdm_initiator.req);
    this.port('gnt', 1, () => this.tcdm_initiator.gnt);
    this.port('r_valid', 1, () => this.tcdm_target.r_valid);
  }

  /** `flags_o.empty`. */
  get empty(): number {
    return this.i_fifo_incoming.empty & this.i_fifo_outgoing.empty;
  }

  /** Grant to the target and response path: state only (no dependence on this cycle's request). */
  evaluateResponse(): void {
    const t = this.tcdm_target;
    const inc = this.i_fifo_incoming;
    t.gnt = this.i_fifo_outgoing.push_ready;
    t.r_valid = inc.pop_valid;
    t.r_data = inc.pop_data;
    t.r_id = inc.popScalar(0);
  }

  /** Request side, once the target's request and the initiator's response wires are known. */
  evaluateRequest(): void {
    const t = this.tcdm_target;
    const ini = this.tcdm_initiator;
    const out = this.i_fifo_outgoing;
    const inc = this.i_fifo_incoming;
    // outgoing push
    out.push_valid = t.req;
    out.push_data = t.data;
    out.push_strb = t.be;
    out.push_scalars[ADD] = t.add;
    out.push_scalars[WEN] = t.wen;
    out.push_scalars[ID] = t.id;
    // incoming push and pop
    this.rValidD = ini.r_valid;
    inc.push_valid = this.rValidD | this.r_valid_q.cur;
    if (this.rValidD) {
      inc.push_data = ini.r_data;
      inc.push_scalars[0] = ini.r_id;
    } else {
      inc.push_data = this.r_data_q.cur;
      inc.push_scalars[0] = this.r_id_q.cur;
    }
    inc.pop_ready = t.r_ready;
    // outgoing pop -> initiator
    const notFull = inc.push_ready;
    ini.req = out.pop_valid & notFull & (inc.almost_full & ini.r_valid & (t.r_ready ^ 1) ? 0 : 1);
    ini.add = out.popScalar(ADD);
    ini.wen = out.popScalar(WEN);
    ini.id = out.popScalar(ID);
    ini.data = out.pop_data;
    ini.be = out.pop_strb;
    ini.r_ready = notFull;
  }

  /** After the downstream grant. */
  evaluateGrant(): void {
    this.i_fifo_outgoing.pop_ready = this.tcdm_initiator.gnt;
  }

  override evaluate(): void {
    this.evaluateResponse();
    this.evaluateRequest();
    this.evaluateGrant();
  }

  protected override seq(): void {
    this.i_fifo_outgoing.clear_i = this.clear_i;
    this.i_fifo_incoming.clear_i = this.clear_i;
    if (this.clear_i) {
      this.r_valid_q.nxt = 0;
      this.r_data_q.clear();
      this.r_id_q.nxt = 0;
      return;
    }
    const ready = this.i_fifo_incoming.push_ready;
    if (this.rValidD && ready) this.r_valid_q.nxt = 0;
    else if (this.rValidD) this.r_valid_q.nxt = 1;
    else if (this.r_valid_q.cur && ready) this.r_valid_q.nxt = 0;
    if (this.rValidD) {
      this.r_data_q.load(this.tcdm_initiator.r_data);
      this.r_id_q.nxt = this.tcdm_initiator.r_id;
    }
  }

  override update(): void {
    // clear must reach the FIFOs before they compute their next state
    this.seq();
    this.i_fifo_outgoing.update();
    this.i_fifo_incoming.update();
  }
}
