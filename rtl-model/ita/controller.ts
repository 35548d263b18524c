/**
 * `ita_controller`: the step sequencer. It walks the steps of a layer tile by tile, grants the
 * input, weight and bias handshakes (`calc_en` when all three fire) and stalls them when the output
 * FIFO has no credit (`ongoing`), when the softmax divider FIFO has no credit (`ongoing_soft`, end of
 * QK) or when a row's softmax division is not finished (start of AV).
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { Layer, STEP_NAMES, Step } from './params.ts';
import type { CtrlI, ItaParams } from './params.ts';

/** Causes of a cycle without a datapath handshake in a non-Idle step. */
export const StallCause = {
  None: 0,
  SoftmaxDiv: 1,
  OutputCredit: 2,
  SoftmaxFifo: 3,
  NoInput: 4,
  NoWeight: 5,
} as const;
export const STALL_CAUSES = [
  'none',
  'softmax_div',
  'output_credit',
  'softmax_fifo',
  'no_input',
  'no_weight',
] as const;

/**
 * Per step (Idle, Q, K, V, QK, AV, OW, F1, F2, MatMul): which tile count bounds its inner tiles,
 * the two whose product bounds its tiles (codes 0 = 1, 1 = tile_s, 2 = tile_e, 3 = tile_p,
 * 4 = tile_f), and the step after its last tile (AV decides by its softmax rows instead).
 */
const STEP_INNER = new Int8Array([0, 2, 2, 2, 3, 1, 3, 2, 4, 2]);
const STEP_TILES_A = new Int8Array([0, 1, 1, 1, 1, 3, 1, 1, 1, 1]);
const STEP_TILES_B = new Int8Array([0, 3, 3, 3, 0, 0, 2, 4, 2, 3]);
const STEP_NEXT = new Int8Array([
  Step.Idle,
  Step.K,
  Step.V,
  Step.QK,
  Step.AV,
  Step.AV,
  Step.Idle,
  Step.F2,
  Step.Idle,
  Step.Idle,
]);

export class ItaController extends Module {
  // inputs (wired by the parent)
  ctrl_i!: CtrlI;
  inp_valid_i = 0;
  weight_valid_i = 0;
  bias_valid_i = 0;
  oup_valid_i = 0;
  oup_ready_i = 0;
  pop_softmax_fifo_i = 0;
  soft_addr_div_i = 0;
  softmax_done_i = 0;
  // outputs
  inp_ready_o = 0;
  weight_ready_o = 0;
  bias_ready_o = 0;
  calc_en_o = 0;
  first_inner_tile_o = 0;
  last_inner_tile_o = 0;
  get step_o(): number {
    return this.step_q.cur;
  }
  get busy_o(): number {
    return this.busy_q.cur;
  }

  readonly step_q: Reg;
  readonly count_q: Reg;
  readonly tile_q: Reg;
  readonly inner_tile_q: Reg;
  readonly softmax_tile_q: Reg;
  readonly ongoing_q: Reg;
  readonly ongoing_soft_q: Reg;
  readonly softmax_div_done_q: Reg;
  readonly busy_q: Reg;

  // next-state values computed by comb()
  private step_d = 0;
  private count_d = 0;
  private tile_d = 0;
  private inner_tile_d = 0;
  private softmax_tile_d = 0;
  private ongoing_d = 0;
  private ongoing_soft_d = 0;
  private softmax_div_done_d = 0;
  private busy_d = 0;
  softmax_fifo = 0;
  softmax_div = 0;

  private readonly tileLen: number; // M*M/N
  /** Tile counts by code (see STEP_INNER): 1, tile_s, tile_e, tile_p, tile_f. */
  private readonly tiles = new Int32Array([1, 1, 1, 1, 1]);
  /**
   * Why no datapath handshake happens this cycle (a non-Idle step): one of `StallCause`. Priority
   * as in the RTL's condition: softmax division, output credit, softmax FIFO credit; then missing
   * input, missing weights.
   */
  stallCause = 0;
  // statistics
  readonly stallCounters: { value: number }[];
  readonly calcCycles = this.counter('calc_en_cycles');
  readonly stepCycles: { value: number }[];

