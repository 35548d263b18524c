/**
 * `hwpe_stream_addressgen_v3` (hwpe-stream): walks up to three nested dimensions and emits one
 * address per cycle while the consumer is ready. `presample_i` (the start request) zeroes the
 * innermost offset while the counters take their first step, so the first address is the base.
 * Counters: d0 from 0, d1 and d2 from 1; `done` is raised (combinationally) once `tot_len`
 * addresses have been produced and the consumer is ready.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { wrapS } from '../sim/bits.ts';

/** `ctrl_addressgen_v3_t`. */
export interface AddressgenCtrl {
  base_addr: number;
  tot_len: number;
  d0_len: number;
  d0_stride: number;
  d1_len: number;
  d1_stride: number;
  d2_stride: number;
  /** Bit 0: 2-D, bit 1: 3-D. */
  dim_enable_1h: number;
}

export function newAddressgenCtrl(): AddressgenCtrl {
  return {
    base_addr: 0,
    tot_len: 0,
    d0_len: 0,
    d0_stride: 0,
    d1_len: 0,
    d1_stride: 0,
    d2_stride: 0,
    dim_enable_1h: 0,
  };
}

const u32 = (x: number): number => x >>> 0;

export class HwpeStreamAddressgenV3 extends Module {
  // ---- inputs ----
  enable_i = 0;
  clear_i = 0;
  presample_i = 0;
  /** `addr_o.ready`. */
  ready_i = 0;
  ctrl_i: AddressgenCtrl = newAddressgenCtrl();
  // ---- outputs ----
  /** `flags_o.done`. */
  done_o = 0;

  readonly d0_addr_q: Reg;
  readonly d1_addr_q: Reg;
  readonly d2_addr_q: Reg;
  readonly d0_counter_q: Reg;
  readonly d1_counter_q: Reg;
  readonly d2_counter_q: Reg;
  readonly overall_counter_q: Reg;
  readonly addr_valid_q: Reg;

  // next-state values computed in comb
  private d0a = 0;
  private d1a = 0;
  private d2a = 0;
  private d0c = 0;
  private d1c = 0;
  private d2c = 0;
  private ovc = 0;
  private av = 0;

  constructor(parent: Module, name: string) {
    super(parent, name);
    this.d0_addr_q = this.reg('d0_addr_q', 32);
    this.d1_addr_q = this.reg('d1_addr_q', 32);
    this.d2_addr_q = this.reg('d2_addr_q', 32);
    this.d0_counter_q = this.reg('d0_counter_q', 32);
    this.d1_counter_q = this.reg('d1_counter_q', 32, 1);
    this.d2_counter_q = this.reg('d2_counter_q', 32, 1);
    this.overall_counter_q = this.reg('overall_counter_q', 16);
    this.addr_valid_q = this.reg('addr_valid_q', 1);
    this.port('addr_o_valid', 1, () => this.valid_o);
    this.port('addr_o_data', 32, () => this.addr_o);
  }

  get valid_o(): number {
    return this.addr_valid_q.cur;
  }
  get addr_o(): number {
    return u32(this.ctrl_i.base_addr + this.d2_addr_q.cur + this.d1_addr_q.cur + this.d0_addr_q.cur);
  }

  protected override comb(): void {
    const c = this.ctrl_i;
    this.d0a = this.d0_addr_q.cur;
    this.d1a = this.d1_addr_q.cur;
    this.d2a = this.d2_addr_q.cur;
    this.d0c = this.d0_counter_q.cur;
    this.d1c = this.d1_counter_q.cur;
    this.d2c = this.d2_counter_q.cur;
    this.ovc = this.overall_counter_q.cur;
    this.av = this.addr_valid_q.cur;
    this.done_o = 0;
    if (!this.ready_i) return;
    if (this.ovc < u32(c.tot_len)) {
      this.av = 1;
      if (this.d0c < u32(c.d0_len) || (c.dim_enable_1h & 1) === 0) {
        this.d0a = u32(this.d0a + wrapS(c.d0_stride, 32));
        this.d0c = u32(this.d0c + 1);
      } else if (this.d1c < u32(c.d1_len) || (c.dim_enable_1h & 2) === 0) {
        this.d0a = 0;
        this.d1a = u32(this.d1a + wrapS(c.d1_stride, 32));
        this.d0c = 1;
        this.d1c = u32(this.d1c + 1);
      } else {
        this.d0a = 0;
        this.d1a = 0;
        this.d2a = u32(this.d2a + wrapS(c.d2_stride, 32));
        this.d0c = 1;
        this.d1c = 1;
        this.d2c = u32(this.d2c + 1);
      }
      this.ovc = (this.ovc + 1) & 0xffff;
    } else {
      this.av = 0;
      this.done_o = 1;
    }
  }

  protected override seq(): void {
    if (this.clear_i) {
      this.d0_addr_q.nxt = 0;
      this.d1_addr_q.nxt = 0;
      this.d2_addr_q.nxt = 0;
      this.d0_counter_q.nxt = 0;
      this.d1_counter_q.nxt = 1;
      this.d2_counter_q.nxt = 1;
      this.overall_counter_q.nxt = 0;
      this.addr_valid_q.nxt = 0;
      return;
    }
    if (this.presample_i) this.d0_addr_q.nxt = 0;
    else if (this.enable_i) this.d0_addr_q.nxt = this.d0a;
    if (this.enable_i) {
      this.d1_addr_q.nxt = this.d1a;
      this.d2_addr_q.nxt = this.d2a;
      this.d0_counter_q.nxt = this.d0c;
      this.d1_counter_q.nxt = this.d1c;
      this.d2_counter_q.nxt = this.d2c;
      this.overall_counter_q.nxt = this.ovc;
      this.addr_valid_q.nxt = this.av;
    }
  }
}
