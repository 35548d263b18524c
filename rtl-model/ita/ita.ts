/**
 * `ita`: the standalone ITA core, its children wired as in `ita.sv`, plus the top-level pipeline
 * registers (`calc_en_q1..q10`, `step_q1..q6`, `first/last_inner_tile_q*`, `activation_q1..q10`,
 * `inp1_q`, `inp2_q`, `inp_bias_q1/q2`, `oup_q`).
 *
 * Pipeline of one datapath handshake at cycle t: t+1 operands registered, t+2 dot products
 * (`oup_q`), t+3 accumulator, t+4/t+5 requantiser, t+6..t+9 softmax accumulation / activation,
 * t+10 push into the output FIFO, t+11 first cycle the word can leave.
 */
import { Module } from '../sim/kernel.ts';
import { shiftReg } from '../sim/shift.ts';
import type { ShiftReg } from '../sim/shift.ts';
import { DEFAULT_PARAMS, STEP_NAMES, Step, checkParams, newCtrl } from './params.ts';
import type { CtrlI, ItaParams } from './params.ts';
import { ItaController } from './controller.ts';
import { ItaInputSampler } from './input_sampler.ts';
import { ItaInp1Mux } from './inp1_mux.ts';
import { ItaInp2Mux } from './inp2_mux.ts';
import { ItaSumdotp } from './sumdotp.ts';
import { createDotpSimd } from './dotp_simd.ts';
import { ItaAccumulator } from './accumulator.ts';
import { ItaSoftmaxTop } from './softmax_top.ts';
import { ItaRequantizationController } from './requantization_controller.ts';
import { ItaRequantizer } from './requantizer.ts';
import { ItaActivation } from './activation.ts';
import { ItaFifoController } from './fifo_controller.ts';
import { ItaOutputController } from './output_controller.ts';
import { FifoV3 } from './fifo_v3.ts';
import { ItaWeightController } from './weight_controller.ts';
import { ItaWeightBuffer } from './weight_buffer.ts';
import { vecPort, vecReg, vecReg8 } from './vec.ts';
import { wordReg } from './word_reg.ts';
import type { WordReg } from './word_reg.ts';
import { WeightWord } from './weight_buffer.ts';
import type { VecReg } from './vec.ts';

export class Ita extends Module {
  // ---- ports (driven by the testbench) ----
  ctrl_i: CtrlI = newCtrl();
  inp_valid_i = 0;
  inp_weight_valid_i = 0;
  inp_bias_valid_i = 0;
  ready_i = 0;
  readonly inp_i: Int8Array;
  readonly inp_weight_i: Int8Array;
  readonly inp_bias_i: Int32Array;
  // ---- outputs ----
  get inp_ready_o(): number {
    return this.i_controller.inp_ready_o;
  }
  get inp_weight_ready_o(): number {
    return this.i_weight_controller.inp_weight_ready_o;
  }
  get inp_bias_ready_o(): number {
    return this.i_controller.bias_ready_o;
  }
  get valid_o(): number {
    return this.i_output_controller.valid_o;
  }
  get busy_o(): number {
    return this.i_controller.busy_o;
  }
  /** `oup_o`: the FIFO head while valid (lane i = element i). */
  readonly oup_o: Int8Array;

  // ---- children ----
  readonly i_controller: ItaController;
  readonly i_input_sampler: ItaInputSampler;
  readonly i_inp1_mux: ItaInp1Mux;
  readonly i_inp2_mux: ItaInp2Mux;
  readonly i_sumdotp: ItaSumdotp;
  readonly i_accumulator: ItaAccumulator;
  readonly i_softmax_top: ItaSoftmaxTop;
  readonly i_requantization_controller: ItaRequantizationController;
  readonly i_requantizer: ItaRequantizer;
  readonly i_activation: ItaActivation;
  readonly i_fifo_controller: ItaFifoController;
  readonly i_output_controller: ItaOutputController;
  readonly i_fifo: FifoV3;
  readonly i_weight_controller: ItaWeightController;
  readonly i_weight_buffer: ItaWeightBuffer;

