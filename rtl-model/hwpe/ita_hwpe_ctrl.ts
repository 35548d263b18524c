/**
 * `ita_hwpe_ctrl`: the slave and register file, the decoding of the job registers into the core's
 * `ctrl_t` word and the stream controls, and the job sequencer:
 * - Idle: on the slave's `start`, start the input source, the bias source (unless bias is
 *   disabled) and the output sink (unless output is disabled); the weight source starts one cycle
 *   later (`restart_weight_q`) with 32 words (weight preload: the whole 64 x 64 tile) or 24 (the
 *   first quarter was preloaded by the previous job). Go to NextLoad when the next job's weights
 *   are to be prefetched, else Done.
 * - NextLoad: when the weight source is done, restart it for 8 words from the next-weight pointer.
 * - Done: the job is done (slave `done`, one-cycle clear of the streamer) when the sink and the
 *   weight source are idle and the weight and output FIFOs are empty; with output disabled, when
 *   the engine is idle and the input, weight and bias sources are idle.
 * Source patterns: input 128 words of 1024 bits (32 pairs of rows, four times over), bias 2 words
 * 96 bytes apart, output 128 words (32 row pairs per 16 columns, four column groups).
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { wrapS } from '../sim/bits.ts';
import { newCtrl } from '../ita/params.ts';
import type { CtrlI } from '../ita/params.ts';
import { HwpeCtrlSlave } from './hwpe_ctrl_slave.ts';
import { ITA_REG } from './params.ts';
import { newStreamerCtrl } from './hci_core_source.ts';
import type { StreamerCtrl } from './hci_core_source.ts';

const M = 64;
const N = 16;
const TOT_LEN = (M * M) / N;

export const ItaIdle = 0;
export const NextLoad = 1;
export const Done = 2;

/** `ctrl_stream_t`. */
export interface CtrlStream {
  weight_preload: number;
  weight_nextload: number;
  bias_disable: number;
  bias_direction: number;
  output_disable: number;
}

/** Flags the controller reads from the streamer and engine. */
export interface HwpeFlags {
  input_ready_start: number;
  weight_ready_start: number;
  weight_done: number;
  bias_ready_start: number;
  output_ready_start: number;
  weight_fifo_empty: number;
  output_fifo_empty: number;
  engine_busy: number;
}

export class ItaHwpeCtrl extends Module {
  readonly i_slave: HwpeCtrlSlave;
  readonly ctrl_engine_o: CtrlI = newCtrl();
  readonly ctrl_stream_o: CtrlStream = {
    weight_preload: 0,
    weight_nextload: 0,
    bias_disable: 0,
    bias_direction: 0,
    output_disable: 0,
  };
  readonly input_source_ctrl: StreamerCtrl = newStreamerCtrl();
  readonly weight_source_ctrl: StreamerCtrl = newStreamerCtrl();
  readonly bias_source_ctrl: StreamerCtrl = newStreamerCtrl();
  readonly output_sink_ctrl: StreamerCtrl = newStreamerCtrl();
  readonly flags: HwpeFlags = {
    input_ready_start: 0,
    weight_ready_start: 0,
    weight_done: 0,
    bias_ready_start: 0,
    output_ready_start: 0,
    weight_fifo_empty: 1,
    output_fifo_empty: 1,
    engine_busy: 0,
  };
  /** `clear_o` = slave clear or the end-of-job streamer clear (valid after `evaluateDone`). */
  clear_o = 0;
  /** The end-of-job `done` (valid after `evaluateDone`). */
  done = 0;

  readonly state_q: Reg;
  readonly restart_weight_q: Reg;
  readonly weight_base_addr_q: Reg;
  readonly weight_len_q: Reg;
  private stateD = 0;
  private restartD = 0;
  private wBaseD = 0;
  private wLenD = 0;

  constructor(parent: Module, name: string) {
    super(parent, name);
    this.i_slave = new HwpeCtrlSlave(this, 'i_slave');
    this.state_q = this.reg('state_q', 2);
    this.restart_weight_q = this.reg('restart_weight_q', 1);
    this.weight_base_addr_q = this.reg('weight_base_addr_q', 32);
    this.weight_len_q = this.reg('weight_len_q', 32);
    this.port('start', 1, () => this.ctrl_engine_o.start);
    this.port('done', 1, () => this.done);
  }

  /** The `paramsKey` the engine and stream controls were last decoded for. */
  private decodedKey = -1;

