/**
 * Vector registers: a register of `lanes` equal lanes (a packed SystemVerilog array such as
 * `oup_t` or `inp_t`) held in a typed array, so the hot path allocates nothing. Writing goes through
 * `next()`, which returns the whole next-value array (the caller writes every lane); a register not
 * written in a cycle holds. The commit swaps the two arrays.
 */
import {
  RegBank,
  type Clocked,
  type CommitsWhenWritten,
  type Module,
  type Probe,
  type WrittenList,
} from '../sim/kernel.ts';

type Lanes = Int32Array | Int8Array | Uint8Array | Float64Array;

export class VecReg<T extends Lanes = Int32Array> implements Clocked {
  cur: T;
  private nxt: T;
  private written = false;
  /**
   * The value every lane of `cur` holds, or NaN when not known to be uniform. Filling a register
   * that already holds the value and is not written this cycle is then a no-op.
   */
  private curFill = 0;
  private nxtFill = NaN;
  /** The bank that commits this register (told on the first write of a cycle). */
  bank: VecBank | null = null;
  constructor(
    readonly name: string,
    readonly lanes: number,
    readonly laneWidth: number,
    make: (n: number) => T,
  ) {
    this.cur = make(lanes);
    this.nxt = make(lanes);
  }
  /** The next-value array; every lane must be written. */
  next(): T {
    if (!this.written && this.bank !== null) this.bank.touch();
    this.written = true;
    this.nxtFill = NaN;
    return this.nxt;
  }
  /** Next value = a copy of `src`. */
  load(src: ArrayLike<number>): void {
    (this.next() as Int32Array).set(src as Int32Array);
  }
  /** Next value = `v` in every lane (`v` must fit the lane type). */
  fill(v: number): void {
    if (this.written || this.curFill !== v) {
      this.nxt.fill(v);
      if (!this.written && this.bank !== null) this.bank.touch();
      this.written = true;
      this.nxtFill = v;
    }
  }
  /** Next value = all zeros. */
  clear(): void {
    this.fill(0);
  }
  /** Whether every lane holds `v` now (false when not known). */
  holds(v: number): boolean {
    return this.curFill === v;
  }
  commit(): void {
    if (this.written) {
      const t = this.cur;
      this.cur = this.nxt;
      this.nxt = t;
      this.curFill = this.nxtFill;
      this.written = false;
    }
  }
  changes(): boolean {
    if (!this.written) return false;
    for (let i = 0; i < this.lanes; i++) if (this.cur[i] !== this.nxt[i]) return true;
    return false;
  }
  reset(): void {
    this.cur.fill(0);
    this.nxt.fill(0);
    this.written = false;
    this.curFill = 0;
    this.nxtFill = NaN;
  }
}

/** Packs lanes (lane 0 least significant) into one unsigned bigint, as a waveform shows it. */
export function packLanes(a: ArrayLike<number>, laneWidth: number): bigint {
  let v = 0n;
  const w = BigInt(laneWidth);
  const mask = (1n << w) - 1n;
  for (let i = a.length - 1; i >= 0; i--) v = (v << w) | (BigInt(a[i]!) & mask);
  return v;
}

/** Declares a vector register of `m` (traced as one packed signal). */
export function vecReg(m: Module, name: string, lanes: number, laneWidth: number): VecReg<Int32Array> {
  const r = new VecReg(`${m.path}.${name}`, lanes, laneWidth, (n) => new Int32Array(n));
  addVec(m, r);
  return r;
}
/** A vector register with lanes wider than 32 bits (up to 52). */
export function vecRegWide(m: Module, name: string, lanes: number, laneWidth: number): VecReg<Float64Array> {
  const r = new VecReg(`${m.path}.${name}`, lanes, laneWidth, (n) => new Float64Array(n));
  addVec(m, r);
  return r;
}
/** `buffers`: the two arrays to hold the lanes in (default: new ones). */
export function vecReg8(
  m: Module,
  name: string,
  lanes: number,
  buffers?: [Int8Array, Int8Array],
): VecReg<Int8Array> {
  let made = 0;
  const make = buffers ? (): Int8Array => buffers[made++]! : (n: number): Int8Array => new Int8Array(n);
  const r = new VecReg(`${m.path}.${name}`, lanes, 8, make);
  addVec(m, r);
  return r;
}
/**
 * All vector registers of a design are committed by one bank (one monomorphic loop), held in the
 * root module's state; committing skips registers not written this cycle, and the bank commits
 * only in cycles one of them was written.
 */
