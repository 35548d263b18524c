/**
 * `snitch_shared_muldiv`: the M-extension unit shared by all cores of a hive (`snitch_hive.sv`),
 * with its two children:
 *   - `snitch_shared_muldiv_multiplier`: a single-cycle 33x33 multiplier whose result is registered
 *     (`result_q`, `valid_q`); it accepts a new operation whenever its output is free or taken
 *     (`ready_o = ~valid_o | ready_i`), so back-to-back multiplies stream at one per cycle;
 *   - `snitch_shared_muldiv_serdiv`: the serial divider, a three-state machine (IDLE, DIVIDE,
 *     FINISH). IDLE loads the operands and normalises them with two leading-zero counters, DIVIDE
 *     runs one restoring step per cycle for `div_shift + 1` cycles (skipped when the divisor is
 *     already larger than the dividend), FINISH holds the result until it is taken.
 * Requests from the cores meet in a 9:1 `stream_arbiter` (`rr_arb_tree`, FairArb, LockIn: the
 * requester with the smallest index XOR pointer wins; a winner the unit cannot take freezes the
 * request set, so a division waiting for a busy divider holds back every core's request); results
 * of the two units meet in a 2:1 arbiter of the same kind (mul = 0, div = 1; a result whose core's
 * response cut is full locks it) and are routed back by the core index carried in the id: one
 * result per cycle for the whole hive.
 */
import { RrArbTree } from '../sim/rr_arb_tree.ts';
import { Module, RegBank, type Reg } from '../sim/kernel.ts';
import type { Snitch } from './core.ts';

/** High or low 32 bits of a 33x33-bit signed product, exact (BigInt-free, 16-bit limbs). */
export function mulBits(a: number, b: number, signA: boolean, signB: boolean, upper: boolean): number {
  if (!upper) return Math.imul(a, b) >>> 0;
  const negA = signA && (a | 0) < 0;
  const negB = signB && (b | 0) < 0;
  const ma = negA ? -(a | 0) : a >>> 0; // magnitude (< 2^32)
  const mb = negB ? -(b | 0) : b >>> 0;
  // 64-bit unsigned product of magnitudes as four 16-bit limbs.
  const a0 = ma % 65536;
  const a1 = Math.floor(ma / 65536);
  const b0 = mb % 65536;
  const b1 = Math.floor(mb / 65536);
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = Math.floor(p00 / 65536) + (p01 % 65536) + (p10 % 65536);
  const lo = (p00 % 65536) + (mid % 65536) * 65536;
  let hi = p11 + Math.floor(p01 / 65536) + Math.floor(p10 / 65536) + Math.floor(mid / 65536);
  // two's complement of the 64-bit value hi:lo: the high word is ~hi, plus one when lo is zero
  if (negA !== negB) hi = 2 ** 32 - 1 - hi + (lo === 0 ? 1 : 0);
  return hi >>> 0;
}

/** Count of leading zeros of a 32-bit value; `empty` when it is zero (lzc MODE=1). */
function lzc(x: number): number {
  return Math.clz32(x >>> 0);
}

const IDLE = 0;
const DIVIDE = 1;
const FINISH = 2;

export class SharedMulDiv extends Module {
  // ---- request arbiter (9:1) and response arbiter (2:1) ----
  private readonly reqArb: RrArbTree;
  private readonly rspArb = new RrArbTree(2);
  private reqSet = 0;
  private rspSet = 0;
  private rspGranted = false;
  // ---- multiplier ----
  private readonly mulValid: Reg;
  private readonly mulResult: Reg;
  private readonly mulId: Reg;
  // ---- serial divider ----
  /** The serial divider's registers (see `RegBank`): every write touches the bank. */
  private readonly divRegs = new RegBank();
  private readonly fsm: Reg;
  private readonly opA: Reg;
  private readonly opB: Reg;
  private readonly res: Reg;
  private readonly cnt: Reg;
  private readonly divId: Reg;
  private readonly remSel: Reg;
  private readonly compInv: Reg;
  private readonly resInv: Reg;
  private readonly opBZero: Reg;
  private readonly divResZero: Reg;

  // wires
  private grant = -1;
  private grantToMul = false;
  private rspSel = -1; // 0 = mul, 1 = div
  private divOutValid = false;
  /** Hive index of the core whose response cut is written this cycle (-1: none). */
  rspCore = -1;

