/**
 * `hwpe_stream_fence` (hwpe-stream): lets `n` streams through together. All outputs are valid in
 * a cycle where every input is valid or was already captured (`fence_state_q`); an input that
 * arrives early is captured (`data_q`) and not accepted again until the group has left.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { WideReg } from './intf.ts';

export class HwpeStreamFence extends Module {
  readonly push_valid: Uint8Array;
  readonly push_data: Uint8Array[];
  readonly push_ready: Uint8Array;
  readonly pop_ready: Uint8Array;
  pop_valid = 0;
  readonly pop_data: Uint8Array[];
  clear_i = 0;

  readonly fence_state_q: Reg;
  readonly data_q: WideReg[];

  constructor(parent: Module, name: string, bytes: number[]) {
    super(parent, name);
    const n = bytes.length;
    this.push_valid = new Uint8Array(n);
    this.push_ready = new Uint8Array(n);
    this.pop_ready = new Uint8Array(n);
    this.push_data = bytes.map((b) => new Uint8Array(b));
    this.pop_data = this.push_data.slice();
    this.fence_state_q = this.reg('fence_state_q', n);
    this.data_q = bytes.map((b, i) => new WideReg(`${this.path}.data_q_${i}`, b));
    for (const d of this.data_q) this.state.push(d);
    this.port('pop_valid', 1, () => this.pop_valid);
  }

  /** Valid and data out (needs the push valids and data). */
  evaluateOutput(): void {
    const fs = this.fence_state_q.cur;
    let all = 1;
    for (let i = 0; i < this.push_valid.length; i++) {
      const held = (fs >> i) & 1;
      if (!(this.push_valid[i]! | held)) all = 0;
      this.pop_data[i] = held ? this.data_q[i]!.cur : this.push_data[i]!;
    }
    this.pop_valid = all;
  }

  /** Readies back (needs the pop readies). */
  evaluateReady(): void {
    const fs = this.fence_state_q.cur;
    for (let i = 0; i < this.push_ready.length; i++)
      this.push_ready[i] = this.pop_ready[i]! & ((fs >> i) & 1 ? 0 : 1);
  }

  override evaluate(): void {
    this.evaluateOutput();
    this.evaluateReady();
  }

  protected override seq(): void {
    const fs = this.fence_state_q.cur;
    if (this.clear_i) {
      this.fence_state_q.nxt = 0;
      for (const d of this.data_q) d.clear();
      return;
    }
    let inValid = 0;
    for (let i = 0; i < this.push_valid.length; i++) {
      if (this.push_valid[i]) {
        inValid |= 1 << i;
        if (!((fs >> i) & 1)) this.data_q[i]!.load(this.push_data[i]!);
      }
    }
    this.fence_state_q.nxt = this.pop_valid ? 0 : fs | inValid;
  }
}
