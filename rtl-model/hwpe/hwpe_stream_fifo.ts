/**
 * `hwpe_stream_fifo` (hwpe-stream): a FIFO of `depth` words between a push and a pop stream, no
 * fall-through (a word pushed at an edge can leave from the next cycle on). The state machine
 * EMPTY / MIDDLE / FULL is kept as an occupancy count: push is taken on `push_valid` unless FULL
 * (ready = not FULL), pop on `pop_ready` unless EMPTY (valid = not EMPTY). The latch (SCM) version
 * reads through a registered pop pointer and writes through a clock gate, which with the write
 * visible after the writing edge behaves as this flop version.
 *
 * A word is `bytes` data bytes, optionally as many strobe bytes, and `nScalar` narrow fields
 * (address, write enable, id) kept as numbers. `pop_data` points into the storage: read it in the
 * same cycle, do not keep it.
 */
import { Module } from '../sim/kernel.ts';
import type { Clocked, Reg } from '../sim/kernel.ts';
import { SlotWrite } from './intf.ts';

class ScalarSlotWrite implements Clocked {
  readonly stage: Float64Array;
  private idx = -1;
  constructor(
    readonly slots: Float64Array,
    readonly n: number,
  ) {
    this.stage = new Float64Array(n);
  }
  write(i: number, src: Float64Array): void {
    this.stage.set(src);
    this.idx = i;
  }
  commit(): void {
    if (this.idx >= 0) this.slots.set(this.stage, this.idx * this.n);
    this.idx = -1;
  }
  changes(): boolean {
    if (this.idx < 0) return false;
    for (let i = 0; i < this.n; i++) if (this.slots[this.idx * this.n + i] !== this.stage[i]) return true;
    return false;
  }
  reset(): void {
    this.slots.fill(0);
    this.idx = -1;
  }
}

export class HwpeStreamFifo extends Module {
  // ---- push side (driven by the producer) ----
  push_valid = 0;
  push_data: Uint8Array;
  push_strb: Uint8Array;
  readonly push_scalars: Float64Array;
  // ---- pop side ----
  pop_ready = 0;
  /** Clears pointers and state at the next edge. */
  clear_i = 0;

  readonly count: Reg;
  readonly push_pointer_q: Reg;
  readonly pop_pointer_q: Reg;
  private readonly dataSlots: Uint8Array[];
  private readonly strbSlots: Uint8Array[];
  private readonly scalarSlots: Float64Array;
  private readonly dataWr: SlotWrite | null;
  private readonly strbWr: SlotWrite | null;
  private readonly scalarWr: ScalarSlotWrite | null;
  private readonly zero: Uint8Array;
  private readonly zeroScalars: Float64Array;

  constructor(
    parent: Module,
    name: string,
    readonly depth: number,
    readonly bytes: number,
    withStrb: boolean,
    readonly nScalar = 0,
  ) {
    super(parent, name);
    this.count = this.reg('count', 8);
    this.push_pointer_q = this.reg('push_pointer_q', 8);
    this.pop_pointer_q = this.reg('pop_pointer_q', 8);
    this.zero = new Uint8Array(Math.max(bytes, 1));
    this.push_data = this.zero;
    this.push_strb = this.zero;
    this.push_scalars = new Float64Array(nScalar);
    this.zeroScalars = new Float64Array(nScalar);
    this.dataSlots = Array.from({ length: depth }, () => new Uint8Array(Math.max(bytes, 1)));
    this.strbSlots = withStrb ? Array.from({ length: depth }, () => new Uint8Array(bytes)) : [];
    this.scalarSlots = new Float64Array(depth * nScalar);
    this.dataWr = bytes > 0 ? new SlotWrite(this.dataSlots) : null;
    this.strbWr = withStrb ? new SlotWrite(this.strbSlots) : null;
    this.scalarWr = nScalar > 0 ? new ScalarSlotWrite(this.scalarSlots, nScalar) : null;
    for (const w of [this.dataWr, this.strbWr, this.scalarWr]) if (w) this.state.push(w);
    this.port('push_valid', 1, () => this.push_valid);
    this.port('push_ready', 1, () => this.push_ready);
    this.port('pop_valid', 1, () => this.pop_valid);
    this.port('pop_ready', 1, () => this.pop_ready);
  }

  get push_ready(): number {
    return this.count.cur < this.depth ? 1 : 0;
  }
  get pop_valid(): number {
    return this.count.cur > 0 ? 1 : 0;
  }
  get empty(): number {
    return this.count.cur === 0 ? 1 : 0;
  }
  get full(): number {
    return this.count.cur === this.depth ? 1 : 0;
  }
  /** `flags_o.almost_full` (the RTL sets it, like almost_empty, when exactly one word is held). */
  get almost_full(): number {
    return this.count.cur === 1 && this.depth > 1 ? 1 : 0;
  }
  /** Head word (zero while empty, as the RTL masks it). */
  get pop_data(): Uint8Array {
    return this.count.cur > 0 ? this.dataSlots[this.pop_pointer_q.cur]! : this.zero;
  }
  get pop_strb(): Uint8Array {
    return this.count.cur > 0 && this.strbSlots.length ? this.strbSlots[this.pop_pointer_q.cur]! : this.zero;
  }
  /** Narrow field `k` of the head word. */
  popScalar(k: number): number {
    return this.count.cur > 0
      ? this.scalarSlots[this.pop_pointer_q.cur * this.nScalar + k]!
      : this.zeroScalars[k]!;
  }

  protected override seq(): void {
    if (this.clear_i) {
      this.count.nxt = 0;
      this.push_pointer_q.nxt = 0;
      this.pop_pointer_q.nxt = 0;
      return;
    }
    const c = this.count.cur;
    const push = this.push_valid && c < this.depth ? 1 : 0;
    const pop = this.pop_ready && c > 0 ? 1 : 0;
    if (push) {
      const p = this.push_pointer_q.cur;
      this.dataWr?.write(p, this.push_data);
      this.strbWr?.write(p, this.push_strb);
      this.scalarWr?.write(p, this.push_scalars);
      this.push_pointer_q.nxt = p === this.depth - 1 ? 0 : p + 1;
    }
    if (pop) {
      const q = this.pop_pointer_q.cur;
      this.pop_pointer_q.nxt = q === this.depth - 1 ? 0 : q + 1;
    }
    this.count.nxt = c + push - pop;
  }

  override lineTrace(): string {
    return `${this.count.cur}`;
  }
}
