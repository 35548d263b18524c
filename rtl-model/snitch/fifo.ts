/**
 * A clocked FIFO of preallocated records: the model of the register cuts (`spill_register`, two
 * entries, full throughput, one cycle of latency) and of small queues (`fifo_v3` without fall-
 * through). `count` and the head are registered: a push is visible after the next edge, so a value
 * pushed in cycle t can be popped in cycle t+1 at the earliest. `canPush` only looks at registered
 * state, like `spill_register`'s `ready_o = ~b_full`.
 */
import type { CommitsWhenWritten, WrittenList } from '../sim/kernel.ts';

export class RegFifo<T> implements CommitsWhenWritten {
  private readonly slots: T[];
  private head = 0;
  private n = 0;
  private pushReq = false;
  private popReq = false;
  private written: WrittenList | null = null;

  constructor(
    readonly name: string,
    readonly capacity: number,
    make: () => T,
  ) {
    this.slots = Array.from({ length: capacity }, make);
  }

  /** Number of valid entries (registered). */
  get count(): number {
    return this.n;
  }
  get valid(): boolean {
    return this.n > 0;
  }
  get canPush(): boolean {
    return this.n < this.capacity;
  }
  /** The oldest entry (only meaningful while `valid`). */
  get first(): T {
    return this.slots[this.head]!;
  }
  /** Entry `i` counted from the head. */
  at(i: number): T {
    return this.slots[(this.head + i) % this.capacity]!;
  }
  /**
   * Claims the slot that the next edge will append and returns it to be filled in place.
   * At most one push per cycle; the caller must have checked `canPush`.
   */
  push(): T {
    if (this.pushReq || this.n >= this.capacity) throw new Error(`${this.name}: push while full`);
    if (!this.popReq && this.written !== null) this.written.add(this);
    this.pushReq = true;
    return this.slots[(this.head + this.n) % this.capacity]!;
  }
  /** Removes the head at the next edge. */
  pop(): void {
    if (this.popReq || this.n === 0) throw new Error(`${this.name}: pop while empty`);
    if (!this.pushReq && this.written !== null) this.written.add(this);
    this.popReq = true;
  }
  get popping(): boolean {
    return this.popReq;
  }
  commit(): void {
    if (this.popReq) {
      this.head = (this.head + 1) % this.capacity;
      this.n--;
      this.popReq = false;
    }
    if (this.pushReq) {
      this.n++;
      this.pushReq = false;
    }
  }
  commitVia(list: WrittenList): void {
    this.written = list;
    if (this.pushReq || this.popReq) list.add(this);
  }
  reset(): void {
    this.head = 0;
    this.n = 0;
    this.pushReq = false;
    this.popReq = false;
  }
}
