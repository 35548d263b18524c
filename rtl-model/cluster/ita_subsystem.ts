/**
 * `snitch_hwpe_subsystem` of the ITA system (Xeratec/snitch_cluster, `backup/dt_results`): ITA's
 * HWPE wrapper (`ItaHwpeWrap`, 16 ports of 64 bit) attached to the Snitch cluster.
 *
 * - Data: the 16 TCDM ports are masters of the cluster's narrow TCDM interconnect, after the
 *   cores' ports (`accelPorts`), so they arbitrate with the cores and yield to the DMA's
 *   superbanks like any other narrow request. The HWPE addresses the TCDM with offsets from its
 *   base (the driver programs `pointer - L1 start`); the port adds `TCDM_BASE`. `q.write = ~wen`,
 *   `q.strb = be`; grant = `q_ready`, read-valid = `p_valid` (one cycle after the grant, stores
 *   included), read data = `p.data`.
 * - Configuration: the HWPE region follows the cluster's zero-memory region,
 *   `HWPE_BASE = TCDM end + 64 KiB peripherals + 64 KiB zero memory = 0x1004_0000`. The paper's
 *   RTL decodes 0x58 bytes (its register file had fewer job registers); this ITA's 17 job
 *   registers end at 0x64, so the model decodes 0x100 bytes (as the system RTL does).
 *   A core's access takes the cores' narrow path (`NarrowAxi`: `reqrsp_mux`, `reqrsp_to_axi`, the
 *   narrow crossbar), then the HWPE's own AXI chain: `axi_dw_converter` (64 to 32 bit), `axi_cut`,
 *   `axi_to_tcdm` (`axi_to_reqrsp` + `reqrsp_to_tcdm`) to the HWPE's peripheral port. An access
 *   accepted by `reqrsp_to_axi` in cycle A reaches the peripheral port in A+5 (in order, the port
 *   always grants; accesses closer than a cycle apart are assumed to follow one per cycle, which
 *   the RTL runs have not exercised: the driver's accesses are several cycles apart); a write is
 *   answered at the core in A+9, a read,
 *   whose data leaves the slave one cycle after the request, in A+10 (the response path is 4
 *   cycles). `reqrsp_to_tcdm` drives the request's user bits to 0, so the HWPE sees requester id 0
 *   for every core and offloads every job's completion event to core 0.
 * - Events: `hwpe_evt_o` (2 lines per core) and `hwpe_busy_o` drive the cluster peripheral's
 *   read-only registers HWPE_EVT (0x1a0) and HWPE_BUSY (0x1a8); nothing else sees them.
 *   `evtToClint` (off by default; not in the RTL) also sets the event's core's cluster-local
 *   interrupt bit (CL_CLINT), so a core can sleep in `wfi` until its job completes.
 * - Simulation only: between jobs the HWPE sits still. At the end of a cycle in which its inputs
 *   (configuration port, TCDM grants and responses) and outputs (requests, events, busy) were
 *   idle and its next state equals its state (`ClockGate.settled`), it stops being evaluated and
 *   clocked until a configuration access reaches its port: every cycle in between would compute
 *   the same nothing. Its controller's idle-cycle counter is credited with the skipped cycles on
 *   waking. `clockGate: false` clocks it every cycle (the tests compare both ways).
 */
import { ClockGate, Enrolment, Module, type CommitsWhenWritten } from '../sim/kernel.ts';
import { ItaHwpeWrap } from '../hwpe/ita_hwpe_wrap.ts';
import { vecBankOf } from '../ita/vec.ts';
import { N_CORES } from '../hwpe/params.ts';
import type { Cluster, ExtTarget } from './cluster.ts';
import { TCDM_BASE, TCDM_SIZE } from './memory.ts';

/** Base of the HWPE's configuration region and its size in bytes. */
export const HWPE_BASE = TCDM_BASE + TCDM_SIZE + 64 * 1024 + 64 * 1024;
export const HWPE_SIZE = 0x100;

