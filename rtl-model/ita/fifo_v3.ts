/**
 * `fifo_v3` (common_cells) in its non-fall-through mode: `data_o` is the word at the read pointer;
 * a pushed word is visible from the cycle after the push. A push while full is dropped, a pop while
 * empty ignored. Words are `width`-lane vectors of `laneBits` bits (the output FIFO: 16 bytes; the
 * softmax divider FIFO: one 19-bit sum).
 */
import { Enrolment, Module } from '../sim/kernel.ts';
import type { CommitsWhenWritten, Reg, WrittenList } from '../sim/kernel.ts';

export class FifoV3 extends Module implements CommitsWhenWritten {
  push_i = 0;
  pop_i = 0;
  data_i!: ArrayLike<number>;
  full_o = 0;
  empty_o = 1;
  readonly read_pointer_q: Reg;
  readonly write_pointer_q: Reg;
  readonly status_cnt_q: Reg;
  readonly mem: Int32Array;
  private readonly pend: Int32Array;
  private pendWrite = false;
  private pendAddr = 0;
  /** Committed at the edges of the cycles it is written in (see `WrittenList`). */
  private readonly written = new Enrolment(this);
  commitVia(list: WrittenList): void {
    this.written.via(list);
  }
  constructor(
    parent: Module,
    name: string,
    readonly depth: number,
    readonly lanes: number,
  ) {
    super(parent, name);
    const aw = Math.max(1, Math.ceil(Math.log2(depth)));
    this.read_pointer_q = this.reg('read_pointer_q', aw);
    this.write_pointer_q = this.reg('write_pointer_q', aw);
    this.status_cnt_q = this.reg('status_cnt_q', aw + 1);
    this.mem = new Int32Array(depth * lanes);
    this.pend = new Int32Array(lanes);
    this.state.push(this);
    this.port('full_o', 1, () => this.full_o);
    this.port('empty_o', 1, () => this.empty_o);
  }
  /** `usage_o`. */
  get usage_o(): number {
    return this.status_cnt_q.cur;
  }
  /** Lane `i` of `data_o`. */
  dataLane(i: number): number {
    return this.mem[this.read_pointer_q.cur * this.lanes + i]!;
  }
  /** `data_o` as a view (valid until the next edge). */
  data_o(): Int32Array {
    const b = this.read_pointer_q.cur * this.lanes;
    return this.mem.subarray(b, b + this.lanes);
  }
  override evaluate(): void {
    const cnt = this.status_cnt_q.cur;
    this.full_o = cnt === this.depth ? 1 : 0;
    this.empty_o = cnt === 0 ? 1 : 0;
  }
  override update(): void {
    const push = this.push_i && !this.full_o;
    const pop = this.pop_i && !this.empty_o;
    let cnt = this.status_cnt_q.cur;
    if (push) {
      this.pendWrite = true;
      this.pendAddr = this.write_pointer_q.cur;
      const d = this.data_i;
      for (let i = 0; i < this.lanes; i++) this.pend[i] = d[i]!;
      this.written.mark();
      this.write_pointer_q.nxt =
        this.write_pointer_q.cur === this.depth - 1 ? 0 : this.write_pointer_q.cur + 1;
      cnt++;
    }
    if (pop) {
      this.read_pointer_q.nxt = this.read_pointer_q.cur === this.depth - 1 ? 0 : this.read_pointer_q.cur + 1;
      cnt--;
    }
    this.status_cnt_q.nxt = cnt;
  }
  commit(): void {
    this.written.done();
    if (this.pendWrite) {
      this.mem.set(this.pend, this.pendAddr * this.lanes);
      this.pendWrite = false;
    }
  }
  changes(): boolean {
    if (!this.pendWrite) return false;
    const b = this.pendAddr * this.lanes;
    for (let i = 0; i < this.lanes; i++) if (this.mem[b + i] !== this.pend[i]) return true;
    return false;
  }
  reset(): void {
    this.mem.fill(0);
    this.pendWrite = false;
  }
}
