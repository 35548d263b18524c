/**
 * `ita_hwpe_top`: the controller, the streamer, the input / weight / bias buffers, the input-bias
 * fence, the engine (the ITA core) and the output buffer, wired as in `ita_hwpe_top.sv`. The
 * memory side is one 1024-bit HCI-Core port (`tcdm`), the configuration side the peripheral port
 * of the controller's slave (`periph`).
 *
 * A cycle is evaluated in two halves around the memory grant: `evaluateRequest()` (everything up
 * to the port's request, given the memory's responses of this cycle) and `evaluateGrant()` (given
 * the grant: handshakes, the datapath and the job controller).
 */
import { Module } from '../sim/kernel.ts';
import type { HciCoreIntf } from './intf.ts';
import { ItaHwpeCtrl } from './ita_hwpe_ctrl.ts';
import type { PeriphIntf } from './hwpe_ctrl_slave.ts';
import { ItaHwpeStreamer } from './ita_hwpe_streamer.ts';
import { ItaHwpeInputBuffer } from './ita_hwpe_input_buffer.ts';
import { ItaHwpeInputBiasBuffer } from './ita_hwpe_input_bias_buffer.ts';
import { ItaHwpeInputBiasFence } from './ita_hwpe_input_bias_fence.ts';
import { ItaHwpeOutputBuffer } from './ita_hwpe_output_buffer.ts';
import { ItaHwpeEngine } from './ita_hwpe_engine.ts';
import {
  ITA_BIAS_BYTES,
  ITA_INPUT_BYTES,
  ITA_OUTPUT_BYTES,
  ITA_TCDM_BYTES,
  ITA_WEIGHT_BYTES,
} from './params.ts';

export class ItaHwpeTop extends Module {
  readonly i_ctrl: ItaHwpeCtrl;
  readonly i_streamer: ItaHwpeStreamer;
  readonly i_input_buffer: ItaHwpeInputBuffer;
  readonly i_weight_buffer: ItaHwpeInputBuffer;
  readonly i_bias_buffer: ItaHwpeInputBiasBuffer;
  readonly i_input_bias_fence: ItaHwpeInputBiasFence;
  readonly i_output_buffer: ItaHwpeOutputBuffer;
  readonly i_engine: ItaHwpeEngine;

  constructor(parent: Module | null, name = 'i_ita') {
    super(parent, name);
    this.i_ctrl = new ItaHwpeCtrl(this, 'i_ctrl');
    this.i_streamer = new ItaHwpeStreamer(this, 'i_streamer');
    this.i_input_buffer = new ItaHwpeInputBuffer(this, 'i_input_buffer', ITA_TCDM_BYTES, ITA_INPUT_BYTES);
    this.i_weight_buffer = new ItaHwpeInputBuffer(this, 'i_weight_buffer', ITA_TCDM_BYTES, ITA_WEIGHT_BYTES);
    this.i_bias_buffer = new ItaHwpeInputBiasBuffer(this, 'i_bias_buffer', ITA_BIAS_BYTES);
    this.i_input_bias_fence = new ItaHwpeInputBiasFence(
      this,
      'i_input_bias_fence',
      ITA_INPUT_BYTES,
      ITA_BIAS_BYTES,
    );
    this.i_output_buffer = new ItaHwpeOutputBuffer(this, 'i_output_buffer', ITA_OUTPUT_BYTES, ITA_TCDM_BYTES);
    this.i_engine = new ItaHwpeEngine(this, 'i_engine', this.i_ctrl.ctrl_engine_o);
    const c = this.i_ctrl;
    const s = this.i_streamer;
    s.i_input_stream_source.ctrl_i = c.input_source_ctrl;
    s.i_weight_stream_source.ctrl_i = c.weight_source_ctrl;
    s.i_bias_stream_source.ctrl_i = c.bias_source_ctrl;
    s.i_output_stream_sink.ctrl_i = c.output_sink_ctrl;
    this.port('busy_o', 1, () => this.busy_o);
    this.port('evt_o', 2, () => this.i_ctrl.i_slave.evt(0));
  }

  get tcdm(): HciCoreIntf {
    return this.i_streamer.tcdm_o;
  }
  get periph(): PeriphIntf {
    return this.i_ctrl.i_slave.cfg;
  }
  get busy_o(): number {
    return this.i_ctrl.i_slave.is_working;
  }
  /** Events of core `i` (bit 0: job done). */
  evt_o(i: number): number {
    return this.i_ctrl.i_slave.evt(i);
  }

