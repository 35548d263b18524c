/**
 * Delay lines of scalar registers (`x_q1 <= x_d; x_q2 <= x_q1; ...`), the pipeline registers that
 * shift at every edge. The stages live in a ring buffer, so an edge writes one value however long
 * the line is, and the lines of a module are shifted by one bank (`ShiftBank`, in the module's
 * state, so a clock gate of a subtree stops them with the rest of its state).
 */
import type { Clocked, Module, Probe } from './kernel.ts';

/** Lines of values that fit 32 bits (signed). */
export class ShiftReg {
  /** Next value of stage 1; the owner writes it in every cycle the line is clocked. */
  d: number;
  private readonly buf: Int32Array;
  private readonly mask: number;
  /** Ring index of stage 1. */
  private head = 0;
  constructor(
    readonly length: number,
    readonly resetValue = 0,
  ) {
    let size = 1;
    while (size < length) size *= 2;
    this.buf = new Int32Array(size).fill(resetValue);
    this.mask = size - 1;
    this.d = resetValue;
  }
  /** Stage k (1 = the register loaded from `d`) as it is now. */
  q(k: number): number {
    return this.buf[(this.head - k + 1) & this.mask]!;
  }
  /** The edge. */
  shift(): void {
    const h = (this.head + 1) & this.mask;
    this.buf[h] = this.d;
    this.head = h;
  }
  /** Whether the next edge changes a stage. */
  changes(): boolean {
    if (this.d !== this.q(1)) return true;
    for (let k = 1; k < this.length; k++) if (this.q(k) !== this.q(k + 1)) return true;
    return false;
  }
  reset(): void {
    this.buf.fill(this.resetValue);
    this.d = this.resetValue;
    this.head = 0;
  }
  /** Stage k as a traced signal. */
  probe(name: string, width: number, k: number): Probe {
    return { name, width, read: () => this.q(k) };
  }
}

/** Shifts every delay line of a module at the edge (one call for all of them). */
class ShiftBank implements Clocked {
  readonly lines: ShiftReg[] = [];
  commit(): void {
    const ls = this.lines;
    for (let i = 0; i < ls.length; i++) ls[i]!.shift();
  }
  reset(): void {
    for (const l of this.lines) l.reset();
  }
  changes(): boolean {
    for (const l of this.lines) if (l.changes()) return true;
    return false;
  }
}
const banks = new WeakMap<Module, ShiftBank>();

/**
 * Declares a delay line of `names.length` registers of `m` (stage 1 first). Each stage is traced
 * under its name unless `traced` is false (the caller then adds the probes itself, `probe`).
 */
export function shiftReg(m: Module, names: string[], width: number, resetValue = 0, traced = true): ShiftReg {
  let bank = banks.get(m);
  if (!bank) {
    bank = new ShiftBank();
    banks.set(m, bank);
    m.state.push(bank);
  }
  const r = new ShiftReg(names.length, resetValue);
  bank.lines.push(r);
  if (traced) names.forEach((n, i) => m.probes.push(r.probe(`${m.path}.${n}`, width, i + 1)));
  return r;
}
