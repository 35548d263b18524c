/**
 * `ita_softmax`: the streaming softmax (ITAMax) control and datapath.
 * - Accumulation (during QK, on the requantised QK outputs of the last inner tile), four stages:
 *   0 counts rows and reads the row's running maximum; 1 finds the new maximum and the shifts;
 *   2 writes the maximum and sums 2^8 >> shift (renormalising the stored partial sum);
 *   3 stores the partial sum, or at the row's last part pushes it to the divider FIFO.
 * - Division: the FIFO feeds NumDiv serial dividers round-robin (2^16 - 2^8 over the sum); results
 *   are written back in order over the sums and counted (`soft_addr_div_o`, `softmax_done_o`).
 * - Stream softmax (AV): each input row element becomes the row's reciprocal shifted right by
 *   (row max - element).
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { Step } from './params.ts';
import type { CtrlI, ItaParams } from './params.ts';
import { FifoV3 } from './fifo_v3.ts';
import type { ItaMaxFinder } from './max_finder.ts';
import { vecReg, vecReg8, vecPort } from './vec.ts';
import type { VecReg } from './vec.ts';

export class ItaSoftmax extends Module {
  // inputs
  ctrl_i!: CtrlI;
  step_i = 0;
  calc_en_i = 0;
  requant_oup_i!: Int8Array;
  /** Set by the parent when `requant_oup_i` is known to be all zeros (skips copying zeros). */
  requantInZero = false;
  private requantQZero = true;
  calc_stream_soft_en_i = 0;
  inp_i!: Int8Array;
  readonly div_ready_i: Uint8Array;
  readonly div_valid_i: Uint8Array;
  readonly div_oup_i: Int32Array;
  readonly read_acc_data_i: Int32Array;
  readonly read_max_data_i: Int32Array;
  /** The max finder this unit drives (`max_o` / `prev_max_o` in, `max_i` out), wired by the parent. */
  maxFinder!: ItaMaxFinder;
  // outputs
  softmax_done_o = 0;
  pop_softmax_fifo_o = 0;
  get soft_addr_div_o(): number {
    return this.addr_div_q.cur;
  }
  readonly inp_stream_soft_o: Int8Array;
  div_inp_o = 0;
  readonly div_valid_o: Uint8Array;
  readonly div_ready_o: Uint8Array;
  readonly read_acc_en_o = new Uint8Array(2);
  readonly read_acc_addr_o = new Int32Array(2);
  write_acc_en_o = 0;
  write_acc_addr_o = 0;
  write_acc_data_o = 0;
  readonly read_max_en_o = new Uint8Array(2);
  readonly read_max_addr_o = new Int32Array(2);
  write_max_en_o = 0;
  write_max_addr_o = 0;
  write_max_data_o = 0;

  // registers
  readonly tile_q1: Reg;
  readonly tile_q2: Reg;
  readonly tile_q3: Reg;
  readonly tile_q4: Reg;
  readonly count_q1: Reg;
  readonly count_q2: Reg;
  readonly count_q3: Reg;
  readonly count_q4: Reg;
  readonly exp_sum_q: Reg;
  readonly count_soft_q: Reg;
  readonly count_div_q: Reg;
  readonly addr_div_q: Reg;
  readonly div_read_q: Reg;
  readonly div_write_q: Reg;
  readonly requant_oup_q: VecReg<Int8Array>;
  readonly max_q: Reg;
  readonly calc_stream_soft_en_q: Reg;
  readonly shift_q: VecReg;
  readonly shift_sum_q: Reg;
  readonly calc_en_q1: Reg;
  readonly calc_en_q2: Reg;
  readonly calc_en_q3: Reg;
  readonly i_fifo: FifoV3;

  // next-state values of the combinational pass
  private tile_d = 0;
  private count_d = 0;
  private calc_en_d = 0;
  private max_d = 0;
  private shift_sum_d = 0;
  private readonly shift_d: Int32Array;
  private exp_sum_d = 0;
  private count_div_d = 0;
  private addr_div_d = 0;
  private div_read_d = 0;
  private div_write_d = 0;
  private shiftActive = false;
  private shiftZero = true;
  private readonly pushWord = new Int32Array(1);
  private oupActive = false;
  /** The lanes of `div_valid_o` / `div_ready_o` that may be set (all others are 0). */
  private validLane = 0;
  private readyLane = 0;
  private readonly tileLen: number;
  private readonly accMask: number;

  constructor(
    parent: Module,
    readonly p: ItaParams,
  ) {
    super(parent, 'i_softmax');
    const N = p.N;
    this.tileLen = (p.M * p.M) / N;
    this.accMask = 2 ** p.SoftmaxAccDataWidth - 1;
    this.div_ready_i = new Uint8Array(p.NumDiv);
    this.div_valid_i = new Uint8Array(p.NumDiv);
    this.div_oup_i = new Int32Array(p.NumDiv);
    this.div_valid_o = new Uint8Array(p.NumDiv);
    this.div_ready_o = new Uint8Array(p.NumDiv);
    this.read_acc_data_i = new Int32Array(2);
    this.read_max_data_i = new Int32Array(2);
    this.inp_stream_soft_o = new Int8Array(p.M);
    this.shift_d = new Int32Array(N);
    this.tile_q1 = this.reg('tile_q1', 11);
    this.tile_q2 = this.reg('tile_q2', 11);
    this.tile_q3 = this.reg('tile_q3', 11);
    this.tile_q4 = this.reg('tile_q4', 11);
    this.count_q1 = this.reg('count_q1', 11, this.tileLen);
    this.count_q2 = this.reg('count_q2', 11, this.tileLen);
    this.count_q3 = this.reg('count_q3', 11, this.tileLen);
    this.count_q4 = this.reg('count_q4', 11, this.tileLen);
    this.exp_sum_q = this.reg('exp_sum_q', p.SoftmaxAccDataWidth);
    this.count_soft_q = this.reg('count_soft_q', 11);
    this.count_div_q = this.reg('count_div_q', 11);
    this.addr_div_q = this.reg('addr_div_q', 11);
    // declared `logic [NumDiv-1:0]` in the RTL (an index, not a one-hot vector, despite the width)
    this.div_read_q = this.reg('div_read_q', p.NumDiv);
    this.div_write_q = this.reg('div_write_q', p.NumDiv);
    this.requant_oup_q = vecReg8(this, 'requant_oup_q', N);
    this.max_q = this.reg('max_q', 8);
    this.calc_stream_soft_en_q = this.reg('calc_stream_soft_en_q', 1);
    this.shift_q = vecReg(this, 'shift_q', N, 9);
    this.shift_sum_q = this.reg('shift_sum_q', 9);
    this.calc_en_q1 = this.reg('calc_en_q1', 1);
    this.calc_en_q2 = this.reg('calc_en_q2', 1);
    this.calc_en_q3 = this.reg('calc_en_q3', 1);
    this.i_fifo = new FifoV3(this, 'i_fifo', p.SoftFifoDepth, 1);
    this.i_fifo.data_i = this.pushWord;
    vecPort(this, 'inp_stream_soft_o', 8, () => this.inp_stream_soft_o);
    this.port('softmax_done_o', 1, () => this.softmax_done_o);
    this.port('pop_softmax_fifo_o', 1, () => this.pop_softmax_fifo_o);
  }

  override evaluate(): void {
    this.i_fifo.evaluate();
    this.combAll();
  }

  /**
   * Whether this cycle computes nothing, given idle dividers: no QK step, no accumulation stage
   * active or draining (the tile/count pipelines, the row sum and the shifts at zero), no row sum
   * queued, no stream output. The registers then keep their values (except `requant_oup_q`,
   * which samples its input every cycle) and the outputs are those of the last such cycle.
   */
  quietState(): boolean {
    return (
      this.step_i !== Step.QK &&
      this.calc_en_q1.cur === 0 &&
      this.calc_en_q2.cur === 0 &&
      this.calc_en_q3.cur === 0 &&
      this.calc_stream_soft_en_q.cur === 0 &&
      !this.oupActive &&
      this.shiftZero &&
      this.exp_sum_q.cur === 0 &&
      this.shift_sum_q.cur === 0 &&
      this.tile_q1.cur === 0 &&
      this.tile_q2.cur === 0 &&
      this.tile_q3.cur === 0 &&
      this.tile_q4.cur === 0 &&
      this.count_q1.cur === 0 &&
      this.count_q2.cur === 0 &&
      this.count_q3.cur === 0 &&
      this.count_q4.cur === 0 &&
      this.i_fifo.status_cnt_q.cur === 0
    );
  }

  /** The next state of a quiet cycle (`quietState`): only `requant_oup_q` samples its input. */
  updateQuiet(): void {
    if (!(this.requantInZero && this.requantQZero)) this.requant_oup_q.load(this.requant_oup_i);
    this.requantQZero = this.requantInZero;
  }

  private combAll(): void {
    const M = this.p.M;
    const N = this.p.N;
    const fifo = this.i_fifo;
    let tile_d = this.tile_q1.cur;
    let count_d = this.count_q1.cur;
    let calc_en_d = 0;
    this.read_acc_en_o[0] = 0;
    this.read_acc_en_o[1] = 0;
    this.read_acc_addr_o[0] = 0;
    this.read_acc_addr_o[1] = 0;
    this.read_max_en_o[0] = 0;
    this.read_max_en_o[1] = 0;
    this.read_max_addr_o[0] = 0;
    this.read_max_addr_o[1] = 0;
    let wAccEn = 0;
    let wAccAddr = 0;
    let wAccData = 0;
    this.write_max_en_o = 0;
    this.write_max_addr_o = 0;
    this.write_max_data_o = 0;
    let push = 0;
    let pushData = 0;

    // Stage 0
    if (this.step_i === Step.QK) {
      if (this.calc_en_i) {
        calc_en_d = 1;
        const c1 = this.count_q1.cur;
        count_d = c1 + 1;
        if (c1 === this.tileLen - 1) {
          tile_d = this.tile_q1.cur + 1;
          count_d = 0;
        }
        if (this.tile_q1.cur !== 0 || c1 >= M) {
          this.read_max_en_o[0] = 1;
          this.read_max_addr_o[0] = c1;
        }
      }
    } else {
      tile_d = 0;
      count_d = 0;
    }

    // Stage 1
    this.max_d = this.max_q.cur;
    this.shift_sum_d = 0;
    this.shiftActive = false;
    if (this.calc_en_q1.cur) {
      const x = this.requant_oup_q.cur;
      const first = !(this.tile_q2.cur !== 0 || this.count_q2.cur >= M);
      const prev = first ? -128 : this.read_max_data_i[0]!;
      const mf = this.maxFinder;
      mf.x_i = x;
      mf.prev_max_i = prev;
      mf.compute();
      const max = mf.max_o;
      this.max_d = max;
      for (let i = 0; i < N; i++) this.shift_d[i] = (max - x[i]!) & 0xff;
      this.shiftActive = true;
      if (!first) {
        this.read_acc_en_o[0] = 1;
        this.read_acc_addr_o[0] = this.count_q2.cur;
        this.shift_sum_d = (max - prev) & 0xff;
      }
    }

    // Stage 2
    let exp_sum = 0;
    if (this.calc_en_q2.cur) {
      this.write_max_en_o = 1;
      this.write_max_addr_o = this.count_q3.cur;
      this.write_max_data_o = this.max_q.cur;
      const sh = this.shift_q.cur;
      for (let i = 0; i < N; i++) {
        const s = sh[i]!;
        if (s <= 8) exp_sum += 256 >> s;
      }
      if (this.tile_q3.cur !== 0 || this.count_q3.cur >= M) {
        const ss = this.shift_sum_q.cur;
        if (ss < 31) exp_sum += this.read_acc_data_i[0]! >>> ss;
      }
      exp_sum &= this.accMask;
    }
    this.exp_sum_d = exp_sum;

    // Stage 3
    if (this.calc_en_q3.cur) {
      if (this.count_q4.cur >= this.tileLen - M && this.tile_q4.cur === this.ctrl_i.tile_s - 1) {
        push = 1;
        pushData = this.exp_sum_q.cur;
      } else {
        wAccEn = 1;
        wAccAddr = this.count_q4.cur;
        wAccData = this.exp_sum_q.cur;
      }
    }

    // Division
    const nd = this.p.NumDiv;
    const dr = this.div_read_q.cur;
    const dw = this.div_write_q.cur;
    // one-hot: only the lanes set last cycle need clearing
    this.div_valid_o[this.validLane] = 0;
    this.div_ready_o[this.readyLane] = 0;
    this.validLane = dr;
    this.readyLane = dw;
    this.div_inp_o = fifo.dataLane(0);
    this.div_valid_o[dr] = fifo.empty_o ? 0 : 1;
    this.div_ready_o[dw] = 1;
    let count_div_d = this.count_div_q.cur;
    let div_read_d = dr;
    let div_write_d = dw;
    let addr_div_d = this.addr_div_q.cur;
    let pop = 0;
    let done = 0;
    if (this.div_valid_o[dr] && this.div_ready_i[dr]) {
      pop = 1;
      count_div_d = count_div_d + 1;
      div_read_d = dr + 1 === nd ? 0 : dr + 1;
    }
    if (this.div_valid_i[dw]) {
      wAccEn = 1;
      wAccAddr = this.addr_div_q.cur;
      addr_div_d = this.addr_div_q.cur + 1;
      wAccData = this.div_oup_i[dw]! & this.accMask;
      div_write_d = dw + 1 === nd ? 0 : dw + 1;
      if (addr_div_d === M) {
        addr_div_d = 0;
        count_div_d = 0;
        done = 1;
      }
    }
    this.write_acc_en_o = wAccEn;
    this.write_acc_addr_o = wAccAddr;
    this.write_acc_data_o = wAccData;
    this.pop_softmax_fifo_o = pop;
    this.softmax_done_o = done;
    fifo.push_i = push;
    this.pushWord[0] = pushData;
    fifo.pop_i = pop;
    this.tile_d = tile_d;
    this.count_d = count_d;
    this.calc_en_d = calc_en_d;
    this.count_div_d = count_div_d;
    this.div_read_d = div_read_d;
    this.div_write_d = div_write_d;
    this.addr_div_d = addr_div_d;

    // Stream softmax output (from registered read addresses)
    const out = this.inp_stream_soft_o;
    if (this.calc_stream_soft_en_q.cur) {
      const mx = this.read_max_data_i[1]!;
      const acc = this.read_acc_data_i[1]!;
      const inp = this.inp_i;
      for (let i = 0; i < M; i++) {
        const sh = (mx - inp[i]!) & 0xff;
        out[i] = sh < 31 ? (acc >>> sh) & 0xff : 0;
      }
      this.oupActive = true;
    } else if (this.oupActive) {
      out.fill(0);
      this.oupActive = false;
    }
  }

  /** Stream-softmax reads of the current AV handshake (known once the controller has decided). */
  combStream(): void {
    if (this.calc_stream_soft_en_i) {
      const a = this.count_soft_q.cur & (this.p.M - 1);
      this.read_acc_en_o[1] = 1;
      this.read_acc_addr_o[1] = a;
      this.read_max_en_o[1] = 1;
      this.read_max_addr_o[1] = a;
    }
  }

  override update(): void {
    this.i_fifo.update();
    this.tile_q4.nxt = this.tile_q3.cur;
    this.tile_q3.nxt = this.tile_q2.cur;
    this.tile_q2.nxt = this.tile_q1.cur;
    this.tile_q1.nxt = this.tile_d & 0x7ff;
    this.count_q4.nxt = this.count_q3.cur;
    this.count_q3.nxt = this.count_q2.cur;
    this.count_q2.nxt = this.count_q1.cur;
    this.count_q1.nxt = this.count_d & 0x7ff;
    if (this.calc_stream_soft_en_i) {
      const c = this.count_soft_q.cur + 1;
      this.count_soft_q.nxt = c === this.tileLen ? 0 : c;
    }
    this.count_div_q.nxt = this.count_div_d & 0x7ff;
    this.div_read_q.nxt = this.div_read_d;
    this.div_write_q.nxt = this.div_write_d;
    this.addr_div_q.nxt = this.addr_div_d & 0x7ff;
    this.exp_sum_q.nxt = this.exp_sum_d;
    if (!(this.requantInZero && this.requantQZero)) this.requant_oup_q.load(this.requant_oup_i);
    this.requantQZero = this.requantInZero;
    this.max_q.nxt = this.max_d;
    this.calc_stream_soft_en_q.nxt = this.calc_stream_soft_en_i;
    if (this.shiftActive) {
      this.shift_q.load(this.shift_d);
      this.shiftZero = false;
    } else if (!this.shiftZero) {
      this.shift_q.clear();
      this.shiftZero = true;
    }
    this.shift_sum_q.nxt = this.shift_sum_d;
    this.calc_en_q3.nxt = this.calc_en_q2.cur;
    this.calc_en_q2.nxt = this.calc_en_q1.cur;
    this.calc_en_q1.nxt = this.calc_en_d;
  }
}
