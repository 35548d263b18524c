/**
 * `hwpe_ctrl_slave` (hwpe-ctrl): the peripheral (configuration) port of an HWPE. It decodes
 * accesses to the mandatory registers, keeps the job contexts (a write to TRIGGER commits the
 * context being programmed; jobs run in commit order), and runs a job: IDLE -> STARTING (busy
 * rises one edge after the trigger is seen with a pending context) -> RUN (`start` high for one
 * cycle) -> IDLE on `done`, which also raises event 0 for the core that committed the job
 * (`evt_o[core][0]`). SOFT_CLEAR clears the HWPE for three cycles (`clear_o`), and the register
 * file too when the written value is 0. The port always grants; read data come one cycle later.
 */
import { Module } from '../sim/kernel.ts';
import type { Reg } from '../sim/kernel.ts';
import { HwpeCtrlRegfile } from './hwpe_ctrl_regfile.ts';
import type { RegfileFlags } from './hwpe_ctrl_regfile.ts';
import {
  N_CONTEXT,
  N_CORES,
  REGFILE_MANDATORY_ACQUIRE,
  REGFILE_MANDATORY_RESERVED,
  REGFILE_MANDATORY_SOFTCLEAR,
  REGFILE_MANDATORY_SWEVT,
  REGFILE_MANDATORY_TRIGGER,
  REGFILE_N_MANDATORY_REGS,
} from './params.ts';

/** `hwpe_ctrl_intf_periph` (request side driven by the core / testbench). */
export class PeriphIntf {
  req = 0;
  add = 0;
  /** 1 = read, 0 = write. */
  wen = 1;
  be = 0;
  data = 0;
  id = 0;
  // responses
  gnt = 1;
  r_data = 0;
  r_valid = 0;
  r_id = 0;
}

const RUN_IDLE = 0;
const RUN_RUN = 1;
const RUN_STARTING = 2;

export class HwpeCtrlSlave extends Module {
  readonly cfg = new PeriphIntf();
  /** `ctrl_i.done` (from the HWPE controller, this cycle). */
  done_i = 0;
  /** `ctrl_i.evt` (the accelerator's own events, one bit; unused by ITA). */
  evt_i = 0;

  readonly i_regfile: HwpeCtrlRegfile;
  readonly triggered_q: Reg;
  readonly offloading_core: Reg[];
  readonly pointer_context: Reg;
  readonly running_context: Reg;
  readonly counter_pending: Reg;
  readonly running_state: Reg;
  readonly start_q: Reg;
  readonly is_working_q: Reg;
  readonly is_critical_q: Reg;
  readonly context_state: Reg;
  /** `flags_o.evt`: core i, event e at bit 2i + e. */
  readonly evt_q: Reg;
  readonly sw_evt_q: Reg;
  readonly s_clear: Reg;
  readonly clear_q: Reg;
  readonly s_clear_regfile: Reg;
  readonly clear_regfile: Reg;
  readonly cfg_id_q: Reg;
  readonly cfg_req_q: Reg;
  readonly flags: RegfileFlags = {
    is_mandatory: 0,
    is_contexted: 0,
    is_read: 0,
    is_testset: 0,
    is_trigger: 0,
    is_commit: 0,
    true_done: 0,
    is_critical: 0,
    full_context: 0,
    pointer_context: 0,
    running_context: 0,
    ext_re: 0,
    ext_flags: 0,
  };