  constructor(
    parent: Module,
    readonly p: ItaParams,
  ) {
    super(parent, 'i_controller');
    this.step_q = this.reg('step_q', 4);
    this.count_q = this.reg('count_q', 11);
    this.tile_q = this.reg('tile_q', 11);
    this.inner_tile_q = this.reg('inner_tile_q', 11);
    this.softmax_tile_q = this.reg('softmax_tile_q', 11);
    this.ongoing_q = this.reg('ongoing_q', 5);
    this.ongoing_soft_q = this.reg('ongoing_soft_q', 5);
    this.softmax_div_done_q = this.reg('softmax_div_done_q', 1);
    this.busy_q = this.reg('busy_q', 1);
    this.tileLen = (p.M * p.M) / p.N;
    this.port('inp_ready_o', 1, () => this.inp_ready_o);
    this.port('weight_ready_o', 1, () => this.weight_ready_o);
    this.port('calc_en_o', 1, () => this.calc_en_o);
    this.port('first_inner_tile_o', 1, () => this.first_inner_tile_o);
    this.port('last_inner_tile_o', 1, () => this.last_inner_tile_o);
    this.stepCycles = STEP_NAMES.map((s) => this.counter(`cycles_${s}`));
    this.stallCounters = STALL_CAUSES.map((s) => this.counter(`stall_${s}`));
  }

  override evaluate(): void {
    const c = this.ctrl_i;
    const M = this.p.M;
    const step_q = this.step_q.cur;
    const count_q = this.count_q.cur;
    const tile_q = this.tile_q.cur;
    const inner_tile_q = this.inner_tile_q.cur;
    let count_d = count_q;
    let tile_d = tile_q;
    let inner_tile_d = inner_tile_q;
    let step_d = step_q;
    let softmax_tile_d = this.softmax_tile_q.cur;
    let softmax_div_done_d = this.softmax_div_done_q.cur;
    let busy_d = this.busy_q.cur;
    let last = 0;
    let inp_ready = 0;
    let weight_ready = 0;
    let bias_ready = 0;
    let calc_en = 0;
    let softmax_fifo = 0;
    let softmax_div = 0;
    let stall: number = StallCause.None;
    this.first_inner_tile_o = inner_tile_q === 0 ? 1 : 0;

    if (step_q !== Step.AV) softmax_div_done_d = 0;
    else if (this.softmax_done_i) softmax_div_done_d = 1;
    if (c.start) busy_d = 1;

    // The conditions below are computed in full every cycle (rather than only as far as their
    // first false term), so that a step seen for the first time runs no code not run before.
    const tileS = c.tile_s;
    const tileE = c.tile_e;
    const tileP = c.tile_p;
    const tileF = c.tile_f;
    const isQK = step_q === Step.QK;
    const isAV = step_q === Step.AV;
    const lastRowPart =
      (inner_tile_q === tileP - 1 ? 1 : 0) &
      (tile_q === tileS - 1 ? 1 : 0) &
      (count_q >= this.tileLen - M ? 1 : 0);
    const firstRow =
      (inner_tile_q === 0 ? 1 : 0) &
      (tile_q === 0 ? 1 : 0) &
      (count_q < M ? 1 : 0) &
      (count_q >= this.soft_addr_div_i ? 1 : 0);
    const divDone = this.softmax_div_done_q.cur === 1;

    if (step_q !== Step.Idle) {
      if (isQK && lastRowPart) softmax_fifo = 1;
      if (!divDone && isAV && firstRow) softmax_div = 1;
      const outFull = this.ongoing_q.cur >= this.p.FifoDepth;
      const softFull = this.ongoing_soft_q.cur >= this.p.SoftFifoDepth;
      if (outFull || (softmax_fifo && softFull) || softmax_div) {
        // stalled: no handshake
        stall = softmax_div
          ? StallCause.SoftmaxDiv
          : outFull
            ? StallCause.OutputCredit
            : StallCause.SoftmaxFifo;
      } else {
        inp_ready = this.weight_valid_i;
        weight_ready = this.inp_valid_i;
        bias_ready = this.weight_valid_i;
        if (this.inp_valid_i && this.weight_valid_i && this.bias_valid_i) {
          calc_en = 1;
          count_d = count_q + 1;
          busy_d = 1;
          if (count_d === this.tileLen) {
            busy_d = 0;
            count_d = 0;
            inner_tile_d = inner_tile_q + 1;
          }
        } else {
          stall = !this.weight_valid_i ? StallCause.NoWeight : StallCause.NoInput;
        }
      }
    }

    if (step_q === Step.Idle) {
      inner_tile_d = 0;
      tile_d = 0;
      softmax_tile_d = 0;
      softmax_div_done_d = 0;
      busy_d = 0;
      if (c.start) {
        if (c.layer === Layer.Attention) step_d = Step.Q;
        else if (c.layer === Layer.Feedforward) step_d = Step.F1;
        else if (c.layer === Layer.Linear) step_d = Step.MatMul;
        else step_d = Step.QK;
      }
    } else {
      // The step's inner-tile count, its tile count and the step after it, looked up (STEP_*).
      const tiles = this.tiles;
      tiles[1] = tileS;
      tiles[2] = tileE;
      tiles[3] = tileP;
      tiles[4] = tileF;
      const innerN = tiles[STEP_INNER[step_q]!]!;
      const tileN = tiles[STEP_TILES_A[step_q]!]! * tiles[STEP_TILES_B[step_q]!]!;
      const tileInc = tile_q + 1;
      const innerWrap = inner_tile_d === innerN;
      const tileWrap = tileInc === tileN;
      // AV: the end of its tiles ends a row of softmax tiles; the last row ends the layer's
      // attention (OW next, or Idle for a single attention), the others go back to QK.
      const rowInc = softmax_tile_d + 1;
      const rowWrap = rowInc === tileS;
      const afterRows =
        c.layer === Layer.Attention ? Step.OW : c.layer === Layer.SingleAttention ? Step.Idle : Step.AV;
      const afterAv = rowWrap ? afterRows : Step.QK;
      const nextStep = STEP_NEXT[step_q]!;
      last = inner_tile_q === innerN - 1 ? 1 : 0;
      if (innerWrap) {
        inner_tile_d = 0;
        tile_d = tileWrap ? 0 : tileInc;
        if (tileWrap) {
          step_d = isAV ? afterAv : nextStep;
          if (isAV) softmax_tile_d = rowWrap ? 0 : rowInc;
        }
      }
    }

    const inpFire = this.inp_valid_i && inp_ready;
    const outFire = this.oup_valid_i && this.oup_ready_i;
    let ongoing_d = this.ongoing_q.cur;
    if (inpFire && outFire && last) ongoing_d = this.ongoing_q.cur;
    else if (inpFire && last) ongoing_d = this.ongoing_q.cur + 1;
    else if (outFire) ongoing_d = this.ongoing_q.cur - 1;
    let ongoing_soft_d = this.ongoing_soft_q.cur;
    if (softmax_fifo && inpFire && this.pop_softmax_fifo_i) ongoing_soft_d = this.ongoing_soft_q.cur;
    else if (softmax_fifo && inpFire) ongoing_soft_d = this.ongoing_soft_q.cur + 1;
    else if (this.pop_softmax_fifo_i) ongoing_soft_d = this.ongoing_soft_q.cur - 1;

    this.inp_ready_o = inp_ready;
    this.weight_ready_o = weight_ready;
    this.bias_ready_o = bias_ready;
    this.calc_en_o = calc_en;
    this.last_inner_tile_o = last;
    this.softmax_fifo = softmax_fifo;
    this.softmax_div = softmax_div;
    this.stallCause = stall;
    this.step_d = step_d;
    this.count_d = count_d;
    this.tile_d = tile_d;
    this.inner_tile_d = inner_tile_d;
    this.softmax_tile_d = softmax_tile_d;
    this.ongoing_d = ongoing_d;
    this.ongoing_soft_d = ongoing_soft_d;
    this.softmax_div_done_d = softmax_div_done_d;
    this.busy_d = busy_d;
  }

