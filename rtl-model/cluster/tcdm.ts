/**
 * The TCDM and its interconnects (`snitch_cluster.sv`):
 *   - 32 banks of 64 bit (`tc_sram_impl`, one-cycle read latency); bank = (addr >> 3) mod 32;
 *   - the narrow interconnect `snitch_tcdm_interconnect` (LogarithmicInterconnect: a `stream_xbar`
 *     with one `rr_arb_tree` per bank: `LockIn`, `FairArb`, no register). Its 26 inputs are, in the
 *     RTL's order, the 16 HWPE ports (0..15), the 9 cores (16 + hart) and the SoC AXI port (25,
 *     not modelled: it never requests in the harness). The tree grants the requesting input i
 *     with the smallest `i XOR rr_q`; on a grant `rr_q` moves to the lowest requester above the
 *     old pointer (else wraps to the lowest requester), so a winner the pointer has not reached
 *     may win again; a bank that refuses its winner (DMA on its superbank, AMO in progress)
 *     freezes the request set until the grant. A request that loses keeps `q_valid` high and is
 *     stalled (`q_ready` low) until it wins;
 *   - superbanks of 8 banks (512-bit DMA width / 64 bit), each with a `mem_wide_narrow_mux` that
 *     gives the whole superbank to the DMA whenever the DMA drives it (`sel_wide_i =
 *     sb_dma_req.q_valid`): the DMA has priority, the narrow requests to that superbank stall.
 * A granted read returns its data in the next cycle (`MemoryResponseLatency = 1`).
 *
 * Atomics (`snitch_amo_shim`, one per bank): an AMO reads in its grant cycle, computes in the next
 * (DoAMO) and writes back in the one after (WriteBackAMO); the bank takes no other narrow request
 * in those two cycles. LR/SC use one reservation per bank: an LR reserves when the bank holds no
 * valid reservation or one of the same hart; a store or AMO of another hart to the reserved word
 * drops it; an SC of the holder clears it and succeeds if the address matches (response 0 on
 * success, 1 on failure).
 *
 * `TcdmPort` is the interface a requester sees: it drives `qValid` and the request in its
 * combinational phase, reads `qReady` after the interconnect's, and sees `pValid`/`pData` one cycle
 * after the grant. Accelerators (the ITA HWPE uses 16 ports) attach through `accelPorts`.
 */
import { Module, type Reg, type RegArray } from '../sim/kernel.ts';
import { Amo } from '../snitch/isa.ts';
import { ClusterMemory, TCDM_BASE } from './memory.ts';

export const NUM_BANKS = 32;
export const BANKS_PER_SUPERBANK = 8;
export const NUM_SUPERBANKS = NUM_BANKS / BANKS_PER_SUPERBANK;

/** One 64-bit narrow port of the TCDM interconnect. */
export class TcdmPort {
  // request (driven by the requester)
  qValid = false;
  addr = 0;
  write = false;
  /** Access size in bytes (1, 2, 4 or 8); the data occupies the addressed bytes of the 64-bit word. */
  size = 4;
  /** Store data: low and high 32 bits of the value to store at `addr` (high used for size 8). */
  dataLo = 0;
  dataHi = 0;
  /** Byte strobes of a size-8 store (bit k = byte k of the 64-bit word); 0xff: all. */
  strb = 0xff;
  amo: Amo = Amo.None;
  core = 0;
  // handshake (driven by the interconnect)
  qReady = false;
  // response, valid one cycle after the grant
  pValid = false;
  pDataLo = 0;
  pDataHi = 0;
  pWrite = false;
  /** Read data captured at the grant (the SRAM output register), shown as `pData` next cycle. */
  rDataLo = 0;
  rDataHi = 0;
  // bookkeeping
  accesses = 0;
  conflicts = 0;
  constructor(readonly name: string) {}
}