export interface ItaSubsystemConfig {
  /** A completion event also sets its core's CL_CLINT bit (a variant; the RTL does not). */
  evtToClint: boolean;
  /** Stop evaluating and clocking the HWPE while it provably sits still (same cycles either way). */
  clockGate: boolean;
}

export const DEFAULT_ITA_SUBSYSTEM: ItaSubsystemConfig = { evtToClint: false, clockGate: true };

/** Cycles from acceptance at `reqrsp_to_axi` to the HWPE's peripheral port. */
const REQ_STAGES = 5;
/** Cycles from the slave's response to the core's response register. */
const RSP_STAGES = 4;

/** A configuration access waiting for the HWPE's peripheral port. */
interface CfgAccess {
  write: boolean;
  add: number;
  data: number;
  id: number;
  rsp: { data: number };
  /** First cycle the access may be presented to the peripheral port. */
  due: number;
}

export class ItaSubsystem extends Module implements ExtTarget {
  readonly cfg: ItaSubsystemConfig;
  readonly i_ita: ItaHwpeWrap;
  /** Grants of the previous cycle per port (the interconnect's `p_valid` this cycle). */
  private readonly gntQ: Uint8Array;
  private readonly gntD: Uint8Array;
  private readonly gntWritten: Enrolment;
  /** Configuration accesses in arrival order; `head` is presented this cycle. */
  private readonly cfgQueue: CfgAccess[] = [];
  private presented: CfgAccess | null = null;
  private pendingRead: CfgAccess | null = null;
  private evtPrev = 0;
  /** Cycle the latest configuration access is presented to the peripheral port. */
  private lastPresent = -1;
  // statistics
  readonly nBusy: { value: number };
  readonly nReqCycles: { value: number };
  readonly nStallCycles: { value: number };
  readonly nPortConflicts: { value: number };
  readonly nEvents: { value: number };
  /** Busy intervals `[start, end)` in cycles (for timelines). */
  readonly busyIntervals: [number, number][] = [];
  private busyStart = -1;
  private cycle = 0;
  /** The HWPE's clock (stopped while it sits still), and the cycles it has been stopped. */
  private readonly hwpeClock = new ClockGate();
  private sleeping = false;
  private slept = 0;
  /** This cycle's inputs and outputs of the HWPE were all idle (set by `request` and `grant`). */
  private quietIn = false;
  private quietOut = false;
  /** Cycles the HWPE was not evaluated (statistics of the simulation, not of the hardware). */
  readonly nSkipped: { value: number };

  constructor(
    readonly cluster: Cluster,
    cfg: Partial<ItaSubsystemConfig> = {},
  ) {
    super(cluster, 'i_snitch_hwpe_subsystem');
    this.cfg = { ...DEFAULT_ITA_SUBSYSTEM, ...cfg };
    this.i_ita = new ItaHwpeWrap(this, 'i_ita', 64);
    const n = this.i_ita.mp;
    if (cluster.accelPorts.length < n) {
      throw new Error(`the cluster has ${cluster.accelPorts.length} accelerator ports, ITA needs ${n}`);
    }
    this.gntQ = new Uint8Array(n);
    this.gntD = new Uint8Array(n);
    // the grant flops: committed in the cycles `grant` wrote them (not while the HWPE sleeps)
    const gnt: CommitsWhenWritten = {
      commit: (): void => {
        for (let i = 0; i < n; i++) this.gntQ[i] = this.gntD[i]!;
        this.gntWritten.done();
      },
      commitVia: (list): void => this.gntWritten.via(list),
      reset: (): void => {
        this.gntQ.fill(0);
        this.gntD.fill(0);
      },
    };
    this.gntWritten = new Enrolment(gnt);
    this.state.push(gnt);
    this.nBusy = this.counter('busy_cycles');
    this.nReqCycles = this.counter('tcdm_req_cycles');
    this.nStallCycles = this.counter('tcdm_stall_cycles');
    this.nPortConflicts = this.counter('tcdm_port_conflicts');
    this.nEvents = this.counter('events');
    this.nSkipped = this.counter('sim_skipped_cycles');
    this.port('hwpe_busy_o', 1, () => this.i_ita.busy_o);
    if (this.cfg.clockGate) {
      this.i_ita.gate = this.hwpeClock;
      const bank = vecBankOf(this);
      if (bank) this.hwpeClock.watch.push(bank);
    }
    cluster.beforeTcdm = () => this.request();
    cluster.afterTcdm = () => this.grant();
    cluster.afterUpdate = () => this.update();
    cluster.extTarget = this;
  }

