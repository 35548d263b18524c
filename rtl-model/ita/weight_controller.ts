/**
 * `ita_weight_controller`: fills the two halves of the weight buffer, N_WRITE_EN words per half
 * (one word per weight handshake), and serves one read per datapath handshake; a half is released
 * after S reads.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import type { ItaParams } from './params.ts';

export class ItaWeightController extends Module {
  inp_weight_valid_i = 0;
  weight_ready_i = 0;
  inp_weight_ready_o = 0;
  weight_valid_o = 0;
  read_en_o = 0;
  write_en_o = 0;
  /** Word index written this cycle (the single set bit of `write_select_o`). */
  write_select_idx = 0;
  get read_addr_o(): number {
    return this.read_addr_q.cur;
  }
  get write_addr_o(): number {
    return this.write_addr_q.cur;
  }
  readonly status_q: Reg;
  readonly write_addr_q: Reg;
  readonly read_addr_q: Reg;
  readonly next_q: Reg;
  readonly weight_cnt_q: Reg;
  private readonly nWriteEn: number;
  constructor(
    parent: Module,
    readonly p: ItaParams,
    nWriteEn: number,
  ) {
    super(parent, 'i_weight_controller');
    this.nWriteEn = nWriteEn;
    this.status_q = this.reg('status_q', 2);
    this.write_addr_q = this.reg('write_addr_q', 1);
    this.read_addr_q = this.reg('read_addr_q', 1);
    this.next_q = this.reg('next_q', Math.log2(nWriteEn));
    this.weight_cnt_q = this.reg('weight_cnt_q', 7);
    this.port('inp_weight_ready_o', 1, () => this.inp_weight_ready_o);
    this.port('weight_valid_o', 1, () => this.weight_valid_o);
  }
  /** Outputs that depend on state only (evaluated before the controller). */
  combValid(): void {
    this.weight_valid_o = (this.status_q.cur >> this.read_addr_q.cur) & 1;
    this.inp_weight_ready_o = ((this.status_q.cur >> this.write_addr_q.cur) & 1) ^ 1;
  }
  override evaluate(): void {
    this.write_en_o = this.inp_weight_ready_o && this.inp_weight_valid_i ? 1 : 0;
    this.write_select_idx = this.next_q.cur;
    this.read_en_o = this.weight_valid_o && this.weight_ready_i ? 1 : 0;
  }
  override update(): void {
    let status = this.status_q.cur;
    if (this.write_en_o) {
      const next = (this.next_q.cur + 1) % this.nWriteEn;
      this.next_q.nxt = next;
      if (next === 0) {
        status |= 1 << this.write_addr_q.cur;
        this.write_addr_q.nxt = this.write_addr_q.cur ^ 1;
      }
    }
    if (this.read_en_o) {
      let cnt = this.weight_cnt_q.cur + 1;
      if (cnt === this.p.S) {
        cnt = 0;
        status &= ~(1 << this.read_addr_q.cur);
        this.read_addr_q.nxt = this.read_addr_q.cur ^ 1;
      }
      this.weight_cnt_q.nxt = cnt;
    }
    this.status_q.nxt = status;
  }
}