export class Tcdm extends Module {
  readonly ports: TcdmPort[];
  readonly accelPorts: TcdmPort[];
  /**
   * Set by the accelerator's model before `evaluate` when none of its ports requests in this cycle
   * (every `qValid` of `accelPorts` low): the arbitration then does not look at them.
   */
  accelQuiet = false;
  /** The cores' ports come first in `ports`, the accelerator's after them. */
  private readonly nCorePorts: number;
  /** Superbanks the DMA drives this cycle (bit i = superbank i), set before `evaluate`. */
  dmaSuperbanks = 0;
  /** Per bank `rr_arb_tree` state: pointer (an input index) and the frozen request set. */
  private readonly rr: RegArray;
  private readonly lockReq: RegArray;
  /** Lock-in flag of every bank's tree (bit b = bank b). */
  private readonly lockQ: Reg;
  /** Per bank: the winning port this cycle and the request set it was drawn from (banks of `activeBanks` only). */
  private readonly winner: Int32Array;
  private readonly reqD: Int32Array;
  /** Banks with a request (or a frozen request set) this cycle. */
  private activeBanks = 0;
  /** Ports requesting this cycle, in port order, and how many. */
  private readonly requesting: Int32Array;
  private nRequesting = 0;
  /** The arbiter input index of each port, and the port of each input index. */
  private readonly inputOf: Int32Array;
  private readonly portOf: Int32Array;
  /** Response valid per port (bit i = port i: `pValid` this cycle, i.e. granted last cycle). */
  private readonly rspValid: Reg;
  /** Remaining cycles a bank's AMO shim is busy (DoAMO, WriteBackAMO), and the banks where it is. */
  private readonly amoBusy: RegArray;
  private readonly amoBanks: Reg;
  /** Reservation of each bank's AMO shim: valid, 64-bit word address, hart. */
  private readonly resValid: Uint8Array;
  private readonly resAddr: Int32Array;
  private readonly resCore: Int32Array;
  private readonly nAccess: { value: number };
  private readonly nConflict: { value: number };
  private readonly nDmaBlocked: { value: number };
  /** Per-cycle events for the performance counters (`tcdm_events_t`). */
  accessedThisCycle = 0;
  congestedThisCycle = 0;

  constructor(
    parent: Module | null,
    name: string,
    readonly mem: ClusterMemory,
    corePorts: number,
    accelPorts: number,
  ) {
    super(parent, name);
    const all: TcdmPort[] = [];
    this.nCorePorts = corePorts;
    for (let i = 0; i < corePorts; i++) all.push(new TcdmPort(`${this.path}.core${i}`));
    this.accelPorts = [];
    for (let i = 0; i < accelPorts; i++) {
      const p = new TcdmPort(`${this.path}.hwpe${i}`);
      this.accelPorts.push(p);
      all.push(p);
    }
    if (all.length > 32) throw new Error(`${this.path}: at most 32 ports (${all.length} given)`);
    this.ports = all;
    this.rr = this.regArray('gen_xbar.rr_q', 5, NUM_BANKS);
    this.lockQ = this.reg('gen_xbar.lock_q', NUM_BANKS);
    this.lockReq = this.regArray('gen_xbar.req_q', 26, NUM_BANKS);
    // inputs: accelerator ports first, then the cores (as `snitch_cluster` concatenates them)
    this.inputOf = new Int32Array(all.length);
    this.portOf = new Int32Array(32).fill(-1);
    for (let i = 0; i < all.length; i++) {
      const input = i < corePorts ? accelPorts + i : i - corePorts;
      this.inputOf[i] = input;
      this.portOf[input] = i;
    }
    this.reqD = new Int32Array(NUM_BANKS);
    this.requesting = new Int32Array(all.length);
    this.rspValid = this.reg('rsp.p_valid', all.length);
    this.amoBusy = this.regArray('gen_tcdm_bank.i_amo_shim.state_q', 2, NUM_BANKS);
    this.amoBanks = this.reg('gen_tcdm_bank.i_amo_shim.busy', NUM_BANKS);
    this.resValid = new Uint8Array(NUM_BANKS);
    this.resAddr = new Int32Array(NUM_BANKS);
    this.resCore = new Int32Array(NUM_BANKS);
    this.winner = new Int32Array(NUM_BANKS);
    this.nAccess = this.counter('accesses');
    this.nConflict = this.counter('bank_conflicts');
    this.nDmaBlocked = this.counter('dma_blocked');
  }