  // ---- top-level registers ----
  /** Delay lines `x_q1..x_qn` (stage k: `.q(k)`). */
  readonly calc_en_q: ShiftReg;
  readonly last_inner_tile_q: ShiftReg;
  readonly first_inner_tile_q: ShiftReg;
  readonly step_q: ShiftReg;
  readonly activation_q: ShiftReg;
  readonly inp1_q: VecReg<Int8Array>;
  readonly inp2_q: WordReg;
  readonly inp_bias_q1: VecReg;
  readonly inp_bias_q2: VecReg;
  readonly oup_q: VecReg;

  readonly p: ItaParams;
  private readonly zeroWeights: WeightWord;
  private oupZero = true;

  /**
   * `nWriteEn`: weight write enables (N_WRITE_EN; the HWPE build uses 8). As a child of a wrapper
   * (`parent`, `instName`) its signals nest under the wrapper's hierarchy in traces and VCDs.
   */
  constructor(
    params: Partial<ItaParams> = {},
    nWriteEn?: number,
    parent: Module | null = null,
    instName = 'ita',
  ) {
    super(parent, instName);
    const p = checkParams({ ...DEFAULT_PARAMS, ...params });
    this.p = p;
    const N = p.N;
    const M = p.M;
    const nwe = nWriteEn ?? M;
    this.inp_i = new Int8Array(M);
    this.inp_weight_i = new Int8Array((N * M) / nwe);
    this.inp_bias_i = new Int32Array(N);
    this.oup_o = new Int8Array(N);
    this.zeroWeights = new WeightWord(N, M);

    const stages = (base: string, n: number): string[] =>
      Array.from({ length: n }, (_, i) => `${base}${i + 1}`);
    this.calc_en_q = shiftReg(this, stages('calc_en_q', 10), 1, 0, false);
    this.last_inner_tile_q = shiftReg(this, stages('last_inner_tile_q', 10), 1, 0, false);
    this.activation_q = shiftReg(this, stages('activation_q', 10), 2, 0, false);
    for (let i = 1; i <= 10; i++) {
      this.probes.push(this.calc_en_q.probe(`${this.path}.calc_en_q${i}`, 1, i));
      this.probes.push(this.last_inner_tile_q.probe(`${this.path}.last_inner_tile_q${i}`, 1, i));
      this.probes.push(this.activation_q.probe(`${this.path}.activation_q${i}`, 2, i));
    }
    this.first_inner_tile_q = shiftReg(this, stages('first_inner_tile_q', 3), 1);
    this.step_q = shiftReg(this, stages('step_q', 6), 4);
    // the dot-product kernel reads the input row register in place, so its arrays live in the
    // kernel's memory (where there is a vector kernel)
    const simd = createDotpSimd(N, M);
    this.inp1_q = vecReg8(this, 'inp1_q', M, simd?.rows);
    this.inp2_q = wordReg(this, 'inp2_q', N, M);
    this.inp_bias_q1 = vecReg(this, 'inp_bias_q1', N, p.WO - 2);
    this.inp_bias_q2 = vecReg(this, 'inp_bias_q2', N, p.WO - 2);
    this.oup_q = vecReg(this, 'oup_q', N, p.WO);

    this.i_controller = new ItaController(this, p);
    this.i_input_sampler = new ItaInputSampler(this, p);
    this.i_inp1_mux = new ItaInp1Mux(this, p);
    this.i_inp2_mux = new ItaInp2Mux(this, this.zeroWeights);
    this.i_sumdotp = new ItaSumdotp(this, p, simd);
    this.i_accumulator = new ItaAccumulator(this, p);
    this.i_softmax_top = new ItaSoftmaxTop(this, p);
    this.i_requantization_controller = new ItaRequantizationController(this);
    this.i_requantizer = new ItaRequantizer(this, 'i_requantizer', p);
    this.i_activation = new ItaActivation(this, p);
    this.i_fifo_controller = new ItaFifoController(this);
    this.i_output_controller = new ItaOutputController(this);
    this.i_fifo = new FifoV3(this, 'i_fifo', p.FifoDepth, N);
    this.i_weight_controller = new ItaWeightController(this, p, nwe);
    this.i_weight_buffer = new ItaWeightBuffer(this, N, M, (N * M) / nwe);
    this.i_weight_buffer.holder = this.inp2_q;

    // static wiring
    this.i_input_sampler.inp_i = this.inp_i;
    this.i_input_sampler.inp_bias_i = this.inp_bias_i;
    this.i_weight_buffer.WriteData = this.inp_weight_i;
    this.i_sumdotp.inp1_i = this.inp1_q.cur;
    this.i_softmax_top.i_softmax.inp_i = this.i_input_sampler.inp_o;
    this.port('inp_valid_i', 1, () => this.inp_valid_i);
    this.port('inp_ready_o', 1, () => this.inp_ready_o);
    this.port('inp_weight_valid_i', 1, () => this.inp_weight_valid_i);
    this.port('inp_weight_ready_o', 1, () => this.inp_weight_ready_o);
    this.port('valid_o', 1, () => this.valid_o);
    this.port('ready_i', 1, () => this.ready_i);
    this.port('start', 1, () => this.ctrl_i.start);
    vecPort(this, 'oup_o', 8, () => this.oup_o);
  }

