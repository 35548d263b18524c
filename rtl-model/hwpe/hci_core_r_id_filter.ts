/**
 * `hci_core_r_id_filter` (hci): placed where a granted read is answered in the next cycle, it
 * strips the request id towards memory and gives the response the id registered with the last
 * request (`id_q`), so the out-of-order mux in front of it can steer responses.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import type { HciCoreIntf } from './intf.ts';

export class HciCoreRIdFilter extends Module {
  tcdm_target: HciCoreIntf;
  tcdm_initiator: HciCoreIntf;
  clear_i = 0;
  enable_i = 1;
  readonly id_q: Reg;

  constructor(parent: Module, name: string, target: HciCoreIntf, initiator: HciCoreIntf) {
    super(parent, name);
    this.tcdm_target = target;
    this.tcdm_initiator = initiator;
    this.id_q = this.reg('id_q', 8);
  }

  /** Response side (state and memory wires only). */
  evaluateResponse(): void {
    const t = this.tcdm_target;
    const i = this.tcdm_initiator;
    t.r_data = i.r_data;
    t.r_valid = i.r_valid;
    t.r_id = this.id_q.cur;
  }

  evaluateRequest(): void {
    const t = this.tcdm_target;
    const i = this.tcdm_initiator;
    i.req = t.req;
    i.add = t.add;
    i.wen = t.wen;
    i.be = t.be;
    i.data = t.data;
    i.id = 0;
    i.r_ready = t.r_ready;
  }

  evaluateGrant(): void {
    this.tcdm_target.gnt = this.tcdm_initiator.gnt;
  }

  protected override seq(): void {
    if (this.clear_i) this.id_q.nxt = 0;
    else if (this.enable_i && this.tcdm_target.req) this.id_q.nxt = this.tcdm_target.id;
  }
}
