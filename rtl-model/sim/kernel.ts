/**
 * The clocked-simulation kernel.
 *
 * A design is a tree of `Module`s wired by their parents. Every cycle the kernel
 *   1. evaluates combinational logic (`Module.evaluate`, parents call their children in dependency
 *      order and wire their ports in between),
 *   2. lets every module compute the next state of its registers (`Module.update`, which only
 *      writes `Reg.nxt` / `RegArray.set`), and
 *   3. commits every register at once (the clock edge).
 * Registers are the only state that lives across cycles. Wires (ports) are plain fields that the
 * combinational pass recomputes each cycle; valid/ready handshakes are `Stream` objects shared by
 * the two ends.
 */

/** Anything that holds state across a clock edge. */
export interface Clocked {
  commit(): void;
  reset(): void;
  /**
   * Whether the next commit would change the held state (used to prove a subtree idle, see
   * `ClockGate`); state without it is taken to change whenever asked.
   */
  changes?(): boolean;
}

/**
 * The state written in the current cycle: state that changes only when written (a register file,
 * a FIFO) enrolls itself here on its first write of a cycle, and the simulator commits just those
 * at the edge instead of every such object every cycle. Committing unwritten state changes
 * nothing, so the edge is the same either way.
 */
export class WrittenList {
  private items: Clocked[] = [];
  private n = 0;
  add(c: Clocked): void {
    if (this.n === this.items.length) this.items.push(c);
    else this.items[this.n] = c;
    this.n++;
  }
  /** Commits everything written since the last edge. */
  commit(): void {
    const it = this.items;
    for (let i = 0; i < this.n; i++) it[i]!.commit();
    this.n = 0;
  }
}

/**
 * One piece of state's place in a `WrittenList`: `mark()` on a write enrolls its owner for the
 * next edge (once per cycle), `done()` in the owner's commit lets the next write enroll it again.
 * Until the simulator hands it a list (`via`), the owner commits every cycle as any state does.
 */
export class Enrolment {
  private list: WrittenList | null = null;
  private enrolled = false;
  constructor(private readonly owner: Clocked) {}
  mark(): void {
    if (!this.enrolled && this.list !== null) {
      this.enrolled = true;
      this.list.add(this.owner);
    }
  }
  via(list: WrittenList): void {
    this.list = list;
    if (this.enrolled) list.add(this.owner);
  }
  done(): void {
    this.enrolled = false;
  }
}

/** State that commits only in cycles it was written (see `WrittenList`). */
export interface CommitsWhenWritten extends Clocked {
  /** Enrolls in `list` on every first write of a cycle (and now, if written already). */
  commitVia(list: WrittenList): void;
}

function commitsWhenWritten(c: Clocked): c is CommitsWhenWritten {
  return typeof (c as Partial<CommitsWhenWritten>).commitVia === 'function';
}

/** A named, traceable value: registers and ports both are. */
export interface Probe {
  /** Hierarchical name, e.g. `ita.i_controller.step_q`. */
  readonly name: string;
  readonly width: number;
  read(): number | bigint;
}

/** A scalar register: `cur` is what the flop drives now, `nxt` what it takes at the next edge. */
export class Reg implements Clocked, Probe {
  cur: number;
  nxt: number;
  constructor(
    readonly name: string,
    readonly width: number,
    readonly resetValue = 0,
  ) {
    this.cur = resetValue;
    this.nxt = resetValue;
  }
  /** Holds its value unless `nxt` is written before the edge. */
  commit(): void {
    this.cur = this.nxt;
  }
  reset(): void {
    this.cur = this.resetValue;
    this.nxt = this.resetValue;
  }
  read(): number {
    return this.cur;
  }
  changes(): boolean {
    return this.nxt !== this.cur;
  }
}

/**
 * Registers committed only in cycles in which one of them was written, which the writer announces
 * with `touch()` before the edge: control and status registers written in few cycles, or a
 * design's vector registers (each of which commits only if written). Unwritten, a register's next
 * value is its value, so skipping the commit leaves the edge as it is.
 */
