/**
 * The interfaces the HWPE wrapper's modules are wired with, as plain bundles of wires shared by the
 * two ends (SystemVerilog interfaces in the RTL):
 * - `HwpeStreamIntf` (`hwpe_stream_intf_stream`): valid / ready / data / strb, data as bytes,
 * - `HciCoreIntf` (`hci_core_intf`): a TCDM-style request / grant / read-valid port,
 * plus the state holders that do not fit a scalar `Reg`: `WideReg` (a register of bytes) and
 * `SlotWrite` (a queued write into a memory of byte words), both committed at the edge.
 * Byte `k` of a word is bits `[8k+7:8k]` of the RTL vector (little-endian, as in memory).
 */
import type { Clocked } from '../sim/kernel.ts';

/** `hwpe_stream_intf_stream`: `data` and `strb` may be re-pointed each cycle (a mux without a copy). */
export class HwpeStreamIntf {
  valid = 0;
  ready = 0;
  data: Uint8Array;
  /** One byte per strobe bit (0 or 1). */
  strb: Uint8Array;
  constructor(
    readonly name: string,
    readonly bytes: number,
  ) {
    this.data = new Uint8Array(bytes);
    this.strb = new Uint8Array(bytes);
  }
}

/** `hci_core_intf` of `bytes`-wide data: request side driven by the initiator, response by the target. */
export class HciCoreIntf {
  // request (initiator -> target)
  req = 0;
  add = 0;
  /** 1 = read, 0 = write (TCDM convention). */
  wen = 1;
  be: Uint8Array;
  data: Uint8Array;
  id = 0;
  r_ready = 1;
  // response (target -> initiator)
  gnt = 0;
  r_valid = 0;
  r_data: Uint8Array;
  r_id = 0;
  constructor(
    readonly name: string,
    readonly bytes: number,
  ) {
    this.be = new Uint8Array(bytes);
    this.data = new Uint8Array(bytes);
    this.r_data = new Uint8Array(bytes);
  }
}

/** A register of `n` bytes: `load` stages the next value, the edge makes it current. */
export class WideReg implements Clocked {
  readonly cur: Uint8Array;
  private readonly nxt: Uint8Array;
  private dirty = false;
  constructor(
    readonly name: string,
    n: number,
  ) {
    this.cur = new Uint8Array(n);
    this.nxt = new Uint8Array(n);
  }
  load(src: Uint8Array, dstOffset = 0): void {
    if (!this.dirty) this.nxt.set(this.cur);
    this.nxt.set(src, dstOffset);
    this.dirty = true;
  }
  clear(): void {
    this.nxt.fill(0);
    this.dirty = true;
  }
  commit(): void {
    if (this.dirty) {
      this.cur.set(this.nxt);
      this.dirty = false;
    }
  }
  changes(): boolean {
    if (!this.dirty) return false;
    for (let i = 0; i < this.cur.length; i++) if (this.cur[i] !== this.nxt[i]) return true;
    return false;
  }
  reset(): void {
    this.cur.fill(0);
    this.nxt.fill(0);
    this.dirty = false;
  }
}

/** Writes into a memory of byte words (`slots`), staged at `write` and applied at the edge. */
export class SlotWrite implements Clocked {
  private readonly stage: Uint8Array[];
  private readonly idx: Int32Array;
  private n = 0;
  constructor(
    readonly slots: Uint8Array[],
    maxPerCycle = 1,
  ) {
    const bytes = slots[0]!.length;
    this.stage = Array.from({ length: maxPerCycle }, () => new Uint8Array(bytes));
    this.idx = new Int32Array(maxPerCycle);
  }
  write(i: number, src: Uint8Array): void {
    this.stage[this.n]!.set(src);
    this.idx[this.n] = i;
    this.n++;
  }
  commit(): void {
    for (let k = 0; k < this.n; k++) this.slots[this.idx[k]!]!.set(this.stage[k]!);
    this.n = 0;
  }
  changes(): boolean {
    for (let k = 0; k < this.n; k++) {
      const slot = this.slots[this.idx[k]!]!;
      const st = this.stage[k]!;
      for (let i = 0; i < slot.length; i++) if (slot[i] !== st[i]) return true;
    }
    return false;
  }
  reset(): void {
    for (const s of this.slots) s.fill(0);
    this.n = 0;
  }
}
