/**
 * The cores' path out of the cluster, from the 9 cores' request cuts to the memory of the RTL
 * harness and back: `reqrsp_mux` (9:1, `rr_arb_tree` with lock-in, a 2-deep response FIFO that
 * limits the whole cluster to 2 accesses in flight), `reqrsp_to_axi` (one AXI ID; reads and writes
 * never overlap; an AMO waits for everything before it and blocks everything until two cycles
 * after its response), the narrow `axi_xbar` (spill registers on both sides, a write-data FIFO
 * that is not fall-through), and the harness's `tb_memory_axi`: `axi_riscv_amos`,
 * `axi_riscv_lrsc` (one reservation, since all cores share AXI ID 0), `axi_cut`,
 * `axi_lite_to_reg` and the memory. The cluster peripherals sit behind the same crossbar.
 *
 * An access accepted by `reqrsp_to_axi` in cycle A (the cycle after the core issued it when
 * nothing is in the way) then runs on fixed register stages:
 *   read / LR        memory read in A+4; R through the LR/SC adapter in the first cycle >= A+6 in
 *                    which no read request enters the adapter (its queues give an input priority
 *                    over an output), one R per cycle in order; response at the core's response
 *                    register 3 cycles later (P), `retire_load` in P+1.
 *   write / SC ok    AW enters the LR/SC adapter in W = A+2 and checks the reservation there,
 *                    unless an exclusive write (a successful SC) to the same word is still in
 *                    flight below it: then W is the cycle after that write's B came back.
 *                    Memory written at the edge of W+3; B back at the adapter in W+5 and through
 *                    it in the first such cycle with no AW entering; P 3 cycles later.
 *   SC failed        no write; its W is dropped in W+1, and from W+2 the adapter injects its B
 *                    in order behind the B of earlier writes (a look-up that finds another B
 *                    first costs a cycle in the adapter's forward state); P 3 cycles later
 *                    (A+7 when nothing is in the way).
 *   AMO              read A+4, write A+11 (an exclusive read and write by `axi_riscv_amos`);
 *                    P = A+16; nothing accepted before P+2.
 *   peripherals      register read or write in A+3; P = A+6.
 * A slave attached with `ExtTarget` (the HWPE's configuration port) answers at A + its latency.
 *
 * Not modelled: the same-ID rule of the crossbar's demux between two master ports (a peripheral
 * access right behind a DRAM access of another core), the peripheral port's one-transaction
 * limits, back-pressure of a full core response register on the R/B channels.
 */
import { Amo } from '../snitch/isa.ts';
import type { DataReq } from '../snitch/ports.ts';
import { RrArbTree } from '../sim/rr_arb_tree.ts';

export const enum Ext {
  Read,
  Write,
  Amo,
  Lr,
  Sc,
  PeriphRead,
  PeriphWrite,
  Target,
}

/** One access between `reqrsp_to_axi` and the response register. */
export class NarrowAccess {
  core = 0;
  kind = Ext.Read;
  addr = 0;
  size = 4;
  data = 0;
  amo = Amo.None;
  write = false;
  /** Acceptance cycle at `reqrsp_to_axi`. */
  a = 0;
  /** Cycle the AW enters the LR/SC adapter (-1: not yet; A+2 unless held there). */
  aw = -1;
  /** Cycle its B leaves the in-flight write queue of the adapter (-1: not yet). */
  wifqPop = -1;
  /** Cycle the R/B passes the LR/SC adapter (-1: not yet). */
  pass = -1;
  /** Cycle the response reaches the core's response register (-1: not yet known). */
  p = -1;
  /** Read data (or SC result) returned to the core. */
  rdata = 0;
  scOk = false;
}

/** What the path does to the memories; implemented by the cluster. */
export interface NarrowSlaves {
  read(addr: number, size: number): number;
  write(addr: number, size: number, data: number): void;
  amo(addr: number, op: Amo, operand: number): number;
  periphRead(addr: number, size: number): number;
  periphWrite(addr: number, size: number, data: number): void;
  isPeriph(addr: number): boolean;
  /** Another slave (the HWPE configuration port): returns the latency, fills `rsp.data`. */
  target(req: DataReq, rsp: { data: number }): number | null;
}

const MUX_DEPTH = 2;

export class NarrowAxi {
  /** Accepted accesses in acceptance order (the `reqrsp_mux` response FIFO). */
  readonly inflight: NarrowAccess[] = [];
  private readonly pool: NarrowAccess[] = [];
  readonly arb: RrArbTree;
  /** Nothing is accepted before this cycle (`atomic_in_flight_q` of an AMO). */
  private amoBlock = 0;
  /** The LR/SC adapter's B channel is in its forward state (after a look-up found no injection). */
  private bForward = false;
  /** The LR/SC adapter's reservation (word address, -1 none): one for all cores (AXI ID 0). */
  reservation = -1;
  private cycle = 0;
  private winner = -1;
  private reqD = 0;
  private accepted = false;
  /** Responses due this cycle, handed to the cluster (at most one per core). */
  readonly done: NarrowAccess[] = [];
  readonly tRsp = { data: 0 };