  override evaluate(): void {
    const c = this.ctrl_i;
    const ctl = this.i_controller;
    const cq = this.calc_en_q;
    const lq = this.last_inner_tile_q;
    // 1. output side: FIFO status and the output handshake
    const fifo = this.i_fifo;
    fifo.evaluate();
    const oc = this.i_output_controller;
    oc.fifo_empty_i = fifo.empty_o;
    oc.ready_i = this.ready_i;
    oc.evaluate();
    fifo.pop_i = oc.pop_from_fifo_o;
    if (oc.valid_o) {
      for (let i = 0; i < this.p.N; i++) this.oup_o[i] = fifo.dataLane(i);
      this.oupZero = false;
    } else if (!this.oupZero) {
      this.oup_o.fill(0);
      this.oupZero = true;
    }

    // 2. weight availability (state only)
    const wc = this.i_weight_controller;
    wc.inp_weight_valid_i = this.inp_weight_valid_i;
    wc.combValid();

    // 3. softmax (its handshake-independent part)
    const st = this.i_softmax_top;
    const sm = st.i_softmax;
    st.ctrl_i = c;
    sm.step_i = this.step_q.q(6);
    sm.calc_en_i = cq.q(6) && lq.q(6) ? 1 : 0;
    sm.requant_oup_i = this.i_requantizer.requant_oup_o;
    sm.requantInZero = this.i_requantizer.requantOupZero;
    sm.inp_i = this.i_input_sampler.inp_o;
    st.evaluate();

    // 4. controller
    ctl.ctrl_i = c;
    ctl.inp_valid_i = this.inp_valid_i;
    ctl.weight_valid_i = wc.weight_valid_o;
    ctl.bias_valid_i = this.inp_bias_valid_i;
    ctl.oup_valid_i = oc.valid_o;
    ctl.oup_ready_i = this.ready_i;
    ctl.pop_softmax_fifo_i = sm.pop_softmax_fifo_o;
    ctl.soft_addr_div_i = sm.soft_addr_div_o;
    ctl.softmax_done_i = sm.softmax_done_o;
    ctl.evaluate();
    st.evaluateStream(ctl.step_o === Step.AV && ctl.calc_en_o ? 1 : 0);

    // 5. weights: handshake, buffer write and read
    wc.weight_ready_i = ctl.weight_ready_o;
    wc.evaluate();
    const wb = this.i_weight_buffer;
    wb.ReadEnable = wc.read_en_o;
    wb.ReadAddr = wc.read_addr_o;
    wb.WriteEnable = wc.write_en_o;
    wb.WriteAddr = wc.write_addr_o;
    wb.WriteSelectIdx = wc.write_select_idx;

    // 6. input sampler
    const is = this.i_input_sampler;
    is.valid_i = this.inp_valid_i;
    is.ready_i = ctl.inp_ready_o;

    // 7. datapath
    const m1 = this.i_inp1_mux;
    m1.calc_en_i = cq.q(1);
    m1.inp_i = this.step_q.q(1) === Step.AV ? sm.inp_stream_soft_o : is.inp_o;
    m1.evaluate();
    const m2 = this.i_inp2_mux;
    m2.calc_en_i = cq.q(1);
    m2.weight_i = wb.ReadData;
    m2.evaluate();
    const sd = this.i_sumdotp;
    if (cq.q(2)) {
      sd.sign_mode_i = this.step_q.q(2) === Step.AV ? 0 : 1;
      sd.inp1_i = this.inp1_q.cur;
      sd.inp2_i = this.inp2_q.cur;
      sd.compute();
    }
    const acc = this.i_accumulator;
    acc.calc_en_i = cq.q(2);
    acc.calc_en_q_i = cq.q(3);
    acc.first_tile_i = this.first_inner_tile_q.q(2);
    acc.first_tile_q_i = this.first_inner_tile_q.q(3);
    acc.last_tile_i = lq.q(2);
    acc.last_tile_q_i = lq.q(3);
    acc.oup_i = this.oup_q.cur;
    acc.inp_bias_i = this.inp_bias_q2.cur;
    acc.evaluate();
    const rc = this.i_requantization_controller;
    rc.ctrl_i = c;
    rc.requantizer_step_i = this.step_q.q(4);
    rc.evaluate();
    const rq = this.i_requantizer;
    rq.eps_mult_i = rc.requant_mult_o;
    rq.right_shift_i = rc.requant_shift_o;
    rq.add_i = rc.requant_add_o;
    rq.calc_en_i = cq.q(4) && lq.q(4) ? 1 : 0;
    rq.calc_en_q_i = cq.q(5) && lq.q(5) ? 1 : 0;
    rq.result_i = acc.result_o;
    const act = this.i_activation;
    act.activation_i = this.activation_q.q(7);
    act.activation_q2_i = this.activation_q.q(9);
    act.calc_en_i = cq.q(6) && lq.q(6) ? 1 : 0;
    act.calc_en_q_i = cq.q(7) && lq.q(7) ? 1 : 0;
    act.b_i = c.gelu_b;
    act.c_i = c.gelu_c;
    act.requant_mult_i = c.activation_requant_mult;
    act.requant_shift_i = c.activation_requant_shift;
    act.requant_add_i = c.activation_requant_add;
    act.data_i = rq.requant_oup_o;
    act.evaluate();
    const fc = this.i_fifo_controller;
    fc.activation_done_i = cq.q(10) && lq.q(10) ? 1 : 0;
    fc.requant_oup_i = act.data_o;
    fc.fifo_full_i = fifo.full_o;
    fc.evaluate();
    fifo.push_i = fc.push_to_fifo_o;
    fifo.data_i = fc.data_to_fifo_o;
  }