  /** First half: needs `periph` and the memory responses on `tcdm` (`r_valid`, `r_data`). */
  evaluateRequest(): void {
    const c = this.i_ctrl;
    const s = this.i_streamer;
    c.evaluateCtrl();
    this.i_bias_buffer.bias_dir_i = c.ctrl_stream_o.bias_direction;
    s.evaluateResponse();
    // downstream readies of the sources (state only) and the sink's stream
    s.i_input_stream_source.stream.ready = this.i_input_buffer.data_i_ready;
    s.i_weight_stream_source.stream.ready = this.i_weight_buffer.data_i_ready;
    this.i_bias_buffer.evaluateOutput();
    s.i_bias_stream_source.stream.ready = this.i_bias_buffer.data_i_ready;
    const ob = this.i_output_buffer;
    const sink = s.i_output_stream_sink;
    sink.stream_valid = ob.data_o_valid;
    sink.stream_data = ob.data_o_data;
    sink.stream_strb = ob.data_o_strb;
    s.evaluateSources();
    s.evaluateRequest();
  }

  /** Second half: needs `tcdm.gnt`. */
  evaluateGrant(): void {
    const c = this.i_ctrl;
    const s = this.i_streamer;
    s.evaluateGrant();
    // buffers
    const ib = this.i_input_buffer;
    const wb = this.i_weight_buffer;
    const bb = this.i_bias_buffer;
    const src = s.i_input_stream_source.stream;
    const wsrc = s.i_weight_stream_source.stream;
    const bsrc = s.i_bias_stream_source.stream;
    ib.evaluateOutput();
    wb.evaluateOutput();
    // fence in front of the core
    const fence = this.i_input_bias_fence;
    fence.bias_disable_i = c.ctrl_stream_o.bias_disable;
    fence.input_valid = ib.data_o_valid;
    fence.input_data = ib.data_o_data;
    fence.bias_valid = bb.data_o_valid;
    fence.bias_data = bb.data_o_data;
    fence.evaluateOutput();
    // the core
    const e = this.i_engine;
    const ob = this.i_output_buffer;
    e.input_valid = fence.out_valid;
    e.bias_valid = fence.out_valid;
    e.weight_valid = wb.data_o_valid;
    e.output_ready = ob.data_i_ready;
    e.setInputs(fence.input_o_data, wb.data_o_data, fence.bias_o_data);
    e.evaluate();
    // readies back
    fence.input_o_ready = e.input_ready;
    fence.bias_o_ready = e.bias_ready;
    fence.evaluateReady();
    ib.data_o_ready = fence.input_ready;
    bb.data_o_ready = fence.bias_ready;
    wb.data_o_ready = e.weight_ready;
    ib.data_i_valid = src.valid;
    ib.data_i_data = src.data;
    ib.evaluateHandshake();
    wb.data_i_valid = wsrc.valid;
    wb.data_i_data = wsrc.data;
    wb.evaluateHandshake();
    bb.data_i_valid = bsrc.valid;
    bb.data_i_data = bsrc.data;
    bb.evaluateHandshake();
    // output buffer
    ob.data_i_valid = e.output_valid;
    ob.data_i_data = e.oup_bytes;
    ob.data_o_ready = s.i_output_stream_sink.stream_ready;
    ob.evaluate();
    // job controller
    const f = c.flags;
    f.input_ready_start = s.i_input_stream_source.ready_start;
    f.weight_ready_start = s.i_weight_stream_source.ready_start;
    f.weight_done = s.i_weight_stream_source.done;
    f.bias_ready_start = s.i_bias_stream_source.ready_start;
    f.output_ready_start = s.i_output_stream_sink.ready_start;
    f.weight_fifo_empty = s.i_tcdm_weight_fifo.empty;
    f.output_fifo_empty = s.i_tcdm_output_fifo.empty;
    f.engine_busy = e.busy;
    c.evaluateDone();
    s.setClear(c.clear_o);
    fence.clear_i = c.clear_o;
  }

  override evaluate(): void {
    this.evaluateRequest();
    this.evaluateGrant();
  }

  /**
   * One line per cycle: job controller state, busy / start / done, the streamers' states
   * (input, weight, bias, output: `.` idle, `w` working, `d` done), the memory port (`R` / `W`
   * with the address when granted), then the core's own line trace.
   */
  override lineTrace(): string {
    const c = this.i_ctrl;
    const s = this.i_streamer;
    const st = (x: number): string => '.wd'[x] ?? '?';
    const streams =
      st(s.i_input_stream_source.cs.cur) +
      st(s.i_weight_stream_source.cs.cur) +
      st(s.i_bias_stream_source.cs.cur) +
      st(s.i_output_stream_sink.cs.cur);
    const t = this.tcdm;
    const port = t.req && t.gnt ? `${t.wen ? 'R' : 'W'}${t.add.toString(16).padStart(5, '0')}` : '      ';
    const flags = `${this.busy_o ? 'B' : '.'}${c.ctrl_engine_o.start ? 'S' : '.'}${c.done ? 'D' : '.'}`;
    return `${['idle', 'next', 'done'][c.state_q.cur]} ${flags} ${streams} ${port} | ${this.i_engine.i_ita.lineTrace()}`;
  }
}