export class RegBank<T extends Clocked & { changes(): boolean } = Reg> implements CommitsWhenWritten {
  readonly regs: T[] = [];
  private readonly enrolment = new Enrolment(this);
  /** Some register of the bank gets a new next value in this cycle. */
  touch(): void {
    this.enrolment.mark();
  }
  commit(): void {
    const rs = this.regs;
    for (let i = 0; i < rs.length; i++) rs[i]!.commit();
    this.enrolment.done();
  }
  commitVia(list: WrittenList): void {
    this.enrolment.via(list);
  }
  changes(): boolean {
    for (const r of this.regs) if (r.changes()) return true;
    return false;
  }
  reset(): void {
    for (const r of this.regs) r.reset();
  }
}

/**
 * An array of registers (a register file or memory) of `length` words of `width` bits each.
 * Writes are queued and applied at the edge; reading `cur` between edges sees the old contents.
 * No allocation per cycle: the write queue is sized at elaboration.
 */
export class RegArray implements CommitsWhenWritten {
  readonly cur: Float64Array;
  private readonly pendIdx: Int32Array;
  private readonly pendVal: Float64Array;
  private pending = 0;
  private written: WrittenList | null = null;
  constructor(
    readonly name: string,
    readonly width: number,
    readonly length: number,
    maxWritesPerCycle = length,
    readonly resetValue = 0,
  ) {
    this.cur = new Float64Array(length).fill(resetValue);
    this.pendIdx = new Int32Array(maxWritesPerCycle);
    this.pendVal = new Float64Array(maxWritesPerCycle);
  }
  /** Queues a write of `v` to word `i`, visible after the next edge. */
  set(i: number, v: number): void {
    if (this.pending === this.pendIdx.length) throw new Error(`${this.name}: too many writes in one cycle`);
    if (this.pending === 0 && this.written !== null) this.written.add(this);
    this.pendIdx[this.pending] = i;
    this.pendVal[this.pending] = v;
    this.pending++;
  }
  get(i: number): number {
    return this.cur[i]!;
  }
  commit(): void {
    for (let k = 0; k < this.pending; k++) this.cur[this.pendIdx[k]!] = this.pendVal[k]!;
    this.pending = 0;
  }
  commitVia(list: WrittenList): void {
    this.written = list;
    if (this.pending !== 0) list.add(this);
  }
  changes(): boolean {
    for (let k = 0; k < this.pending; k++) if (this.cur[this.pendIdx[k]!] !== this.pendVal[k]) return true;
    return false;
  }
  reset(): void {
    this.cur.fill(this.resetValue);
    this.pending = 0;
  }
}

/** A valid/ready handshake with a payload; the producer drives valid and data, the consumer ready. */
export class Stream<T> {
  valid = false;
  ready = false;
  constructor(
    readonly name: string,
    public data: T,
  ) {}
  /** True in a cycle where the payload moves. */
  get fire(): boolean {
    return this.valid && this.ready;
  }
}

/** Named statistics (counters), registered by modules and dumped together. */
export class Stats {
  private readonly counters = new Map<string, { value: number }>();
  counter(name: string): { value: number } {
    let c = this.counters.get(name);
    if (!c) {
      c = { value: 0 };
      this.counters.set(name, c);
    }
    return c;
  }
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.counters) out[k] = v.value;
    return out;
  }
  reset(): void {
    for (const v of this.counters.values()) v.value = 0;
  }
}

/**
 * The clock of a subtree that the simulator can stop while the subtree provably sits still.
 *
 * The owner decides when: a subtree whose inputs are idle in a cycle, whose outputs are idle and
 * whose next state equals its state (`settled()`) computes the same nothing in every following
 * cycle with idle inputs (the model is a function of state and inputs), so it need not be
 * evaluated, updated or committed until an input changes. The owner then stops calling the
 * subtree and sets `enabled = false`; it re-enables the clock in the first cycle an input is not
 * idle, before evaluating the subtree.
 */