type VecBank = RegBank<VecReg<Lanes>>;
const banks = new WeakMap<Module, VecBank>();

/** The bank that commits the vector registers of `m`'s design (undefined: it has none). */
export function vecBankOf(m: Module): Clocked | undefined {
  let root = m;
  while (root.parent) root = root.parent;
  return banks.get(root);
}

function addVec(m: Module, r: VecReg<Lanes>): void {
  let root = m;
  while (root.parent) root = root.parent;
  let bank = banks.get(root);
  if (!bank) {
    bank = new RegBank<VecReg<Lanes>>();
    banks.set(root, bank);
    root.state.push(bank);
  }
  bank.regs.push(r);
  r.bank = bank;
  const probe: Probe = {
    name: r.name,
    width: r.lanes * r.laneWidth,
    read: () => packLanes(r.cur, r.laneWidth),
  };
  m.probes.push(probe);
}

/** One stage of a `VecChain`: the register's current value. */
export interface VecStage<T extends Lanes> {
  readonly name: string;
  cur: T;
}

/**
 * A delay line of vector registers that all shift at the same edges (stage k+1 takes stage k,
 * stage 1 takes the input). The stages' arrays rotate at the edge instead of being copied: only
 * the input is copied, into the array that leaves the last stage. Committed in the cycles it was
 * given an input (`input`), like `RegArray`.
 */
export class VecChain<T extends Lanes> implements CommitsWhenWritten {
  readonly stages: VecStage<T>[] = [];
  private spare: T;
  private loaded = false;
  private list: WrittenList | null = null;
  constructor(
    names: string[],
    readonly lanes: number,
    make: (n: number) => T,
  ) {
    for (const name of names) this.stages.push({ name, cur: make(lanes) });
    this.spare = make(lanes);
  }
  /** Shifts at the next edge; returns the array to write stage 1's next value into (every lane). */
  input(): T {
    if (!this.loaded) {
      this.loaded = true;
      this.list?.add(this);
    }
    return this.spare;
  }
  commit(): void {
    if (!this.loaded) return;
    const st = this.stages;
    const last = st[st.length - 1]!.cur;
    for (let k = st.length - 1; k > 0; k--) st[k]!.cur = st[k - 1]!.cur;
    st[0]!.cur = this.spare;
    this.spare = last;
    this.loaded = false;
  }
  commitVia(list: WrittenList): void {
    this.list = list;
    if (this.loaded) list.add(this);
  }
  changes(): boolean {
    if (!this.loaded) return false;
    const st = this.stages;
    for (let k = 0; k < st.length; k++) {
      const from = k === 0 ? this.spare : st[k - 1]!.cur;
      const to = st[k]!.cur;
      for (let i = 0; i < this.lanes; i++) if (from[i] !== to[i]) return true;
    }
    return false;
  }
  reset(): void {
    for (const s of this.stages) s.cur.fill(0);
    this.spare.fill(0);
    this.loaded = false;
  }
}

/** Declares a delay line of byte-lane vector registers `names` (stage 1 first) of `m`. */
export function vecChain8(m: Module, names: string[], lanes: number): VecChain<Int8Array> {
  const c = new VecChain(
    names.map((n) => `${m.path}.${n}`),
    lanes,
    (n) => new Int8Array(n),
  );
  m.state.push(c);
  for (const st of c.stages)
    m.probes.push({ name: st.name, width: lanes * 8, read: () => packLanes(st.cur, 8) });
  return c;
}

/** Declares a packed combinational vector signal for traces. */
export function vecPort(m: Module, name: string, laneWidth: number, get: () => ArrayLike<number>): void {
  const a = get();
  m.probes.push({
    name: `${m.path}.${name}`,
    width: a.length * laneWidth,
    read: () => packLanes(get(), laneWidth),
  });
}
