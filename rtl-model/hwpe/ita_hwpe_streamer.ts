/**
 * `ita_hwpe_streamer`: three sources (input, weight, bias) and the output sink, each behind a
 * 2-deep `hci_core_fifo`, merged by the round-robin `hci_core_mux_ooo` (channels 0 input,
 * 1 weight, 2 bias, 3 output) onto one 1024-bit port, whose responses are tagged by the
 * `hci_core_r_id_filter` (memory answers a granted request in the next cycle, writes included).
 *
 * Evaluation order within a cycle: `evaluateResponse` (state and memory responses),
 * `evaluateSources` (needs the downstream readies), `evaluateRequest` (the port's request),
 * then, after the memory grant, `evaluateGrant`.
 */
import { Module } from '../sim/kernel.ts';
import { HciCoreIntf } from './intf.ts';
import { HciCoreSource } from './hci_core_source.ts';
import { HciCoreSink } from './hci_core_sink.ts';
import { HciCoreFifo } from './hci_core_fifo.ts';
import { HciCoreMuxOoo } from './hci_core_mux_ooo.ts';
import { HciCoreRIdFilter } from './hci_core_r_id_filter.ts';
import { ITA_TCDM_BYTES } from './params.ts';

export class ItaHwpeStreamer extends Module {
  readonly tcdm_o: HciCoreIntf;
  clear_i = 0;
  readonly i_input_stream_source: HciCoreSource;
  readonly i_weight_stream_source: HciCoreSource;
  readonly i_bias_stream_source: HciCoreSource;
  readonly i_output_stream_sink: HciCoreSink;
  readonly i_tcdm_input_fifo: HciCoreFifo;
  readonly i_tcdm_weight_fifo: HciCoreFifo;
  readonly i_tcdm_bias_fifo: HciCoreFifo;
  readonly i_tcdm_output_fifo: HciCoreFifo;
  readonly i_ldst_mux: HciCoreMuxOoo;
  readonly i_ldst_filter: HciCoreRIdFilter;
  private readonly fifos: HciCoreFifo[];

  constructor(parent: Module, name: string) {
    super(parent, name);
    const B = ITA_TCDM_BYTES;
    this.tcdm_o = new HciCoreIntf(`${this.path}.tcdm_o`, B);
    this.i_input_stream_source = new HciCoreSource(this, 'i_input_stream_source', B);
    this.i_weight_stream_source = new HciCoreSource(this, 'i_weight_stream_source', B);
    this.i_bias_stream_source = new HciCoreSource(this, 'i_bias_stream_source', B);
    this.i_output_stream_sink = new HciCoreSink(this, 'i_output_stream_sink', B);
    this.i_tcdm_input_fifo = new HciCoreFifo(this, 'i_tcdm_input_fifo', 2, B);
    this.i_tcdm_weight_fifo = new HciCoreFifo(this, 'i_tcdm_weight_fifo', 2, B);
    this.i_tcdm_bias_fifo = new HciCoreFifo(this, 'i_tcdm_bias_fifo', 2, B);
    this.i_tcdm_output_fifo = new HciCoreFifo(this, 'i_tcdm_output_fifo', 2, B);
    this.i_tcdm_input_fifo.tcdm_target = this.i_input_stream_source.tcdm;
    this.i_tcdm_weight_fifo.tcdm_target = this.i_weight_stream_source.tcdm;
    this.i_tcdm_bias_fifo.tcdm_target = this.i_bias_stream_source.tcdm;
    this.i_tcdm_output_fifo.tcdm_target = this.i_output_stream_sink.tcdm;
    this.fifos = [
      this.i_tcdm_input_fifo,
      this.i_tcdm_weight_fifo,
      this.i_tcdm_bias_fifo,
      this.i_tcdm_output_fifo,
    ];
    this.i_ldst_mux = new HciCoreMuxOoo(
      this,
      'i_ldst_mux',
      this.fifos.map((f) => f.tcdm_initiator),
      B,
    );
    this.i_ldst_filter = new HciCoreRIdFilter(this, 'i_ldst_filter', this.i_ldst_mux.out, this.tcdm_o);
  }

  evaluateResponse(): void {
    this.i_ldst_filter.evaluateResponse();
    this.i_ldst_mux.evaluateResponse();
    for (const f of this.fifos) f.evaluateResponse();
  }

  evaluateSources(): void {
    this.i_input_stream_source.evaluate();
    this.i_weight_stream_source.evaluate();
    this.i_bias_stream_source.evaluate();
    this.i_output_stream_sink.evaluate();
  }

  evaluateRequest(): void {
    for (const f of this.fifos) f.evaluateRequest();
    this.i_ldst_mux.evaluateRequest();
    this.i_ldst_filter.evaluateRequest();
  }

  evaluateGrant(): void {
    this.i_ldst_filter.evaluateGrant();
    this.i_ldst_mux.evaluateGrant();
    for (const f of this.fifos) f.evaluateGrant();
  }

  /** Distributes the clear of this cycle (call before `update`). */
  setClear(c: number): void {
    this.clear_i = c;
    this.i_input_stream_source.clear_i = c;
    this.i_weight_stream_source.clear_i = c;
    this.i_bias_stream_source.clear_i = c;
    this.i_output_stream_sink.clear_i = c;
    for (const f of this.fifos) f.clear_i = c;
    this.i_ldst_mux.clear_i = c;
    this.i_ldst_filter.clear_i = c;
  }

  override evaluate(): void {
    this.evaluateResponse();
    this.evaluateSources();
    this.evaluateRequest();
    this.evaluateGrant();
  }
}