export class ClockGate {
  enabled = true;
  readonly regs: Reg[] = [];
  readonly others: Clocked[] = [];
  /**
   * State the gate does not commit but that must be still for the subtree to be settled: the
   * subtree's state that commits only when written (the simulator's `WrittenList` commits it), and
   * state outside the subtree that belongs to it (e.g. a bank its registers are committed by).
   */
  readonly watch: Clocked[] = [];
  /** Commits the subtree's state (the simulator calls it at every edge while enabled). */
  commit(): void {
    const rs = this.regs;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      r.cur = r.nxt;
    }
    const o = this.others;
    for (let i = 0; i < o.length; i++) o[i]!.commit();
  }
  reset(): void {
    for (const r of this.regs) r.reset();
    for (const o of this.others) o.reset();
  }
  /** True when the next edge leaves every register of the subtree as it is. */
  settled(): boolean {
    for (const r of this.regs) if (r.nxt !== r.cur) return false;
    for (const o of this.others) if (o.changes === undefined || o.changes()) return false;
    for (const o of this.watch) if (o.changes === undefined || o.changes()) return false;
    return true;
  }
}

/** Base class of every modelled RTL module. */
export abstract class Module {
  readonly path: string;
  readonly children: Module[] = [];
  readonly state: Clocked[] = [];
  readonly probes: Probe[] = [];
  readonly stats: Stats;
  /** A clock gate of this subtree (its state is committed through the gate), or null. */
  gate: ClockGate | null = null;

  constructor(
    readonly parent: Module | null,
    readonly instName: string,
    stats?: Stats,
  ) {
    this.path = parent ? `${parent.path}.${instName}` : instName;
    this.stats = stats ?? parent?.stats ?? new Stats();
    parent?.children.push(this);
  }

  /** Declares a register of this module. */
  protected reg(name: string, width: number, resetValue = 0): Reg {
    const r = new Reg(`${this.path}.${name}`, width, resetValue);
    this.state.push(r);
    this.probes.push(r);
    return r;
  }

  /** Declares a register of this module in `bank` (committed only in cycles the bank is touched). */
  protected bankReg(bank: RegBank, name: string, width: number, resetValue = 0): Reg {
    const r = new Reg(`${this.path}.${name}`, width, resetValue);
    bank.regs.push(r);
    this.probes.push(r);
    return r;
  }

  /** Declares a register file / memory of this module. */
  protected regArray(name: string, width: number, length: number, maxWritesPerCycle = length): RegArray {
    const r = new RegArray(`${this.path}.${name}`, width, length, maxWritesPerCycle);
    this.state.push(r);
    return r;
  }

  /** Declares a combinational signal for traces and VCDs; `read` returns its current value. */
  protected port(name: string, width: number, read: () => number | bigint): void {
    this.probes.push({ name: `${this.path}.${name}`, width, read });
  }

  /** Registers a named counter in the design's statistics. */
  protected counter(name: string): { value: number } {
    return this.stats.counter(`${this.path}.${name}`);
  }

  /**
   * Combinational evaluation. The default evaluates the children in declaration order, then this
   * module's own logic; a parent whose wiring interleaves with its children overrides it.
   */
  evaluate(): void {
    const ch = this.children;
    for (let i = 0; i < ch.length; i++) ch[i]!.evaluate();
    this.comb();
  }

  /**
   * Next-state computation of the whole subtree (writes `nxt` only; nothing is visible yet): the
   * children's, in order, then this module's own. Run from a flat list built on the first call:
   * the `update` of each descendant that defines its own, the `seq` of every other module of the
   * subtree that has one, in the order the recursion would call them.
   */
  update(): void {
    if (this.updatePlan === null) {
      this.updatePlan = [];
      this.planUpdate(this.updatePlan);
      this.updateOwn = Uint8Array.from(this.updatePlan, (m) => (m.ownsUpdate() ? 1 : 0));
    }
    const plan = this.updatePlan;
    const own = this.updateOwn;
    for (let i = 0; i < plan.length; i++) {
      if (own[i] === 1) plan[i]!.update();
      else plan[i]!.seq();
    }
  }