  readonly nMul: { value: number };
  readonly nDiv: { value: number };
  readonly nConflict: { value: number };

  constructor(
    parent: Module | null,
    name: string,
    private readonly cores: Snitch[],
  ) {
    super(parent, name);
    this.reqArb = new RrArbTree(cores.length);
    this.mulValid = this.reg('i_multiplier.valid_q', 1);
    this.mulResult = this.reg('i_multiplier.result_q', 32);
    this.mulId = this.reg('i_multiplier.id_q', 10);
    // the serial divider's registers change only while it divides: committed when touched
    const div = this.divRegs;
    this.state.push(div);
    this.fsm = this.bankReg(div, 'i_div.state_q', 2);
    this.opA = this.bankReg(div, 'i_div.op_a_q', 32);
    this.opB = this.bankReg(div, 'i_div.op_b_q', 32);
    this.res = this.bankReg(div, 'i_div.res_q', 32);
    this.cnt = this.bankReg(div, 'i_div.cnt_q', 6);
    this.divId = this.bankReg(div, 'i_div.id_q', 10);
    this.remSel = this.bankReg(div, 'i_div.rem_sel_q', 1);
    this.compInv = this.bankReg(div, 'i_div.comp_inv_q', 1);
    this.resInv = this.bankReg(div, 'i_div.res_inv_q', 1);
    this.opBZero = this.bankReg(div, 'i_div.op_b_zero_q', 1);
    this.divResZero = this.bankReg(div, 'i_div.div_res_zero_q', 1);
    this.nMul = this.counter('mul_ops');
    this.nDiv = this.counter('div_ops');
    this.nConflict = this.counter('arbitration_stall_cycles');
  }

  /** Holds no operation of hive core `i` (neither unit computes or presents one of its results). */
  holdsNothingOf(i: number): boolean {
    if (this.mulValid.cur === 1 && this.mulId.cur >>> 5 === i) return false;
    return this.fsm.cur === IDLE || this.divId.cur >>> 5 !== i;
  }

  private wants(i: number): boolean {
    const q = this.cores[i]!.accReq;
    return q.valid && q.first.mulDiv;
  }

  /** Value the divider presents at its output (`res_o`). */
  private divOut(): number {
    const out = this.remSel.cur ? this.opA.cur : this.res.cur;
    return this.resInv.cur ? -(out | 0) >>> 0 : out >>> 0;
  }

  // a leaf module: evaluate and update are its own logic
  override evaluate(): void {
    this.comb();
  }
  override update(): void {
    this.seq();
  }

  protected override comb(): void {
    const n = this.cores.length;
    // ---- response side: multiplier output valid_q, divider out_vld_o, 2:1 arbiter ----
    const st = this.fsm.cur;
    this.divOutValid = st === FINISH || (st === DIVIDE && this.divResZero.cur === 1);
    const mulV = this.mulValid.cur === 1;
    this.rspSet = this.rspArb.requests((mulV ? 1 : 0) | (this.divOutValid ? 2 : 0));
    this.rspSel = -1;
    this.rspCore = -1;
    this.rspGranted = false;
    const w = this.rspArb.winner(this.rspSet);
    if (w >= 0) {
      const id = w === 0 ? this.mulId.cur : this.divId.cur;
      if (this.cores[id >>> 5]!.accRsp.canPush) {
        this.rspCore = id >>> 5;
        this.rspSel = w;
        this.rspGranted = true;
      } else this.rspSel = -2 - w; // valid but its core's response cut is full: locked
    }
    // ---- request side: the 9:1 tree over the cores' offload cuts ----
    this.grant = -1;
    let req = 0;
    for (let i = 0; i < n; i++) if (this.wants(i)) req |= 1 << i;
    this.reqSet = this.reqArb.requests(req);
    const cand = this.reqArb.winner(this.reqSet);
    if (cand !== -1) {
      const isMul = !this.cores[cand]!.accReq.first.divider;
      const mulTaken = mulV && this.rspSel === 0;
      const ready = isMul ? !mulV || mulTaken : st === IDLE;
      this.grantToMul = isMul;
      if (ready) this.grant = cand;
      else this.nConflict.value++;
    }
  }

