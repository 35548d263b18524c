/**
 * `ita_accumulator` with its partial-sum memory (`tc_sram`, one read and one write port, read
 * latency 1, M*M/N words of N x WO bits). The first inner tile writes the partial sums, middle
 * tiles read-add-write them, the last inner tile adds the stored sum and the bias and registers the
 * result.
 */
import { Enrolment, Module } from '../sim/kernel.ts';
import type { CommitsWhenWritten, Reg, WrittenList } from '../sim/kernel.ts';
import { wrapS } from '../sim/bits.ts';
import type { ItaParams } from './params.ts';
import { vecReg } from './vec.ts';
import type { VecReg } from './vec.ts';

/** `tc_sram` with Latency 1: a read's data appears in the cycle after the request. */
export class TcSram extends Module implements CommitsWhenWritten {
  req_read = 0;
  addr_read = 0;
  req_write = 0;
  addr_write = 0;
  /** Write data; the writer holds it from the combinational pass to the edge, which samples it. */
  wdata!: Int32Array;
  readonly mem: Int32Array;
  /** Registered read data (port 0). */
  readonly rdata_o: Int32Array;
  private pendRead = false;
  private pendReadAddr = 0;
  private pendWrite = false;
  private pendWriteAddr = 0;
  /** Committed at the edges of the cycles it is written in (see `WrittenList`). */
  private readonly written = new Enrolment(this);
  commitVia(list: WrittenList): void {
    this.written.via(list);
  }
  constructor(
    parent: Module,
    readonly numWords: number,
    readonly lanes: number,
  ) {
    super(parent, 'i_partialsum_buffer');
    this.mem = new Int32Array(numWords * lanes);
    this.rdata_o = new Int32Array(lanes);
    this.state.push(this);
  }
  override update(): void {
    if (this.req_read) {
      this.pendRead = true;
      this.pendReadAddr = this.addr_read;
      this.written.mark();
    }
    if (this.req_write) {
      this.pendWrite = true;
      this.pendWriteAddr = this.addr_write;
      this.written.mark();
    }
  }
  commit(): void {
    this.written.done();
    const L = this.lanes;
    if (this.pendRead) {
      const b = this.pendReadAddr * L;
      for (let i = 0; i < L; i++) this.rdata_o[i] = this.mem[b + i]!;
      this.pendRead = false;
    }
    if (this.pendWrite) {
      this.mem.set(this.wdata, this.pendWriteAddr * L);
      this.pendWrite = false;
    }
  }
  changes(): boolean {
    const L = this.lanes;
    if (this.pendRead) {
      const b = this.pendReadAddr * L;
      for (let i = 0; i < L; i++) if (this.rdata_o[i] !== this.mem[b + i]) return true;
    }
    if (this.pendWrite) {
      const b = this.pendWriteAddr * L;
      for (let i = 0; i < L; i++) if (this.mem[b + i] !== this.wdata[i]) return true;
    }
    return false;
  }
  reset(): void {
    this.mem.fill(0);
    this.rdata_o.fill(0);
    this.pendRead = false;
    this.pendWrite = false;
  }
}

export class ItaAccumulator extends Module {
  calc_en_i = 0;
  calc_en_q_i = 0;
  first_tile_i = 0;
  first_tile_q_i = 0;
  last_tile_i = 0;
  last_tile_q_i = 0;
  oup_i!: Int32Array;
  inp_bias_i!: Int32Array;
  get result_o(): Int32Array {
    return this.result_q.cur;
  }
  readonly read_addr_q: Reg;
  readonly write_addr_q: Reg;
  readonly result_q: VecReg;
  readonly i_partialsum_buffer: TcSram;
  private readonly write_data: Int32Array;
  private resultZero = true;
  private readonly addrMask: number;
  /**
   * 32 - WO when WO <= 32: the lanes are then wrapped by a shift pair, which is exact for sums
   * of int32 lanes (the low 32 bits of a sum below 2^53 are exact); -1 otherwise.
   */
  private readonly wrapShift: number;
  constructor(
    parent: Module,
    readonly p: ItaParams,
  ) {
    super(parent, 'i_accumulator');
    const words = (p.M * p.M) / p.N;
    this.addrMask = words - 1;
    this.wrapShift = p.WO <= 32 ? 32 - p.WO : -1;
    this.read_addr_q = this.reg('read_addr_q', Math.log2(words));
    this.write_addr_q = this.reg('write_addr_q', Math.log2(words));
    this.result_q = vecReg(this, 'result_q', p.N, p.WO);
    this.i_partialsum_buffer = new TcSram(this, words, p.N);
    this.write_data = new Int32Array(p.N);
    this.i_partialsum_buffer.wdata = this.write_data;
  }
  override evaluate(): void {
    const sram = this.i_partialsum_buffer;
    sram.req_read = this.calc_en_i && !this.first_tile_i ? 1 : 0;
    sram.addr_read = this.read_addr_q.cur;
    sram.req_write = 0;
    sram.addr_write = this.write_addr_q.cur;
    if (this.calc_en_q_i && !(this.last_tile_q_i && this.first_tile_q_i) && !this.last_tile_q_i) {
      sram.req_write = 1;
      const N = this.p.N;
      const WO = this.p.WO;
      const rd = sram.rdata_o;
      const o = this.oup_i;
      const wd = this.write_data;
      const sh = this.wrapShift;
      if (this.first_tile_q_i) wd.set(o);
      else if (sh >= 0) for (let i = 0; i < N; i++) wd[i] = ((o[i]! + rd[i]!) << sh) >> sh;
      else for (let i = 0; i < N; i++) wd[i] = wrapS(o[i]! + rd[i]!, WO);
    }
  }
  override update(): void {
    this.i_partialsum_buffer.update();
    if (this.i_partialsum_buffer.req_read) this.read_addr_q.nxt = (this.read_addr_q.cur + 1) & this.addrMask;
    if (this.i_partialsum_buffer.req_write)
      this.write_addr_q.nxt = (this.write_addr_q.cur + 1) & this.addrMask;
    if (this.calc_en_q_i && this.last_tile_q_i) {
      const N = this.p.N;
      const WO = this.p.WO;
      const r = this.result_q.next();
      const o = this.oup_i;
      const b = this.inp_bias_i;
      const sh = this.wrapShift;
      if (this.first_tile_q_i) {
        if (sh >= 0) for (let i = 0; i < N; i++) r[i] = ((o[i]! + b[i]!) << sh) >> sh;
        else for (let i = 0; i < N; i++) r[i] = wrapS(o[i]! + b[i]!, WO);
      } else {
        const rd = this.i_partialsum_buffer.rdata_o;
        if (sh >= 0) for (let i = 0; i < N; i++) r[i] = ((o[i]! + rd[i]! + b[i]!) << sh) >> sh;
        else for (let i = 0; i < N; i++) r[i] = wrapS(o[i]! + rd[i]! + b[i]!, WO);
      }
      this.resultZero = false;
    } else if (!this.resultZero) {
      this.result_q.clear();
      this.resultZero = true;
    }
  }
}