  /** The flat list `update` runs (null until the first call), and which of them run `update`. */
  private updatePlan: Module[] | null = null;
  private updateOwn = new Uint8Array(0);
  /** Whether `update` is this module's own (not `Module.update`). */
  private ownsUpdate(): boolean {
    return this.update !== Module.prototype.update;
  }

  private planUpdate(out: Module[]): void {
    for (const c of this.children) {
      if (c.ownsUpdate()) out.push(c);
      else c.planUpdate(out);
    }
    if (this.seq !== Module.prototype.seq) out.push(this);
  }

  /** This module's own combinational logic. */
  protected comb(): void {}

  /** This module's own next-state logic. */
  protected seq(): void {}

  /** One short line describing this cycle (PyMTL-style line trace). */
  lineTrace(): string {
    return '';
  }

  /** All modules of the subtree, this one first. */
  *walk(): Generator<Module> {
    yield this;
    for (const c of this.children) yield* c.walk();
  }
}

/** Drives a module tree: one `step` is one clock cycle. */
export class Simulator {
  cycle = 0;
  private readonly clocked: Clocked[];
  /** State that commits only when written (one simulator drives a tree: the last one created). */
  private readonly written = new WrittenList();
  private readonly edgeHooks: ((cycle: number) => void)[] = [];

  /** Scalar registers, committed in one monomorphic loop (the common case, kept fast). */
  private readonly regs: Reg[];
  private readonly gates: ClockGate[] = [];

  constructor(readonly top: Module) {
    this.clocked = [];
    this.regs = [];
    this.collect(top, this.regs, this.clocked);
  }

  /** Sorts the state of `m`'s subtree into the lists that commit it (a gated subtree: its gate's). */
  private collect(m: Module, regs: Reg[], clocked: Clocked[], gate: ClockGate | null = null): void {
    if (m.gate) {
      this.gates.push(m.gate);
      gate = m.gate;
      regs = m.gate.regs;
      clocked = m.gate.others;
    }
    for (const s of m.state) {
      if (s instanceof Reg && s.constructor === Reg) regs.push(s);
      else if (commitsWhenWritten(s)) {
        s.commitVia(this.written);
        if (gate) gate.watch.push(s); // committed when written; the gate asks it whether it settled
      } else clocked.push(s);
    }
    for (const c of m.children) this.collect(c, regs, clocked, gate);
  }

  /** Calls `hook(cycle)` after the combinational pass of every cycle, before the edge. */
  onCycle(hook: (cycle: number) => void): void {
    this.edgeHooks.push(hook);
  }

  /** Applies reset to every register. */
  reset(): void {
    for (const m of this.top.walk()) for (const s of m.state) if (commitsWhenWritten(s)) s.reset();
    for (const c of this.clocked) c.reset();
    for (const r of this.regs) r.reset();
    for (const g of this.gates) g.reset();
    this.cycle = 0;
  }

  /** Evaluates combinational logic of the current cycle without advancing the clock. */
  settle(): void {
    this.top.evaluate();
  }

  /** One clock cycle: combinational pass, hooks, next-state, edge. */
  step(): void {
    this.top.evaluate();
    const hooks = this.edgeHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]!(this.cycle);
    this.top.update();
    const rs = this.regs;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      r.cur = r.nxt;
    }
    const cl = this.clocked;
    for (let i = 0; i < cl.length; i++) cl[i]!.commit();
    this.written.commit();
    const gs = this.gates;
    for (let i = 0; i < gs.length; i++) if (gs[i]!.enabled) gs[i]!.commit();
    this.cycle++;
  }

  /** Steps until `done()` holds after a cycle, or fails after `maxCycles` (a hang is an error). */
  runUntil(done: () => boolean, maxCycles: number): number {
    const start = this.cycle;
    while (!done()) {
      if (this.cycle - start >= maxCycles) {
        throw new Error(`simulation did not finish within ${maxCycles} cycles (hang?)`);
      }
      this.step();
    }
    return this.cycle - start;
  }
}