  static bankOf(addr: number): number {
    return (addr >>> 3) & (NUM_BANKS - 1);
  }

  // a leaf module: evaluate and update are its own logic
  override evaluate(): void {
    this.comb();
  }
  override update(): void {
    this.seq();
  }

  protected override comb(): void {
    const ports = this.ports;
    const n = this.accelQuiet ? this.nCorePorts : ports.length;
    // Only the ports granted in the last evaluation have `qReady` high, only last cycle's grants
    // show a response now (and only they, or the ones that showed one before, change their
    // response fields): the others keep what they show.
    for (let m = this.readyShown; m !== 0; m &= m - 1) ports[31 - Math.clz32(m & -m)]!.qReady = false;
    const shown = this.rspValid.cur;
    for (let m = this.lastShown | shown; m !== 0; m &= m - 1) {
      const i = 31 - Math.clz32(m & -m);
      const p = ports[i]!;
      p.pValid = ((shown >>> i) & 1) === 1;
      p.pDataLo = p.rDataLo;
      p.pDataHi = p.rDataHi;
    }
    this.lastShown = shown;
    // Per bank: the request set (frozen under lock-in), then the tree's winner.
    const req = this.reqD;
    const list = this.requesting;
    let nReq = 0;
    let banks = 0;
    for (let i = 0; i < n; i++) {
      const p = ports[i]!;
      if (!p.qValid) continue;
      list[nReq++] = i;
      const b = Tcdm.bankOf(p.addr);
      if (((banks >>> b) & 1) === 0) {
        banks |= 1 << b;
        req[b] = 0;
      }
      req[b]! |= 1 << this.inputOf[i]!;
    }
    this.nRequesting = nReq;
    const locked = this.lockQ.cur;
    for (let m = locked; m !== 0; m &= m - 1) {
      const b = 31 - Math.clz32(m & -m);
      req[b] = this.lockReq.cur[b]!;
    }
    banks |= locked;
    this.activeBanks = banks;
    const w = this.winner;
    for (let m = banks; m !== 0; m &= m - 1) {
      const b = 31 - Math.clz32(m & -m);
      const r = req[b]!;
      // `rr_arb_tree`: each node prefers the side whose index bit equals the pointer's bit, which
      // selects the requester with the smallest index XOR pointer
      const rr = this.rr.cur[b]!;
      let best = -1;
      let bestKey = 64;
      for (let q = r; q !== 0; q &= q - 1) {
        const i = 31 - Math.clz32(q & -q);
        const key = i ^ rr;
        if (key < bestKey) {
          bestKey = key;
          best = i;
        }
      }
      w[b] = this.portOf[best]!;
    }
    let accessed = 0;
    let congested = 0;
    let ready = 0;
    const blocked = this.amoBanks.cur;
    for (let k = 0; k < nReq; k++) {
      const i = list[k]!;
      const p = ports[i]!;
      const b = Tcdm.bankOf(p.addr);
      const sb = b >>> 3;
      if (w[b] === i && ((this.dmaSuperbanks >>> sb) & 1) === 0 && ((blocked >>> b) & 1) === 0) {
        p.qReady = true;
        ready |= 1 << i;
        accessed++;
      } else {
        p.conflicts++;
        congested++;
        if ((this.dmaSuperbanks >>> sb) & 1) this.nDmaBlocked.value++;
      }
    }
    this.readyShown = ready;
    this.accessedThisCycle = accessed;
    this.congestedThisCycle = congested;
  }
  /** Ports that showed a response (whose `pValid` may have to drop) and that were given `qReady`. */
  private lastShown = 0;
  private readyShown = 0;