  protected override seq(): void {
    this.rspArb.commit(this.rspSet, this.rspGranted);
    this.reqArb.commit(this.reqSet, this.grant !== -1);
    // ---- responses ----
    if (this.rspSel >= 0) {
      const fromMul = this.rspSel === 0;
      const id = fromMul ? this.mulId.cur : this.divId.cur;
      const r = this.cores[id >>> 5]!.accRsp.push();
      r.rd = id & 31;
      r.data = fromMul ? this.mulResult.cur : this.divOut();
      if (fromMul) this.mulValid.nxt = 0;
      else {
        this.fsm.nxt = IDLE;
        this.divRegs.touch();
      }
    } else if (this.rspSel === -3 && this.divResZero.cur === 1 && this.fsm.cur === DIVIDE) {
      this.fsm.nxt = FINISH; // result ready but not taken: hold it in FINISH
      this.divRegs.touch();
    }
    // ---- divider iteration ----
    const st = this.fsm.cur;
    if (st === DIVIDE && !this.divResZero.cur) {
      const a = this.opA.cur >>> 0;
      const b = this.opB.cur >>> 0;
      const abComp = (a === b || a > b !== (this.compInv.cur === 1)) && (a !== 0 || this.opBZero.cur === 1);
      this.divRegs.touch();
      if (abComp) this.opA.nxt = (a - b) >>> 0;
      this.opB.nxt = ((this.compInv.cur << 31) | (b >>> 1)) >>> 0;
      this.res.nxt = ((this.res.cur << 1) | (abComp ? 1 : 0)) >>> 0;
      if (this.cnt.cur === 0) this.fsm.nxt = FINISH;
      else this.cnt.nxt = this.cnt.cur - 1;
    }
    // ---- accept a request ----
    if (this.grant !== -1) {
      const q = this.cores[this.grant]!.accReq;
      const r = q.first;
      q.pop();
      const id = (this.grant << 5) | r.rd;
      if (this.grantToMul) {
        this.nMul.value++;
        const upper = r.name !== 'mul';
        const sa = r.name === 'mulh' || r.name === 'mulhsu';
        const sb = r.name === 'mulh';
        this.mulResult.nxt = mulBits(r.a, r.b, sa, sb, upper);
        this.mulValid.nxt = 1;
        this.mulId.nxt = id;
      } else {
        this.nDiv.value++;
        this.loadDivider(r.name, r.a >>> 0, r.b >>> 0, id);
      }
    }
  }

  /** The IDLE-state load of `snitch_shared_muldiv_serdiv` (operand normalisation). */
  private loadDivider(name: string, a: number, b: number, id: number): void {
    const signedOp = name === 'div' || name === 'rem';
    const rem = name === 'rem' || name === 'remu';
    const aSign = signedOp && (a | 0) < 0;
    const bSign = signedOp && (b | 0) < 0;
    const bZero = b === 0;
    const lzcAIn = aSign ? (~a << 1) >>> 0 : a;
    const lzcBIn = bSign ? ~b >>> 0 : b;
    const shiftA = lzcAIn === 0 ? 32 : lzc(lzcAIn);
    // div_shift is a 7-bit signed quantity; negative means the quotient is zero.
    const divShift = lzcBIn === 0 ? 32 : lzc(lzcBIn) - shiftA;
    const resZero = divShift < 0;
    // `op_b_i <<< $unsigned(div_shift)`: a shift by 32 or by a (negative, i.e. large) amount clears it.
    const shifted = divShift >= 32 || divShift < 0 ? 0 : (b << divShift) >>> 0;
    const pmSel = !(signedOp && aSign !== bSign);
    this.divRegs.touch();
    this.opA.nxt = pmSel ? a : -(a | 0) >>> 0;
    this.opB.nxt = shifted;
    this.res.nxt = 0;
    this.cnt.nxt = divShift & 63;
    this.remSel.nxt = rem ? 1 : 0;
    this.compInv.nxt = signedOp && bSign ? 1 : 0;
    this.opBZero.nxt = bZero ? 1 : 0;
    this.resInv.nxt = (!bZero || rem) && signedOp && aSign !== bSign ? 1 : 0;
    this.divResZero.nxt = resZero ? 1 : 0;
    this.divId.nxt = id;
    this.fsm.nxt = DIVIDE;
  }
}