  override update(): void {
    this.i_controller.update();
    this.i_input_sampler.update();
    this.i_accumulator.update();
    this.i_softmax_top.update();
    this.i_requantizer.update();
    this.i_activation.update();
    this.i_fifo.update();
    this.i_weight_controller.update();
    this.i_weight_buffer.update();
    this.seqTop();
  }

  /** The top-level registers. */
  private seqTop(): void {
    const cq = this.calc_en_q;
    const lq = this.last_inner_tile_q;
    const ctl = this.i_controller;
    // pipeline shift registers (the lines shift at the edge; stage 1 takes these)
    cq.d = ctl.calc_en_o;
    lq.d = ctl.last_inner_tile_o;
    this.activation_q.d = this.ctrl_i.activation;
    this.first_inner_tile_q.d = ctl.first_inner_tile_o;
    this.step_q.d = ctl.step_o;
    // datapath registers
    if (cq.q(2)) {
      this.inp_bias_q2.load(this.inp_bias_q1.cur);
      this.oup_q.load(this.i_sumdotp.oup_o);
    }
    if (cq.q(1)) {
      this.inp_bias_q1.load(this.i_input_sampler.inp_bias_o);
      this.inp1_q.load(this.i_inp1_mux.inp1_o);
      this.inp2_q.load(this.i_inp2_mux.inp2_o);
    }
  }

  /** One line per cycle: controller, handshakes, output. */
  override lineTrace(): string {
    const io = `${this.inp_valid_i ? 'v' : '.'}${this.inp_ready_o ? 'r' : '.'} ${this.inp_weight_valid_i ? 'v' : '.'}${this.inp_weight_ready_o ? 'r' : '.'}`;
    const out = this.valid_o
      ? `${this.ready_i ? '>' : '#'} ${Array.from(this.oup_o, (b) => (b & 0xff).toString(16).padStart(2, '0')).join('')}`
      : this.ready_i
        ? '.'
        : '#';
    return `${this.i_controller.lineTrace()} | in ${io} | fifo ${String(this.i_fifo.usage_o).padStart(2)} | ${out}`;
  }

  /** Name of the current step. */
  get stepName(): string {
    return STEP_NAMES[this.i_controller.step_o]!;
  }
}