  constructor(parent: Module, name: string) {
    super(parent, name);
    this.i_regfile = new HwpeCtrlRegfile(this, 'i_regfile');
    this.i_regfile.flags = this.flags;
    this.triggered_q = this.reg('triggered_q', 1);
    this.offloading_core = Array.from({ length: N_CONTEXT }, (_, i) => this.reg(`offloading_core_${i}`, 4));
    this.pointer_context = this.reg('pointer_context', 2);
    this.running_context = this.reg('running_context', 2);
    this.counter_pending = this.reg('counter_pending', 3);
    this.running_state = this.reg('running_state', 2);
    this.start_q = this.reg('start', 1);
    this.is_working_q = this.reg('is_working', 1);
    this.is_critical_q = this.reg('is_critical', 1);
    this.context_state = this.reg('context_state', 1);
    this.evt_q = this.reg('evt', 2 * N_CORES);
    this.sw_evt_q = this.reg('sw_evt', 8);
    this.s_clear = this.reg('s_clear', 2);
    this.clear_q = this.reg('clear_o', 1);
    this.s_clear_regfile = this.reg('s_clear_regfile', 2);
    this.clear_regfile = this.reg('clear_regfile', 1);
    this.cfg_id_q = this.reg('cfg_id_q', 8);
    this.cfg_req_q = this.reg('cfg_req_q', 1);
    this.port('cfg_req', 1, () => this.cfg.req);
    this.port('cfg_add', 32, () => this.cfg.add);
    this.port('cfg_wen', 1, () => this.cfg.wen);
    this.port('cfg_data', 32, () => this.cfg.data);
  }

  /** `flags_o.start`. */
  get start(): number {
    return this.start_q.cur;
  }
  /** `flags_o.is_working` (the HWPE's busy). */
  get is_working(): number {
    return this.is_working_q.cur;
  }
  get clear_o(): number {
    return this.clear_q.cur;
  }
  /** Event bits of core `i` (bit 0: job done). */
  evt(i: number): number {
    return (this.evt_q.cur >> (2 * i)) & 3;
  }
  /** Job register `k` of the running context. */
  param(k: number): number {
    return this.i_regfile.param(k);
  }
  /** Changes whenever a job register of the running context may read differently. */
  paramsKey(): number {
    return this.i_regfile.paramsKey();
  }

  /** Decoding of the current access (needs `cfg` and `done_i`). */
  protected override comb(): void {
    const c = this.cfg;
    const f = this.flags;
    const reg = (c.add >>> 2) & 63;
    f.is_mandatory = reg <= REGFILE_N_MANDATORY_REGS - 1 ? 1 : 0;
    f.is_contexted = reg > REGFILE_N_MANDATORY_REGS - 1 ? 1 : 0;
    f.is_read = c.req && c.wen ? 1 : 0;
    f.is_testset = c.req && c.wen && reg === REGFILE_MANDATORY_ACQUIRE ? 1 : 0;
    f.is_commit = c.req && !c.wen && reg === REGFILE_MANDATORY_TRIGGER ? 1 : 0;
    f.is_trigger = f.is_commit && c.data === 0 ? 1 : 0;
    f.true_done = this.done_i & this.is_working_q.cur;
    f.is_critical = this.is_critical_q.cur;
    f.full_context = this.counter_pending.cur === N_CONTEXT ? 1 : 0;
    f.pointer_context = this.pointer_context.cur;
    f.running_context = this.running_context.cur;
    const ext = f.is_mandatory && reg === REGFILE_MANDATORY_RESERVED && c.req ? 1 : 0;
    f.ext_re = ext & c.wen;
    f.ext_flags = 0;
    // register file request
    const rf = this.i_regfile;
    const cxtBits = (c.add >>> 8) & 7;
    const cxt = !c.wen || cxtBits === 0 ? this.pointer_context.cur : (cxtBits - 1) & 3;
    rf.addr = (cxt << 6) | reg;
    rf.rden = f.is_mandatory ? 0 : c.req & c.wen;
    rf.wren = f.is_mandatory ? 0 : c.req & (c.wen ^ 1);
    rf.wdata = c.data >>> 0;
    rf.be = c.be;
    rf.clear_i = this.clear_regfile.cur;
    c.gnt = 1;
    c.r_data = rf.rdata;
    c.r_valid = this.cfg_req_q.cur;
    c.r_id = this.cfg_id_q.cur;
  }

  override evaluate(): void {
    this.comb();
  }