  /** Decoded controls and the start requests (slave state and registers only). */
  evaluateCtrl(): void {
    const s = this.i_slave;
    s.evaluate();
    const p = (k: number): number => s.param(k);
    const c = this.ctrl_engine_o;
    c.start = s.start;
    const st = this.ctrl_stream_o;
    // the job registers decoded again only when they may read differently
    const key = s.paramsKey();
    if (key !== this.decodedKey) {
      this.decodedKey = key;
      this.decode();
    }

    // start requests and next-state defaults
    this.stateD = this.state_q.cur;
    this.restartD = 0;
    this.wBaseD = this.weight_base_addr_q.cur;
    this.wLenD = this.weight_len_q.cur;
    this.input_source_ctrl.req_start = 0;
    this.weight_source_ctrl.req_start = this.restart_weight_q.cur;
    this.bias_source_ctrl.req_start = 0;
    this.output_sink_ctrl.req_start = 0;
    if (this.state_q.cur === ItaIdle && s.start) {
      this.stateD = st.weight_nextload ? NextLoad : Done;
      this.input_source_ctrl.req_start = 1;
      this.restartD = 1;
      this.bias_source_ctrl.req_start = st.bias_disable ^ 1;
      this.output_sink_ctrl.req_start = st.output_disable ^ 1;
      const np = st.weight_preload ^ 1;
      this.wLenD = TOT_LEN / 8 - (np * M) / 8;
      this.wBaseD = (p(ITA_REG.WEIGHT_PTR0) + np * N * M) >>> 0;
    }
    // address patterns
    const ia = this.input_source_ctrl.addressgen_ctrl;
    ia.base_addr = p(ITA_REG.INPUT_PTR);
    ia.tot_len = TOT_LEN / 2;
    ia.d0_stride = (2 * 64 * 8) / 8;
    ia.d0_len = M / 2;
    ia.d1_stride = 0;
    ia.d1_len = M / N;
    ia.d2_stride = 0;
    ia.dim_enable_1h = 1;
    const wa = this.weight_source_ctrl.addressgen_ctrl;
    wa.base_addr = this.weight_base_addr_q.cur;
    wa.tot_len = this.weight_len_q.cur;
    wa.d0_stride = 128;
    wa.d0_len = this.weight_len_q.cur;
    wa.d1_stride = 0;
    wa.d1_len = 0;
    wa.d2_stride = 0;
    wa.dim_enable_1h = 0;
    const ba = this.bias_source_ctrl.addressgen_ctrl;
    ba.base_addr = p(ITA_REG.BIAS_PTR);
    ba.tot_len = 2;
    ba.d0_stride = 96;
    ba.d0_len = 2;
    ba.d1_stride = 0;
    ba.d1_len = 0;
    ba.d2_stride = 0;
    ba.dim_enable_1h = 0;
    const oa = this.output_sink_ctrl.addressgen_ctrl;
    oa.base_addr = p(ITA_REG.OUTPUT_PTR);
    oa.tot_len = TOT_LEN / 2;
    oa.d0_stride = 2 * M;
    oa.d0_len = M / 2;
    oa.d1_stride = N;
    oa.d1_len = M / N;
    oa.d2_stride = 0;
    oa.dim_enable_1h = 1;
  }

  /** The running context's job registers as the engine and stream controls see them. */
  private decode(): void {
    const s = this.i_slave;
    const p = (k: number): number => s.param(k);
    const c = this.ctrl_engine_o;
    const st = this.ctrl_stream_o;
    const tiles = p(ITA_REG.TILES);
    const nib = (k: number): number => (tiles >>> (4 * k)) & 15 || 1;
    c.tile_s = nib(0);
    c.tile_e = nib(1);
    c.tile_p = nib(2);
    c.tile_f = nib(3);
    for (let i = 0; i < 8; i++) {
      const r = i < 4 ? 0 : 1;
      const sh = 8 * (i & 3);
      c.eps_mult[i] = (p(ITA_REG.EPS_MULT0 + r) >>> sh) & 0xff;
      c.right_shift[i] = (p(ITA_REG.RIGHT_SHIFT0 + r) >>> sh) & 0xff;
      c.add[i] = wrapS((p(ITA_REG.ADD0 + r) >>> sh) & 0xff, 8);
    }
    const gbc = p(ITA_REG.GELU_B_C);
    c.gelu_b = wrapS(gbc & 0xffff, 16);
    c.gelu_c = wrapS(gbc >>> 16, 16);
    const ar = p(ITA_REG.ACTIVATION_REQUANT);
    c.activation_requant_mult = ar & 0xff;
    c.activation_requant_shift = (ar >>> 8) & 0xff;
    c.activation_requant_add = wrapS((ar >>> 16) & 0xff, 8);
    const eng = p(ITA_REG.CTRL_ENGINE);
    c.layer = eng & 3;
    c.activation = (eng >>> 2) & 3;
    const cs = p(ITA_REG.CTRL_STREAM);
    st.weight_preload = cs & 1;
    st.weight_nextload = (cs >>> 1) & 1;
    st.bias_disable = (cs >>> 2) & 1;
    st.bias_direction = (cs >>> 3) & 1;
    st.output_disable = (cs >>> 4) & 1;
  }

  /** NextLoad / Done transitions: needs `flags` of this cycle. */
  evaluateDone(): void {
    const f = this.flags;
    const st = this.ctrl_stream_o;
    const s = this.i_slave;
    let done = 0;
    let streamClear = 0;
    if (this.state_q.cur === NextLoad) {
      if (f.weight_done) {
        this.stateD = Done;
        this.restartD = 1;
        this.wLenD = M / 8;
        this.wBaseD = s.param(ITA_REG.WEIGHT_PTR1);
      }
    } else if (this.state_q.cur === Done) {
      if (
        st.output_disable &&
        !f.engine_busy &&
        f.input_ready_start &&
        f.weight_ready_start &&
        f.bias_ready_start
      ) {
        this.stateD = ItaIdle;
        done = 1;
        streamClear = 1;
      }
      if (
        !st.output_disable &&
        f.output_ready_start &&
        f.weight_ready_start &&
        f.weight_fifo_empty &&
        f.output_fifo_empty
      ) {
        this.stateD = ItaIdle;
        done = 1;
        streamClear = 1;
      }
    }
    this.done = done;
    s.done_i = done;
    s.flags.true_done = done & s.is_working;
    this.clear_o = s.clear_o | streamClear;
  }

  override evaluate(): void {
    this.evaluateCtrl();
    this.evaluateDone();
  }

  protected override seq(): void {
    this.state_q.nxt = this.stateD;
    this.restart_weight_q.nxt = this.restartD;
    this.weight_base_addr_q.nxt = this.wBaseD >>> 0;
    this.weight_len_q.nxt = this.wLenD;
  }
}