  protected override seq(): void {
    const ports = this.ports;
    let amo = 0;
    for (let m = this.amoBanks.cur; m !== 0; m &= m - 1) {
      const b = 31 - Math.clz32(m & -m);
      const busy = this.amoBusy.cur[b]! - 1;
      this.amoBusy.set(b, busy);
      if (busy > 0) amo |= 1 << b;
    }
    let lock = 0;
    for (let m = this.activeBanks; m !== 0; m &= m - 1) {
      const b = 31 - Math.clz32(m & -m);
      const r = this.reqD[b]!;
      if (!ports[this.winner[b]!]!.qReady) {
        // lock-in: a bank that refuses its winner keeps the request set (and so the winner)
        lock |= 1 << b;
        this.lockReq.set(b, r);
      } else {
        // FairArb: the lowest requester above the old pointer, else the lowest one
        const rr = this.rr.cur[b]!;
        const above = r & ~((2 << rr) - 1);
        const q = above !== 0 ? above : r;
        this.rr.set(b, 31 - Math.clz32(q & -q));
      }
    }
    this.lockQ.nxt = lock >>> 0;
    let granted = 0;
    const list = this.requesting;
    for (let k = 0; k < this.nRequesting; k++) {
      const i = list[k]!;
      const p = ports[i]!;
      if (!p.qReady) continue;
      granted |= 1 << i;
      p.accesses++;
      this.nAccess.value++;
      if (p.amo !== Amo.None && p.amo !== Amo.Lr && p.amo !== Amo.Sc) amo |= 1 << Tcdm.bankOf(p.addr);
      this.access(p);
    }
    this.rspValid.nxt = granted >>> 0;
    this.amoBanks.nxt = amo >>> 0;
    this.nConflict.value += this.congestedThisCycle;
  }

  /** Performs a granted access; the result becomes `pData` next cycle. */
  private access(p: TcdmPort): void {
    const mem = this.mem;
    p.pWrite = p.write; // shown with the response (stores are acknowledged too)
    const b = Tcdm.bankOf(p.addr);
    const word = p.addr >>> 3;
    if (p.amo === Amo.Lr) {
      if (!this.resValid[b] || this.resCore[b] === p.core) {
        this.resValid[b] = 1;
        this.resAddr[b] = word;
        this.resCore[b] = p.core;
      }
      p.rDataLo = mem.read(p.addr, 4);
      p.rDataHi = 0;
      return;
    }
    if (p.amo === Amo.Sc) {
      let ok = false;
      if (this.resValid[b] && this.resCore[b] === p.core) {
        this.resValid[b] = 0;
        ok = this.resAddr[b] === word;
      }
      if (ok) mem.write(p.addr, 4, p.dataLo);
      p.rDataLo = ok ? 0 : 1;
      p.rDataHi = 0;
      return;
    }
    // a store or AMO of another hart to the reserved word drops the reservation
    if (
      (p.write || p.amo !== Amo.None) &&
      this.resValid[b] &&
      this.resAddr[b] === word &&
      this.resCore[b] !== p.core
    ) {
      this.resValid[b] = 0;
    }
    if (p.amo !== Amo.None) {
      p.rDataLo = mem.amo(p.core, p.addr, p.amo, p.dataLo);
      p.rDataHi = 0;
      this.amoBusy.set(b, 2);
      return;
    }
    if (p.write) {
      if (p.size === 8 && p.strb !== 0xff) {
        for (let k = 0; k < 8; k++) {
          if ((p.strb >>> k) & 1) mem.write(p.addr + k, 1, (k < 4 ? p.dataLo : p.dataHi) >>> ((k & 3) * 8));
        }
      } else if (p.size === 8) {
        mem.write(p.addr, 4, p.dataLo);
        mem.write(p.addr + 4, 4, p.dataHi);
      } else mem.write(p.addr, p.size, p.dataLo);
      return;
    }
    if (p.size === 8) {
      p.rDataLo = mem.read(p.addr, 4);
      p.rDataHi = mem.read(p.addr + 4, 4);
    } else {
      p.rDataLo = mem.read(p.addr, p.size);
      p.rDataHi = 0;
    }
  }
}

export { TCDM_BASE };