  // ------------------------------------------------------------ configuration path
  contains(addr: number): boolean {
    return addr >= HWPE_BASE && addr < HWPE_BASE + HWPE_SIZE;
  }

  access(
    write: boolean,
    addr: number,
    _size: number,
    data: number,
    _hart: number,
    rsp: { data: number },
  ): number {
    // `this.cycle` is already A + 1 here (accesses are accepted at the edge of cycle A)
    const present = Math.max(this.cycle + REQ_STAGES - 1, this.lastPresent + 1);
    this.lastPresent = present;
    this.cfgQueue.push({
      write,
      add: addr - HWPE_BASE,
      data: data >>> 0,
      id: 0, // `reqrsp_to_tcdm` drives the user bits (the HWPE's `periph.id`) to 0
      rsp,
      due: present,
    });
    // a read's data leaves the slave one cycle after the request, a write is answered at its grant
    return present + (write ? 0 : 1) + RSP_STAGES - (this.cycle - 1);
  }

  // ------------------------------------------------------------ per cycle
  /** Before the TCDM arbitration: peripheral port and the HWPE's memory requests. */
  private request(): void {
    const due = this.cfgQueue.length > 0 && this.cfgQueue[0]!.due === this.cycle;
    if (this.sleeping) {
      // asleep, the HWPE requested nothing, so nothing was granted: only its port can wake it
      if (!due) return;
      this.wake();
    }
    const w = this.i_ita;
    const t = w.tcdm;
    const ports = this.cluster.accelPorts;
    const n = w.mp;
    // responses to last cycle's grants
    let rsp = 0;
    for (let i = 0; i < n; i++) {
      const p = ports[i]!;
      t.r_valid[i] = this.gntQ[i]!;
      rsp |= this.gntQ[i]!;
      const d = t.r_data;
      const o = 8 * i;
      const lo = p.rDataLo;
      const hi = p.rDataHi;
      d[o] = lo & 0xff;
      d[o + 1] = (lo >>> 8) & 0xff;
      d[o + 2] = (lo >>> 16) & 0xff;
      d[o + 3] = lo >>> 24;
      d[o + 4] = hi & 0xff;
      d[o + 5] = (hi >>> 8) & 0xff;
      d[o + 6] = (hi >>> 16) & 0xff;
      d[o + 7] = hi >>> 24;
    }
    // peripheral port: one access per cycle, always granted
    const per = w.periph;
    const a = due ? this.cfgQueue.shift()! : null;
    this.presented = a;
    this.quietIn = a === null && rsp === 0;
    if (a) {
      per.req = 1;
      per.add = a.add;
      per.wen = a.write ? 0 : 1;
      per.be = 0xf;
      per.data = a.data;
      per.id = a.id;
    } else {
      per.req = 0;
      per.wen = 1;
      per.add = 0;
      per.data = 0;
      per.id = 0;
    }
    w.evaluateRequest();
    let any = 0;
    for (let i = 0; i < n; i++) {
      const p = ports[i]!;
      const r = t.req[i]!;
      any |= r;
      p.qValid = r === 1;
      if (!r) continue;
      p.addr = (TCDM_BASE + (t.add[i]! & (TCDM_SIZE - 1))) >>> 0;
      p.write = t.wen[i] === 0;
      p.size = 8;
      const o = 8 * i;
      const be = t.be;
      const d = t.data;
      p.strb =
        (be[o]! ? 1 : 0) |
        (be[o + 1]! ? 2 : 0) |
        (be[o + 2]! ? 4 : 0) |
        (be[o + 3]! ? 8 : 0) |
        (be[o + 4]! ? 16 : 0) |
        (be[o + 5]! ? 32 : 0) |
        (be[o + 6]! ? 64 : 0) |
        (be[o + 7]! ? 128 : 0);
      p.dataLo = (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
      p.dataHi = (d[o + 4]! | (d[o + 5]! << 8) | (d[o + 6]! << 16) | (d[o + 7]! << 24)) >>> 0;
    }
    if (any) this.nReqCycles.value++;
    this.quietOut = any === 0;
    this.cluster.tcdm.accelQuiet = any === 0;
  }

  /** After the TCDM arbitration: grants into the HWPE, its outputs to the cluster. */
  private grant(): void {
    if (this.sleeping) {
      // outputs held at their last (idle) values: no request, no event, not busy
      this.nSkipped.value++;
      this.slept++;
      this.cycle++;
      return;
    }
    const w = this.i_ita;
    const t = w.tcdm;
    const ports = this.cluster.accelPorts;
    const n = w.mp;
    let all = 1;
    let anyReq = 0;
    this.gntWritten.mark();
    for (let i = 0; i < n; i++) {
      const p = ports[i]!;
      const g = p.qValid && p.qReady ? 1 : 0;
      t.gnt[i] = g;
      this.gntD[i] = g;
      if (p.qValid) {
        anyReq = 1;
        if (!g) {
          all = 0;
          this.nPortConflicts.value++;
        }
      }
    }
    if (anyReq && !all) this.nStallCycles.value++;
    w.evaluateGrant();
    // read responses of the configuration port (one cycle after the request)
    const per = w.periph;
    if (this.pendingRead && per.r_valid) this.pendingRead.rsp.data = per.r_data >>> 0;
    this.pendingRead = this.presented && !this.presented.write ? this.presented : null;
    // events and busy to the cluster peripherals
    let evt = 0;
    for (let c = 0; c < N_CORES; c++) evt |= (w.evt_o(c) & 3) << (2 * c);
    const busy = w.busy_o;
    const periph = this.cluster.periph;
    periph.hwpeEvt = evt >>> 0;
    periph.hwpeBusy = busy;
    if (evt !== 0 && this.evtPrev === 0) this.nEvents.value++;
    if (evt !== 0 && this.cfg.evtToClint) {
      let mask = 0;
      for (let c = 0; c < N_CORES; c++) if ((evt >>> (2 * c)) & 3) mask |= 1 << c;
      periph.write(0x180, mask);
    }
    this.evtPrev = evt;
    if (busy) {
      this.nBusy.value++;
      if (this.busyStart < 0) this.busyStart = this.cycle;
    } else if (this.busyStart >= 0) {
      this.busyIntervals.push([this.busyStart, this.cycle]);
      this.busyStart = -1;
    }
    this.quietOut = this.quietOut && evt === 0 && busy === 0 && !this.pendingRead;
    this.cycle++;
  }

  /** Next state of the HWPE; then, if this cycle proved it still, its clock stops. */
  override update(): void {
    if (this.sleeping) return;
    this.i_ita.update();
    if (this.cfg.clockGate && this.quietIn && this.quietOut && this.hwpeClock.settled()) {
      this.sleeping = true;
      this.hwpeClock.enabled = false;
    }
  }

  private wake(): void {
    this.sleeping = false;
    this.hwpeClock.enabled = true;
    this.syncStatistics();
  }

  /** Credits the cycles slept so far to the ITA's own per-cycle statistics (as if clocked). */
  syncStatistics(): void {
    if (this.slept === 0) return;
    this.i_ita.i_ita.i_engine.i_ita.i_controller.creditStill(this.slept);
    this.slept = 0;
  }

  /** Busy intervals including one still open at `now`. */
  intervals(now: number): [number, number][] {
    return this.busyStart >= 0 ? [...this.busyIntervals, [this.busyStart, now]] : this.busyIntervals;
  }
}
