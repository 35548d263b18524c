/**
 * `ita_serdiv` in unsigned-division mode: a bit-serial divider. On load it aligns the divisor's
 * leading one with the dividend's (leading-zero counts), then does one restoring step per cycle,
 * `div_shift + 1` steps in all, and holds the quotient until the result is taken. A divisor larger
 * than the dividend gives 0 without iterating. Iteration count therefore depends on the data.
 */
import { Module, Reg } from '../sim/kernel.ts';
import type { CommitsWhenWritten, WrittenList } from '../sim/kernel.ts';
import { truncU, wrapS } from '../sim/bits.ts';

const IDLE = 0;
const DIVIDE = 1;
const FINISH = 2;

/** Leading zeros of a `w`-bit value (w when zero). */
function lzc(x: number, w: number): number {
  return x === 0 ? w : Math.clz32(x) - (32 - w);
}

/**
 * The divider's registers, committed together and only in cycles in which the divider computed a
 * next state (an idle divider's registers hold, so there is nothing to commit).
 */
class RegGroup implements CommitsWhenWritten {
  readonly regs: Reg[] = [];
  dirty = false;
  private list: WrittenList | null = null;
  constructor(private readonly owner: ItaSerdiv) {}
  /** The divider computed a next state this cycle. */
  touch(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.list?.add(this);
  }
  commitVia(list: WrittenList): void {
    this.list = list;
    if (this.dirty) list.add(this);
  }
  commit(): void {
    if (!this.dirty) return;
    const rs = this.regs;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      r.cur = r.nxt;
    }
    this.dirty = false;
    this.owner.stale = true;
  }
  reset(): void {
    for (const r of this.regs) r.reset();
    this.dirty = false;
    this.owner.stale = true;
  }
  changes(): boolean {
    return this.dirty && this.regs.some((r) => r.changes());
  }
}

export class ItaSerdiv extends Module {
  op_a_i = 0;
  op_b_i = 0;
  in_vld_i = 0;
  out_rdy_i = 0;
  in_rdy_o = 0;
  out_vld_o = 0;
  get res_o(): number {
    return this.res_q.cur;
  }
  readonly state_q: Reg;
  readonly op_a_q: Reg;
  readonly op_b_q: Reg;
  readonly res_q: Reg;
  readonly cnt_q: Reg;
  readonly op_b_zero_q: Reg;
  readonly div_res_zero_q: Reg;
  private readonly cntBits: number;
  private readonly group = new RegGroup(this);
  /**
   * Set when the registers may have changed (an edge after `update`, or reset): the outputs, which
   * depend on the registers only, need evaluating again. A parent may clear it once it has.
   */
  stale = true;
  readonly busyCycles = this.counter('busy_cycles');
  constructor(
    parent: Module,
    name: string,
    readonly WIDTH: number,
  ) {
    super(parent, name);
    this.cntBits = Math.ceil(Math.log2(WIDTH + 1));
    this.state.push(this.group);
    this.state_q = this.groupReg('state_q', 2);
    this.op_a_q = this.groupReg('op_a_q', WIDTH);
    this.op_b_q = this.groupReg('op_b_q', WIDTH);
    this.res_q = this.groupReg('res_q', WIDTH);
    this.cnt_q = this.groupReg('cnt_q', this.cntBits);
    this.op_b_zero_q = this.groupReg('op_b_zero_q', 1);
    this.div_res_zero_q = this.groupReg('div_res_zero_q', 1);
  }
  private groupReg(name: string, width: number): Reg {
    const r = new Reg(`${this.path}.${name}`, width);
    this.group.regs.push(r);
    this.probes.push(r);
    return r;
  }

  /** Outputs that depend on state only. */
  override evaluate(): void {
    const s = this.state_q.cur;
    this.in_rdy_o = s === IDLE ? 1 : 0;
    this.out_vld_o = s === FINISH || (s === DIVIDE && this.div_res_zero_q.cur) ? 1 : 0;
  }
  override update(): void {
    this.group.touch();
    const W = this.WIDTH;
    const s = this.state_q.cur;
    if (s === IDLE) {
      if (this.in_vld_i) {
        // load: align the divisor
        const a = this.op_a_i;
        const b = this.op_b_i;
        const shiftA = lzc(a, W);
        const divShift = b === 0 ? W : truncU(lzc(b, W) - shiftA, this.cntBits + 1);
        const neg = wrapS(divShift, this.cntBits + 1) < 0;
        this.op_a_q.nxt = a;
        this.op_b_q.nxt = divShift >= W ? 0 : truncU(b * 2 ** divShift, W);
        this.res_q.nxt = 0;
        this.cnt_q.nxt = truncU(divShift, this.cntBits);
        this.op_b_zero_q.nxt = b === 0 ? 1 : 0;
        this.div_res_zero_q.nxt = neg ? 1 : 0;
        this.state_q.nxt = DIVIDE;
        return;
      }
    } else if (s === DIVIDE) {
      this.busyCycles.value++;
      if (!this.div_res_zero_q.cur) {
        const a = this.op_a_q.cur;
        const b = this.op_b_q.cur;
        const ge = a >= b && (a !== 0 || this.op_b_zero_q.cur === 1);
        if (ge) this.op_a_q.nxt = truncU(a - b, W);
        this.op_b_q.nxt = b >>> 1;
        this.res_q.nxt = truncU(this.res_q.cur * 2 + (ge ? 1 : 0), W);
        if (this.cnt_q.cur === 0) this.state_q.nxt = FINISH;
      } else {
        this.state_q.nxt = this.out_rdy_i ? IDLE : FINISH;
      }
    } else if (s === FINISH) {
      if (this.out_rdy_i) this.state_q.nxt = IDLE;
    }
    if (this.cnt_q.cur !== 0) this.cnt_q.nxt = this.cnt_q.cur - 1;
  }
}
