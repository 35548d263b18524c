/**
 * `hwpe_ctrl_regfile` (hwpe-ctrl): the job registers of every context in one latch register file
 * (modelled with flop writes: a write is readable after its edge; a clear zeroes every word and
 * wins over a write in the same cycle), the mandatory registers (STATUS byte per context,
 * RUNNING_JOB, FINISHED counter) and the ACQUIRE test-and-set answer. The job registers of the
 * running context are the `hwpe_params` the accelerator sees. The register file is cleared two
 * cycles after reset and by a SOFT_CLEAR write of 0.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import {
  ITA_IO_REGS,
  N_CONTEXT,
  REGFILE_MANDATORY_RUNNING,
  REGFILE_MANDATORY_STATUS,
  REGFILE_N_MANDATORY_REGS,
} from './params.ts';

/** The flags the slave computes for the register file (`flags_regfile_t`). */
export interface RegfileFlags {
  is_mandatory: number;
  is_contexted: number;
  is_read: number;
  is_testset: number;
  is_trigger: number;
  is_commit: number;
  true_done: number;
  is_critical: number;
  full_context: number;
  pointer_context: number;
  running_context: number;
  ext_re: number;
  ext_flags: number;
}

export class HwpeCtrlRegfile extends Module {
  // ---- inputs (regfile_in_t and flags) ----
  addr = 0;
  rden = 0;
  wren = 0;
  wdata = 0;
  be = 0xf;
  clear_i = 0;
  flags!: RegfileFlags;

  /** Context `c`, job register `k` at `mem.cur[c * 17 + k]`. */
  readonly mem: Float64Array;
  private readonly memNxt: Float64Array;
  private memDirty = false;
  readonly r_first_startup: Reg;
  readonly r_clear_first_startup: Reg;
  readonly raddr_q: Reg;
  readonly mandatory_dout: Reg;
  readonly offload_job_id: Reg;
  readonly offload_job_id_incr: Reg;
  readonly running_job_id: Reg;
  readonly running_job_id_incr: Reg;
  readonly rdata_int: Reg;
  readonly r_was_testset: Reg;
  readonly r_was_mandatory: Reg;
  readonly running_reg: Reg;
  readonly status_reg: Reg;
  readonly r_finished_cnt: Reg;

  constructor(parent: Module, name: string) {
    super(parent, name);
    const words = N_CONTEXT * ITA_IO_REGS;
    this.mem = new Float64Array(words);
    this.memNxt = new Float64Array(words);
    this.state.push({
      commit: (): void => {
        if (this.memDirty) {
          this.mem.set(this.memNxt);
          this.memDirty = false;
          this.memVersion++;
        }
      },
      reset: (): void => {
        this.mem.fill(0);
        this.memNxt.fill(0);
        this.memDirty = false;
        this.memVersion++;
      },
      changes: (): boolean => {
        if (!this.memDirty) return false;
        for (let i = 0; i < this.mem.length; i++) if (this.mem[i] !== this.memNxt[i]) return true;
        return false;
      },
    });
    this.r_first_startup = this.reg('r_first_startup', 3);
    this.r_clear_first_startup = this.reg('r_clear_first_startup', 1);
    this.raddr_q = this.reg('regfile_latch_rd_addr_q', 7);
    this.mandatory_dout = this.reg('regfile_mem_mandatory_dout', 32);
    this.offload_job_id = this.reg('offload_job_id', 8);
    this.offload_job_id_incr = this.reg('offload_job_id_incr', 1);
    this.running_job_id = this.reg('running_job_id', 8);
    this.running_job_id_incr = this.reg('running_job_id_incr', 1);
    this.rdata_int = this.reg('regfile_out_rdata_int', 32);
    this.r_was_testset = this.reg('r_was_testset', 1);
    this.r_was_mandatory = this.reg('r_was_mandatory', 1);
    this.running_reg = this.reg('running_job', 32);
    this.status_reg = this.reg('status', 32);
    this.r_finished_cnt = this.reg('r_finished_cnt', 2);
  }

  /** Counts the edges that wrote the context memory (a simulation key, no hardware counterpart). */
  private memVersion = 0;
  /** Changes whenever a job register of the running context may read differently. */
  paramsKey(): number {
    return this.memVersion * 4 + this.flags.running_context;
  }

  /** Job register `k` of the running context (`reg_file.hwpe_params[k]`). */
  param(k: number): number {
    return this.mem[this.flags.running_context * ITA_IO_REGS + k]!;
  }

  /** Index of the addressed word in the context memory (`regfile_latch_rd_addr` / `wr_addr`). */
  private latchAddr(): number {
    const reg = this.addr & 63;
    const cxt = (this.addr >> 6) & 3;
    return cxt * ITA_IO_REGS + reg - REGFILE_N_MANDATORY_REGS;
  }

