/**
 * `ita_softmax_top`: wires the softmax unit to its max finder, its row-maximum and row-sum register
 * files (two read ports each) and NumDiv serial dividers.
 */
import { Module } from '../sim/kernel.ts';
import type { CtrlI, ItaParams } from './params.ts';
import { ItaMaxFinder } from './max_finder.ts';
import { ItaRegisterFile } from './register_file.ts';
import { ItaSerdiv } from './serdiv.ts';
import { ItaSoftmax } from './softmax.ts';

/** SoftmaxScalar: (2^8 - 1) * 2^8, the dividend of every division. */
const SOFTMAX_SCALAR = 65280;

export class ItaSoftmaxTop extends Module {
  readonly i_max_finder: ItaMaxFinder;
  readonly i_softmax_max_buffer: ItaRegisterFile;
  readonly i_softmax: ItaSoftmax;
  readonly i_softmax_acc_buffer: ItaRegisterFile;
  readonly i_serdiv: ItaSerdiv[];
  /** This cycle is quiet (`ItaSoftmax.quietState` with every divider idle). */
  private quiet = false;
  /** The last cycle was quiet and fully evaluated: a quiet cycle can reuse its outputs. */
  private settledQuiet = false;
  /** Some divider is busy (not idle or its counter not run down) after the last edge. */
  private dividersBusy = false;

  constructor(
    parent: Module,
    readonly p: ItaParams,
  ) {
    super(parent, 'i_softmax_top');
    const addrW = Math.ceil(Math.log2(p.S));
    this.i_max_finder = new ItaMaxFinder(this);
    this.i_softmax_max_buffer = new ItaRegisterFile(this, 'i_softmax_max_buffer', addrW, 8, 2);
    this.i_softmax = new ItaSoftmax(this, p);
    this.i_softmax_acc_buffer = new ItaRegisterFile(
      this,
      'i_softmax_acc_buffer',
      addrW,
      p.SoftmaxAccDataWidth,
      2,
    );
    this.i_serdiv = [];
    for (let i = 0; i < p.NumDiv; i++)
      this.i_serdiv.push(new ItaSerdiv(this, `genblk1[${i}].i_serdiv`, p.SoftmaxAccDataWidth + 1));
    this.i_softmax.maxFinder = this.i_max_finder;
  }

  set ctrl_i(c: CtrlI) {
    this.i_softmax.ctrl_i = c;
  }

  /** Everything that does not wait for the controller's decision of this cycle. */
  override evaluate(): void {
    const sm = this.i_softmax;
    const nd = this.p.NumDiv;
    this.quiet = !this.dividersBusy && sm.quietState();
    // a quiet cycle after a quiet cycle computes what that one did (its inputs did not change)
    if (this.quiet && this.settledQuiet) return;
    // A divider's outputs follow its registers only: re-read them after an edge that changed them.
    for (let i = 0; i < nd; i++) {
      const d = this.i_serdiv[i]!;
      if (!d.stale) continue;
      d.evaluate();
      sm.div_ready_i[i] = d.in_rdy_o;
      sm.div_valid_i[i] = d.out_vld_o;
      sm.div_oup_i[i] = d.res_o;
      d.stale = false;
    }
    const mb = this.i_softmax_max_buffer;
    const ab = this.i_softmax_acc_buffer;
    // The max buffer holds signed bytes.
    sm.read_max_data_i[0] = (mb.readData(0) << 24) >> 24;
    sm.read_max_data_i[1] = (mb.readData(1) << 24) >> 24;
    sm.read_acc_data_i[0] = ab.readData(0);
    sm.read_acc_data_i[1] = ab.readData(1);
    sm.evaluate();
    mb.WriteEnable = sm.write_max_en_o;
    mb.WriteAddr = sm.write_max_addr_o;
    mb.WriteData = sm.write_max_data_o;
    ab.WriteEnable = sm.write_acc_en_o;
    ab.WriteAddr = sm.write_acc_addr_o;
    ab.WriteData = sm.write_acc_data_o;
  }

  /**
   * Next state; an idle divider with nothing offered and its counter run down holds all registers,
   * so only the others get their inputs and compute.
   */
  override update(): void {
    const sm = this.i_softmax;
    if (this.quiet && this.settledQuiet && !sm.calc_stream_soft_en_i) {
      sm.updateQuiet();
      return;
    }
    this.settledQuiet = this.quiet && !sm.calc_stream_soft_en_i;
    this.i_softmax_max_buffer.update();
    sm.update();
    this.i_softmax_acc_buffer.update();
    let busy = false;
    for (let i = 0; i < this.p.NumDiv; i++) {
      const d = this.i_serdiv[i]!;
      const vld = sm.div_valid_o[i]!;
      if (d.state_q.cur !== 0 || vld || d.cnt_q.cur !== 0) {
        d.op_a_i = SOFTMAX_SCALAR;
        d.op_b_i = sm.div_inp_o;
        d.in_vld_i = vld;
        d.out_rdy_i = sm.div_ready_o[i]!;
        d.update();
        if (d.state_q.nxt !== 0 || d.cnt_q.nxt !== 0) busy = true;
      }
    }
    this.dividersBusy = busy;
  }

  /** The stream-softmax reads, once `calc_stream_soft_en_i` is known. */
  evaluateStream(calcStreamSoftEn: number): void {
    if (!calcStreamSoftEn && this.quiet && this.settledQuiet) return;
    const sm = this.i_softmax;
    sm.calc_stream_soft_en_i = calcStreamSoftEn;
    sm.combStream();
    const mb = this.i_softmax_max_buffer;
    const ab = this.i_softmax_acc_buffer;
    for (let z = 0; z < 2; z++) {
      mb.ReadEnable[z] = sm.read_max_en_o[z]!;
      mb.ReadAddr[z] = sm.read_max_addr_o[z]!;
      ab.ReadEnable[z] = sm.read_acc_en_o[z]!;
      ab.ReadAddr[z] = sm.read_acc_addr_o[z]!;
    }
  }
}