  override update(): void {
    this.step_q.nxt = this.step_d;
    this.count_q.nxt = this.count_d & 0x7ff;
    this.tile_q.nxt = this.tile_d & 0x7ff;
    this.inner_tile_q.nxt = this.inner_tile_d & 0x7ff;
    this.softmax_tile_q.nxt = this.softmax_tile_d & 0x7ff;
    this.ongoing_q.nxt = this.ongoing_d & 0x1f;
    this.ongoing_soft_q.nxt = this.ongoing_soft_d & 0x1f;
    this.softmax_div_done_q.nxt = this.softmax_div_done_d;
    this.busy_q.nxt = this.busy_d;
    this.stepCycles[this.step_q.cur]!.value++;
    if (this.calc_en_o) this.calcCycles.value++;
    if (this.stallCause) this.stallCounters[this.stallCause]!.value++;
  }

  /** Counts `n` further cycles in which `update` would have seen this cycle's values (a still ITA). */
  creditStill(n: number): void {
    this.stepCycles[this.step_q.cur]!.value += n;
    if (this.calc_en_o) this.calcCycles.value += n;
    if (this.stallCause) this.stallCounters[this.stallCause]!.value += n;
  }

  override lineTrace(): string {
    const s = STEP_NAMES[this.step_q.cur]!.padEnd(6);
    return `${s} t${this.tile_q.cur}.${this.inner_tile_q.cur} c${String(this.count_q.cur).padStart(3)} ${this.calc_en_o ? 'C' : '.dofiw'[this.stallCause]}`;
  }
}