  /** `regfile_out_o.rdata`. */
  get rdata(): number {
    if (this.r_was_testset.cur) return this.rdata_int.cur;
    if (!this.r_was_mandatory.cur) {
      const a = this.raddr_q.cur;
      return a >= 0 && a < this.mem.length ? this.mem[a]! : 0;
    }
    return this.mandatory_dout.cur;
  }

  private mandatory(reg: number): number {
    switch (reg) {
      case 2:
        return this.r_finished_cnt.cur;
      case REGFILE_MANDATORY_STATUS:
        return this.status_reg.cur;
      case REGFILE_MANDATORY_RUNNING:
        return this.running_reg.cur;
      case 6:
        return this.wdata;
      default:
        return 0; // SOFT_CLEAR reads 0; TRIGGER/ACQUIRE/SW_EVT are not held here
    }
  }

  protected override seq(): void {
    const f = this.flags;
    // start-up clear
    const rfs = this.r_first_startup.cur;
    this.r_first_startup.nxt = ((rfs << 1) | 1) & 7;
    this.r_clear_first_startup.nxt = rfs & 3 && !(rfs & 4) ? 1 : 0;
    const clearMem = this.clear_i | this.r_clear_first_startup.cur;
    // context memory
    if (clearMem) {
      this.memNxt.fill(0);
      this.memDirty = true;
    } else if (!f.is_mandatory && this.wren) {
      const a = this.latchAddr();
      if (a >= 0 && a < this.mem.length) {
        if (!this.memDirty) this.memNxt.set(this.mem);
        let v = this.mem[a]!;
        for (let b = 0; b < 4; b++) {
          if ((this.be >> b) & 1) {
            const m = 0xff << (8 * b);
            v = ((v & ~m) | (this.wdata & m)) >>> 0;
          }
        }
        this.memNxt[a] = v;
        this.memDirty = true;
      }
    }
    if (f.is_read) this.raddr_q.nxt = this.latchAddr() & 127;
    // mandatory read data
    const reg = this.addr & 63;
    if (this.clear_i) this.mandatory_dout.nxt = 0;
    else if (f.ext_re) this.mandatory_dout.nxt = f.ext_flags;
    else this.mandatory_dout.nxt = reg > 1 ? this.mandatory(reg) : 0xdeadbeef;
    // job ids
    if (this.clear_i) this.offload_job_id.nxt = 0;
    else if (this.offload_job_id_incr.cur) this.offload_job_id.nxt = (this.offload_job_id.cur + 1) & 0xff;
    this.running_job_id_incr.nxt = this.clear_i ? 0 : f.true_done;
    if (this.clear_i) this.running_job_id.nxt = 0;
    else if (this.running_job_id_incr.cur) this.running_job_id.nxt = (this.running_job_id.cur + 1) & 0xff;
    // ACQUIRE answer
    if (f.is_testset || f.is_read) {
      if (f.is_testset) {
        if (f.is_critical) {
          this.offload_job_id_incr.nxt = 0;
          this.rdata_int.nxt = 0xfffffffe;
        } else if (f.full_context) {
          this.offload_job_id_incr.nxt = 0;
          this.rdata_int.nxt = 0xffffffff;
        } else {
          this.offload_job_id_incr.nxt = 1;
          this.rdata_int.nxt = this.offload_job_id.cur;
        }
      } else this.offload_job_id_incr.nxt = 0;
    } else this.offload_job_id_incr.nxt = 0;
    if (this.clear_i) {
      this.r_was_testset.nxt = 0;
      this.r_was_mandatory.nxt = 0;
    } else {
      this.r_was_testset.nxt = f.is_testset;
      this.r_was_mandatory.nxt = f.is_mandatory;
    }
    this.running_reg.nxt = this.clear_i ? 0 : this.running_job_id.cur;
    // STATUS: one byte per context
    if (this.clear_i) this.status_reg.nxt = 0;
    else if (f.is_trigger || f.true_done) {
      let s = this.status_reg.cur;
      for (let i = 0; i < N_CONTEXT; i++) {
        const m = 0xff << (8 * i);
        if (f.pointer_context === i) {
          if (f.is_trigger) s = (s & ~m) | (1 << (8 * i));
          else if (f.true_done && f.running_context === f.pointer_context) s &= ~m;
        } else if (f.running_context === i && f.true_done) s &= ~m;
      }
      this.status_reg.nxt = s >>> 0;
    }
    // FINISHED
    if (this.clear_i) this.r_finished_cnt.nxt = 0;
    else if (f.is_mandatory && reg === 2) this.r_finished_cnt.nxt = 0;
    else if (f.true_done && this.r_finished_cnt.cur < 2)
      this.r_finished_cnt.nxt = this.r_finished_cnt.cur + 1;
  }
}