  /**
   * @param extra cycles added on the memory side of the harness (a DRAM latency other than the
   *   harness's), delaying every memory access and its response
   */
  constructor(
    readonly ports: number,
    readonly extra: number,
    private readonly slaves: NarrowSlaves,
  ) {
    this.arb = new RrArbTree(ports);
  }

  private kindOf(r: DataReq): Ext {
    if (this.slaves.isPeriph(r.addr)) return r.write ? Ext.PeriphWrite : Ext.PeriphRead;
    if (r.amo === Amo.Lr) return Ext.Lr;
    if (r.amo === Amo.Sc) return Ext.Sc;
    if (r.amo !== Amo.None) return Ext.Amo;
    return r.write ? Ext.Write : Ext.Read;
  }

  /**
   * Combinational: `heads[i]` is core i's request at the head of its cut when it goes out (else
   * null). Returns the core whose request `reqrsp_to_axi` accepts this cycle, or -1.
   */
  arbitrate(heads: (DataReq | null)[]): number {
    const c = this.cycle;
    let req = 0;
    if (this.inflight.length < MUX_DEPTH) for (let i = 0; i < this.ports; i++) if (heads[i]) req |= 1 << i;
    this.reqD = this.arb.requests(req);
    this.winner = this.arb.winner(this.reqD);
    this.accepted = false;
    if (this.winner < 0) return -1;
    const r = heads[this.winner];
    // under lock-in the frozen winner still holds its request (it cannot withdraw it)
    if (!r) return -1;
    if (c < this.amoBlock) return -1;
    const kind = this.kindOf(r);
    const isWrite = kind === Ext.Write || kind === Ext.Sc || kind === Ext.Amo || kind === Ext.PeriphWrite;
    for (const x of this.inflight) {
      if (x.p >= 0 && x.p <= c) continue; // answered by now (a same-cycle hand-off is allowed)
      const xWrite =
        x.kind === Ext.Write || x.kind === Ext.Sc || x.kind === Ext.Amo || x.kind === Ext.PeriphWrite;
      const xRead = !xWrite || x.kind === Ext.Amo;
      if (kind === Ext.Amo) return -1;
      if (isWrite ? xRead : xWrite) return -1;
    }
    this.accepted = true;
    return this.winner;
  }

  /** At the edge of the accepting cycle: the access enters the path. */
  accept(r: DataReq): void {
    const x = this.pool.pop() ?? new NarrowAccess();
    x.core = this.winner;
    x.kind = this.kindOf(r);
    x.addr = r.addr;
    x.size = r.size;
    x.data = r.data;
    x.amo = r.amo;
    x.write = r.write;
    x.a = this.cycle;
    x.aw = -1;
    x.wifqPop = -1;
    x.pass = -1;
    x.p = -1;
    x.rdata = 0;
    x.scOk = false;
    if (x.kind === Ext.PeriphRead || x.kind === Ext.PeriphWrite) x.p = x.a + 6;
    else if (x.kind === Ext.Amo) {
      x.p = x.a + 16 + 2 * this.extra;
      this.amoBlock = x.p + 2;
    } else {
      const lat = this.slaves.target(r, this.tRsp);
      if (lat !== null) {
        x.kind = Ext.Target;
        x.rdata = this.tRsp.data;
        x.p = x.a + lat;
      }
    }
    this.inflight.push(x);
  }

  /** Next state: memory accesses, the adapter's R/B order, responses due. */
  update(): void {
    const c = this.cycle;
    const e = this.extra;
    this.arb.commit(this.reqD, this.accepted);
    if (this.done.length !== 0) this.done.length = 0;
    const awIn = this.awStage(c);
    // an AR entering the LR/SC adapter this cycle (accepted 2 cycles ago)
    let arIn = false;
    for (const x of this.inflight)
      if (x.a + 2 === c && (x.kind === Ext.Read || x.kind === Ext.Lr || x.kind === Ext.Amo)) arIn = true;
    this.bChannel(c, awIn);
    let rBusy = false;
    for (const x of this.inflight) {
      switch (x.kind) {
        case Ext.Read:
        case Ext.Lr:
          if (x.a + 2 === c && x.kind === Ext.Lr) this.reservation = (x.addr & ~3) | 0;
          if (x.a + 4 + e === c) x.rdata = this.slaves.read(x.addr, x.size);
          if (x.pass < 0 && !rBusy && c >= x.a + 6 + e) {
            if (!arIn) {
              x.pass = c;
              x.p = c + 3;
            }
            rBusy = true; // one R per cycle, in order
          } else if (x.pass < 0) rBusy = true;
          break;
        case Ext.Write:
        case Ext.Sc:
          if (x.aw >= 0 && x.aw + 3 + e === c && (x.kind === Ext.Write || x.scOk))
            this.slaves.write(x.addr, x.size, x.data);
          break;
        case Ext.Amo:
          if (x.a + 4 + e === c) {
            x.rdata = this.slaves.amo(x.addr, x.amo, x.data);
            this.reservation = -1; // set by the exclusive read, cleared by the exclusive write
          }
          break;
        case Ext.PeriphRead:
          if (x.a + 3 === c) x.rdata = this.slaves.periphRead(x.addr, x.size);
          break;
        case Ext.PeriphWrite:
          if (x.a + 3 === c) this.slaves.periphWrite(x.addr, x.size, x.data);
          break;
        default:
          break;
      }
    }
    // responses reach the response registers at this edge, in acceptance order
    while (this.inflight.length > 0) {
      const x = this.inflight[0]!;
      if (x.p < 0 || x.p > c) break;
      this.inflight.shift();
      this.done.push(x);
    }
    this.cycle++;
  }

