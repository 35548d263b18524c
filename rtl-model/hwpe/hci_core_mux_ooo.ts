/**
 * `hci_core_mux_ooo` (hci): merges `NB_CHAN` HCI-Core initiators onto one port. Arbitration is
 * round robin: a counter advances on every granted request, and a new winner is chosen (first
 * requester from the counter on) only in the cycle after a grant or after a cycle without any
 * request; otherwise the previous winner keeps the port. Requests carry the channel index as
 * their id; responses are steered back by `r_id` (out of order allowed). With
 * `priority_force_i` the fixed `priority_i` order replaces the counter (unused by ITA).
 *
 * Evaluated in three steps: `evaluateResponse()` (route the response wires), `evaluateRequest()`
 * (winner and outgoing request), `evaluateGrant()` (the grant back to the winner).
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { HciCoreIntf } from './intf.ts';

export class HciCoreMuxOoo extends Module {
  /** Input channels (wired by the parent to the initiators). */
  readonly in: HciCoreIntf[];
  readonly out: HciCoreIntf;
  clear_i = 0;
  priority_force_i = 0;
  priority_i: number[];

  readonly rr_counter_q: Reg;
  readonly winner_q: Reg;
  readonly rr_counter_en_q: Reg;
  readonly any_req_q: Reg;
  private winnerD = 0;
  private readonly rrPriority: Int32Array;

  constructor(parent: Module, name: string, inputs: HciCoreIntf[], bytes: number) {
    super(parent, name);
    this.in = inputs;
    this.out = new HciCoreIntf(`${this.path}.out`, bytes);
    this.priority_i = inputs.map((_, i) => i);
    this.rrPriority = new Int32Array(inputs.length);
    const w = Math.max(1, Math.ceil(Math.log2(inputs.length)));
    this.rr_counter_q = this.reg('rr_counter_q', w);
    this.winner_q = this.reg('winner_q', w);
    this.rr_counter_en_q = this.reg('rr_counter_en_q', 1);
    this.any_req_q = this.reg('any_req_q', 1);
    this.port('winner_d', w, () => this.winnerD);
  }

  /** Response wires to every channel: needs `out.r_valid`, `out.r_data`, `out.r_id`. */
  evaluateResponse(): void {
    const o = this.out;
    for (let i = 0; i < this.in.length; i++) {
      const c = this.in[i]!;
      c.r_valid = o.r_id === i ? o.r_valid : 0;
      c.r_data = o.r_data;
      c.r_id = o.r_id;
    }
  }

  /** Winner and outgoing request: needs every channel's request. */
  evaluateRequest(): void {
    const n = this.in.length;
    const rr = this.rr_counter_q.cur;
    for (let i = 0; i < n; i++)
      this.rrPriority[i] = this.priority_force_i ? this.priority_i[i]! : (rr + i) % n;
    let w = this.winner_q.cur;
    if (this.rr_counter_en_q.cur || !this.any_req_q.cur) {
      w = rr;
      // the RTL loop lets the last match win: highest priority is rrPriority[0]
      for (let j = 0; j < n; j++) {
        const cand = this.rrPriority[n - j - 1]!;
        if (this.in[cand]!.req) w = cand;
      }
    }
    this.winnerD = w;
    const src = this.in[w]!;
    const o = this.out;
    o.req = src.req;
    o.add = src.add;
    o.wen = src.wen;
    o.be = src.be;
    o.data = src.data;
    o.id = w;
    o.r_ready = this.in[o.r_id]?.r_ready ?? 1;
  }

  /** Grant back to the winner: needs `out.gnt`. */
  evaluateGrant(): void {
    const g = this.out.gnt;
    for (let i = 0; i < this.in.length; i++) {
      const c = this.in[i]!;
      c.gnt = i === this.winnerD ? c.req & g : 0;
    }
  }

  override evaluate(): void {
    this.evaluateResponse();
    this.evaluateRequest();
    this.evaluateGrant();
  }

  protected override seq(): void {
    if (this.clear_i) {
      this.rr_counter_q.nxt = 0;
      this.winner_q.nxt = 0;
      this.rr_counter_en_q.nxt = 0;
      this.any_req_q.nxt = 0;
      return;
    }
    const en = this.out.req & this.out.gnt;
    const n = this.in.length;
    if (en) this.rr_counter_q.nxt = this.rr_counter_q.cur === n - 1 ? 0 : this.rr_counter_q.cur + 1;
    this.winner_q.nxt = this.winnerD;
    this.rr_counter_en_q.nxt = en;
    let any = 0;
    for (const c of this.in) any |= c.req;
    this.any_req_q.nxt = any;
  }
}