  protected override seq(): void {
    const c = this.cfg;
    const f = this.flags;
    const clr = this.clear_q.cur;
    const reg = (c.add >>> 2) & 63;
    const ptr = this.pointer_context.cur;
    const run = this.running_context.cur;
    // trigger latch
    if (clr) this.triggered_q.nxt = 0;
    else if (f.is_trigger) this.triggered_q.nxt = 1;
    else if (run === ptr && !f.full_context && f.true_done) this.triggered_q.nxt = 0;
    // contexts
    if (f.is_commit) {
      for (let i = 0; i < N_CORES; i++) if ((c.id >> i) & 1) this.offloading_core[ptr]!.nxt = i;
    }
    if (clr) this.pointer_context.nxt = 0;
    else if (f.is_commit) this.pointer_context.nxt = (ptr + 1) & 3;
    if (clr) this.running_context.nxt = 0;
    else if (f.true_done) this.running_context.nxt = (run + 1) & 3;
    if (clr) this.counter_pending.nxt = 0;
    else if (f.is_commit && !f.true_done) this.counter_pending.nxt = this.counter_pending.cur + 1;
    else if (!f.is_commit && f.true_done) this.counter_pending.nxt = this.counter_pending.cur - 1;
    // running FSM
    let rs = RUN_IDLE;
    let st = 0;
    let wk = 0;
    if (!clr) {
      switch (this.running_state.cur) {
        case RUN_IDLE:
          if (run === ptr && !f.full_context) rs = RUN_IDLE;
          else if (f.is_trigger || this.triggered_q.cur) {
            rs = RUN_STARTING;
            wk = 1;
          } else {
            rs = RUN_IDLE;
            st = this.start_q.cur;
            wk = this.is_working_q.cur;
          }
          break;
        case RUN_STARTING:
          rs = RUN_RUN;
          st = 1;
          wk = 1;
          break;
        case RUN_RUN:
          if (f.true_done) rs = RUN_IDLE;
          else {
            rs = RUN_RUN;
            wk = 1;
          }
          break;
      }
    }
    this.running_state.nxt = rs;
    this.start_q.nxt = st;
    this.is_working_q.nxt = wk;
    // context FSM (ACQUIRE ... TRIGGER)
    if (clr) {
      this.is_critical_q.nxt = 0;
      this.context_state.nxt = 0;
    } else if (this.context_state.cur === 0) {
      const go = f.is_testset && !f.full_context;
      this.is_critical_q.nxt = go ? 1 : 0;
      this.context_state.nxt = go ? 1 : 0;
    } else {
      const done = f.is_commit === 1;
      this.is_critical_q.nxt = done ? 0 : 1;
      this.context_state.nxt = done ? 0 : 1;
    }
    // events to the core that committed the running job
    if (clr) this.evt_q.nxt = 0;
    else {
      const core = this.offloading_core[run]!.cur;
      let e = 0;
      for (let i = 0; i < N_CORES; i++) {
        if (core === i) e |= ((this.evt_i & 1) << (2 * i + 1)) | (f.true_done << (2 * i));
      }
      this.evt_q.nxt = e;
    }
    if (clr) this.sw_evt_q.nxt = 0;
    else if (c.req && !c.wen && reg === REGFILE_MANDATORY_SWEVT)
      this.sw_evt_q.nxt = this.sw_evt_q.cur | (1 << (c.data & 7));
    else this.sw_evt_q.nxt = 0;
    // soft clear
    const isClearWrite = c.req && !c.wen && reg === REGFILE_MANDATORY_SOFTCLEAR;
    const sc = this.s_clear.cur;
    if (sc === 0 && isClearWrite) this.s_clear.nxt = 1;
    else if (sc !== 0) this.s_clear.nxt = (sc + 1) & 3;
    this.clear_q.nxt = sc !== 0 ? 1 : 0;
    const scr = this.s_clear_regfile.cur;
    if (scr === 0 && isClearWrite && c.data === 0) this.s_clear_regfile.nxt = 1;
    else if (scr !== 0) this.s_clear_regfile.nxt = (scr + 1) & 3;
    this.clear_regfile.nxt = scr !== 0 ? 1 : 0;
    // read response
    if (c.req) this.cfg_id_q.nxt = c.id;
    this.cfg_req_q.nxt = c.req;
  }
}