  /**
   * The AW side of the LR/SC adapter: writes and SCs enter it in order, from A+2, but not while
   * an exclusive write to the same word is still in its in-flight write queue (until that
   * write's B has come back to it). Entering checks (SC) and clears the reservation; a forwarded
   * AW writes the memory 3 cycles later and its B is back at the adapter 5 cycles later.
   * Returns whether an AW entered (it takes the B-status queue's only port this cycle).
   */
  private awStage(c: number): boolean {
    const e = this.extra;
    let entered = false;
    let forwarded = false;
    let blocked = false;
    for (const x of this.inflight) {
      if (x.kind !== Ext.Write && x.kind !== Ext.Sc) continue;
      const word = (x.addr & ~3) | 0;
      if (x.aw < 0 && !blocked && c >= x.a + 2) {
        for (const y of this.inflight) {
          if (y === x) break;
          if (
            y.kind === Ext.Sc &&
            y.scOk &&
            ((y.addr & ~3) | 0) === word &&
            (y.wifqPop < 0 || y.wifqPop >= c)
          )
            blocked = true;
        }
        if (!blocked) {
          x.aw = c;
          entered = true;
          if (x.kind === Ext.Sc) {
            x.scOk = this.reservation === word;
            x.rdata = x.scOk ? 0 : 1;
          }
          // an AW that writes clears every reservation of its word
          if ((x.kind === Ext.Write || x.scOk) && this.reservation === word) this.reservation = -1;
          forwarded = x.kind === Ext.Write || x.scOk;
        }
      }
      if (x.aw < 0) blocked = true; // in order
    }
    // the B of a forwarded write leaves the in-flight write queue when it is back at the adapter,
    // unless an AW is pushed into that queue in the same cycle
    for (const x of this.inflight) {
      if ((x.kind !== Ext.Write && !(x.kind === Ext.Sc && x.scOk)) || x.aw < 0 || x.wifqPop >= 0) continue;
      if (c >= x.aw + 5 + e && !forwarded) x.wifqPop = c;
      break;
    }
    return entered;
  }
  /**
   * The B side of the LR/SC adapter, one B per cycle in AW order. In its normal state a pending
   * injection (a failed SC whose W was dropped) looks up the oldest B status: an injection goes
   * out at once, anything else switches to the forward state, which passes the next B from the
   * memory and returns. Without a pending injection a B from the memory passes directly. Every
   * look-up loses against an AW entering the status queue in the same cycle.
   */
  private bChannel(c: number, awIn: boolean): void {
    const e = this.extra;
    let head: NarrowAccess | null = null;
    let inject: NarrowAccess | null = null;
    for (const x of this.inflight) {
      if ((x.kind !== Ext.Write && x.kind !== Ext.Sc) || x.pass >= 0) continue;
      if (head === null) head = x;
      if (x.kind === Ext.Sc && x.aw >= 0 && !x.scOk) {
        inject = x;
        break;
      }
    }
    if (head === null) return;
    const headFailed = head.kind === Ext.Sc && !head.scOk;
    const arrived = head.aw >= 0 && !headFailed && c >= head.aw + 5 + e;
    if (!this.bForward) {
      if (inject !== null && c >= inject.aw + 2) {
        if (awIn) return;
        if (inject === head) this.passB(head, c);
        else this.bForward = true;
      } else if (arrived && !awIn) this.passB(head, c);
    } else if (arrived && !awIn) {
      this.passB(head, c);
      this.bForward = false;
    }
  }

  private passB(x: NarrowAccess, c: number): void {
    x.pass = c;
    x.p = c + 3;
  }

  /** Returns a finished access's record to the pool. */
  recycle(x: NarrowAccess): void {
    this.pool.push(x);
  }
}
