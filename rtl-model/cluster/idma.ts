/**
 * The cluster DMA: the Xdma frontend of the DMA core (`axi_dma_tc_snitch_fe`: the DMSRC, DMDST,
 * DMSTR, DMREP configuration registers, DMCPY(I) launching a transfer and returning its id,
 * DMSTAT(I) reading the status) and an iDMA backend on the 512-bit wide path.
 *
 * Frontend (`idma_inst64_top`): an Xdma instruction issued in t is taken in t+1; DMCPY(I) and
 * DMSTAT(I) answer through a response register, so their result is written back in t+3. The
 * first transfer gets id 2 and `next_id` advances when a transfer leaves the 8-deep queue (so
 * transfers waiting in the queue share an id); `completed` starts at 1 and counts finished
 * transfers except zero-length 1-D copies, which the backend refuses; `busy` drops the cycle after
 * the last write beat leaves the DMA's port, before the write responses `completed` waits for.
 *
 * Backend (cycle by cycle), measured on the Verilated cluster:
 *   - a transfer leaves the queue in the cycle after it entered it (or when the backend frees
 *     up) and sends its first AR in the next cycle;
 *   - a DRAM source is read through `WideAxi` (shared with the instruction cache) in bursts of at
 *     most 4096 bytes, one burst handed over per cycle; a TCDM source is read one 64-byte beat per
 *     cycle from two cycles after the AR and is at the DMA's port 3 cycles after the read;
 *   - a write beat (W) leaves the DMA's port the cycle after its data arrived, when the
 *     crossbar's W spill register has room; beats never cross a 64-byte boundary of their own
 *     side (an unaligned row costs one more beat); the write response reaches the DMA 3 cycles
 *     after the last TCDM write, 5 cycles after the last DRAM write;
 *   - to DRAM, a W goes through the crossbar's demux and mux W spill registers to the memory's
 *     port, which takes it once its burst's AW is in the harness's atomics adapter (at most 2
 *     write bursts at a time: the next AW enters the cycle after the oldest one's B); the
 *     register bus writes it from 2 cycles later, taking turns with the reads of the DMA and the
 *     instruction cache (`WideAxi`), and the burst's B is at the port 3 cycles after its last
 *     write. Unhindered, a W writes DRAM 4 cycles after it left the DMA; rows of a few beats
 *     (2-D copies to DRAM) back up into the DMA, and a DRAM -> DRAM copy alternates its reads
 *     and writes;
 *   - the TCDM side is `axi_to_mem_interleaved`: reads and writes share one 512-bit port through
 *     a 2-input round robin, so a TCDM -> TCDM copy alternates them once both have a beat. A W
 *     goes through the crossbar's demux and mux spill registers (2 entries each) into the write
 *     side's one-entry fall-through request FIFO: with nothing in the way it writes the TCDM 2
 *     cycles after it left the DMA, and a full path holds the next W at the DMA;
 *   - a TCDM beat occupies its superbank (the DMA wins the `mem_wide_narrow_mux`);
 *   - the legalizer takes the next transfer as soon as it has handed over every burst of the
 *     previous ones (up to 8 transfers in the backend), whatever their directions; all use AXI
 *     ID 0, so the crossbar holds an AR to one slave (TCDM or DRAM) until the R of every earlier
 *     burst to the other is back at the DMA, and an AW to the other slave than the previous
 *     transfer's until that transfer's last B is back. A held W backs up the TCDM reads: the
 *     DMA's 3-beat data buffer, the crossbar's R spill registers and the read side's 2-entry
 *     response buffer fill, and the reads stop (after 11 beats behind a TCDM -> DRAM copy).
 * Not modelled: back-pressure on DRAM reads (the wide R path never waits for the DMA's buffer),
 * which no program run on the RTL so far has shown.
 */
import { Module, RegBank, type Reg } from '../sim/kernel.ts';
import { RrArbTree } from '../sim/rr_arb_tree.ts';
import { RegFifo } from '../snitch/fifo.ts';
import type { Snitch } from '../snitch/core.ts';
import type { ClusterMemory } from './memory.ts';
import type { Tcdm } from './tcdm.ts';
import type { WideAxi, WideWriter } from './wide_axi.ts';

const total = (t: Transfer): number => t.size * t.reps;

class Transfer {
  src = 0;
  dst = 0;
  size = 0;
  srcStride = 0;
  dstStride = 0;
  reps = 1;
  /** Offset of this transfer's first byte in the backend's stream of all transfers. */
  base = 0;
  /** Cycle from which `busy` reads 0 if this is the last transfer (-1: not known yet). */
  busyEnd = -1;
  /** Set when the legalizer has handed over every read burst (AR) of the transfer. */
  arDone = false;
  /** Set when every write beat of the transfer has left the DMA's port. */
  wDone = false;
  /** Its AW goes to the other slave than the previous transfer's: it waits for that one's B. */
  awWait = false;
  copyFrom(q: Transfer): void {
    this.src = q.src;
    this.dst = q.dst;
    this.size = q.size;
    this.srcStride = q.srcStride;
    this.dstStride = q.dstStride;
    this.reps = q.reps;
  }
}

const BEAT = 64;

/**
 * A read burst of a TCDM source at the read `axi_to_mem`: bytes [off, end) of row `row` of `t`,
 * read one beat per cycle from `start` (its AR's arrival) on.
 */
class TcdmBurst {
  t: Transfer | null = null;
  row = 0;
  off = 0;
  end = 0;
  start = 0;
  /** DRAM bursts handed over before it: their R must all be back first (same AXI ID). */
  dramBefore = 0;
  /** The transfer's last burst. */
  last = false;
}

/** A write beat on its way from the DMA's W port to the TCDM. */
class WBeat {
  t: Transfer | null = null;
  /** Its write burst (DRAM destination). */
  burst: DramWBurst | null = null;
  dst = 0;
  /** Offset of its first byte in the stream of transfers (where its data waits, see `Idma.data`). */
  so = 0;
  len = 0;
  last = false;
  /** The last beat of its write burst. */
  burstLast = false;
  copyFrom(b: WBeat): void {
    this.t = b.t;
    this.burst = b.burst;
    this.dst = b.dst;
    this.so = b.so;
    this.len = b.len;
    this.last = b.last;
    this.burstLast = b.burstLast;
  }
}

/**
 * A write burst to DRAM at the harness memory: its AW at the DMA's port, when the atomics adapter
 * took it (at most 2 write bursts in it at a time), and its B at the memory's port.
 */
class DramWBurst {
  t: Transfer | null = null;
  aw = 0;
  admitted = -1;
  ob = -1;
}

/** An R beat of a TCDM read on its way to the DMA: end of its data in the stream of transfers. */
class RBeat {
  t: Transfer | null = null;
  end = 0;
  /** The last beat of its burst. */
  last = false;
  copyFrom(b: RBeat): void {
    this.t = b.t;
    this.end = b.end;
    this.last = b.last;
  }
}

export class Idma extends Module {
  // frontend registers
  /** The frontend's configuration registers and the transfer ids (see `RegBank`). */
  private readonly feRegs = new RegBank();
  private readonly src: Reg;
  private readonly dst: Reg;
  private readonly srcStride: Reg;
  private readonly dstStride: Reg;
  private readonly reps: Reg;
  private readonly nextId: Reg;
  private readonly completedId: Reg;
  private readonly queue: RegFifo<Transfer>;
  /** The frontend's response `spill_register` (2 entries) before the core's response cut. */
  private readonly rsp: RegFifo<{ rd: number; data: number }>;
  /** First cycle the legalizer may hand over the next burst. */
  private arStart = 0;
  // backend registers
  private readonly busy: Reg;
  /** The legalizer's position: row and byte offset of the next burst. */
  private readonly arRow: Reg;
  private readonly arOff: Reg;
  private readonly wrRow: Reg;
  private readonly wrOff: Reg;
  /** Stream offset (see `Transfer.base`) up to which read data has reached the write stage. */
  private readonly arrived: Reg;
  /** Transfers in the backend, oldest first: the first is being written, reads run ahead. */
  private readonly active: Transfer[] = [];
  private readonly pool: Transfer[] = [];
  private streamEnd = 0;
  /** The transfer whose bursts the legalizer hands over (the last one taken), if any. */
  private get arT(): Transfer | null {
    const t = this.active.length > 0 ? this.active[this.active.length - 1]! : null;
    return t && !t.arDone ? t : null;
  }
  /** TCDM read bursts in order; the head is being read, from byte `tqOff` of its row. */
  private readonly tq: TcdmBurst[] = [];
  private readonly tqPool: TcdmBurst[] = [];
  private tqOff = 0;
  /**
   * Bursts handed over to each slave and finished (their last R at the DMA), and the cycle of the
   * last such R: an AR to one slave waits in the crossbar until the other's R are all back.
   */
  private tcdmEmitted = 0;
  private tcdmDone = 0;
  private tcdmLastR = -1;
  private dramEmitted = 0;
  private dramDone = 0;
  private dramLastR = -1;
  /**
   * The destination of the transfer written before the one in the W stage (-1 none, 0 DRAM, 1
   * TCDM) and the cycle its last B reached the DMA: an AW to the other slave waits for that B.
   */
  private prevDst = -1;
  private prevB = 0;
  /** The transfer whose write beats leave the DMA (the oldest one not yet through), if any. */
  private get wrT(): Transfer | null {
    for (const t of this.active) if (!t.wDone) return t;
    return null;
  }
  /** Read pipeline: arrival slot per future cycle holding the stream end offset (-1 = none). */
  private readonly rdPipe: Float64Array;
  private readonly cycleQ: Reg;
  /** Pending write acknowledgements: remaining cycles, in order. */
  private readonly acks: number[] = [];
  /**
   * The W path into the TCDM: the wide crossbar's demux and mux spill registers, then the write
   * `axi_to_mem`'s one-entry fall-through request FIFO in front of the TCDM port.
   */
  private readonly wDemux: RegFifo<WBeat>;
  private readonly wMux: RegFifo<WBeat>;
  private readonly wReq: RegFifo<WBeat>;
  /**
   * The R path from the TCDM: the read `axi_to_mem`'s response buffer (it reads only while fewer
   * than 2 responses wait there or one moves on), the crossbar's mux and demux R spill registers;
   * then the DMA's data buffer, a FIFO of 3 bytes per byte lane (bytes sit in the lane of their
   * destination address): an R is taken only if each lane it fills has room, i.e. if its data
   * ends at most 192 bytes after the last W sent (a W leaving frees its lanes at once). A held W
   * backs the path up.
   */
  private readonly rBuf: RegFifo<RBeat>;
  private readonly rMux: RegFifo<RBeat>;
  private readonly rDemux: RegFifo<RBeat>;
  /** Stream offset up to which W beats have left the DMA. */
  private wSent = 0;
  /**
   * The data read and not yet written, by stream offset (modulo its size): a W writes what its
   * reads returned, even where the source has changed since (overlapping copies).
   */
  private readonly data = new Uint8Array(1 << 17);
  /**
   * The W path to DRAM: the crossbar's demux and mux W spill registers, then the memory's port,
   * which takes a W once its burst's AW is in the atomics adapter; the register bus writes it 2
   * cycles later, and the burst's B is at the port 3 cycles after its last write (at the DMA 2
   * more).
   */
  private readonly wdDemux: RegFifo<WBeat>;
  private readonly wdMux: RegFifo<WBeat>;
  private readonly wBursts: DramWBurst[] = [];
  /** Beats taken by the memory's port, written by its register bus in cycle `dwG` (in order). */
  private readonly dWrites: WBeat[] = Array.from({ length: 4 }, () => new WBeat());
  private readonly dwG = [0, 0, 0, 0];
  private dwHead = 0;
  private dwN = 0;
  /** The write burst the W stage is filling (DRAM destination). */
  private wBurst: DramWBurst | null = null;
  /**
   * `axi_to_mem_interleaved`: the read and the write `axi_to_mem` share the one 512-bit TCDM port
   * through a 2-input `rr_arb_tree` (input 0 the writes, 1 the reads).
   */
  private readonly portArb = new RrArbTree(2);
  private portReq = 0;

  // wires
  private rdBeat = false;
  private rdLen = 0;
  private wrBeat = false;
  private wrLen = 0;
  /** A write beat leaves the DMA's W port into the wide crossbar (TCDM destination). */
  private wPush = false;
  /** The TCDM port writes this cycle (the head of the W path wins the port). */
  private tcdmWr = false;
  private accept = false;
  /** The legalizer hands over a burst (its AR) this cycle. */
  private emitAr = false;

  readonly nBytes: { value: number };
  readonly nTransfers: { value: number };
  readonly nBusyCycles: { value: number };

  constructor(
    parent: Module | null,
    name: string,
    private readonly mem: ClusterMemory,
    private readonly tcdm: Tcdm,
    private readonly core: Snitch,
    /** True when the shared mul/div writes the DMA core's response cut this cycle. */
    private readonly rspTaken: () => boolean,
    /** The wide AXI read path to DRAM (shared with the instruction cache). */
    private readonly wide: WideAxi,
    queueDepth = 8,
  ) {
    super(parent, name);
    // the frontend's configuration and the transfer ids change in few cycles: committed when touched
    const fe = this.feRegs;
    this.state.push(fe);
    this.src = this.bankReg(fe, 'i_axi_dma_tc_snitch_fe.src_q', 32);
    this.dst = this.bankReg(fe, 'i_axi_dma_tc_snitch_fe.dst_q', 32);
    this.srcStride = this.bankReg(fe, 'i_axi_dma_tc_snitch_fe.src_stride_q', 32);
    this.dstStride = this.bankReg(fe, 'i_axi_dma_tc_snitch_fe.dst_stride_q', 32);
    this.reps = this.bankReg(fe, 'i_axi_dma_tc_snitch_fe.reps_q', 32, 1);
    // `idma_transfer_id_gen`: the first transfer gets id 2, `completed` starts at 1
    this.nextId = this.bankReg(fe, 'i_transfer_id_gen.next_q', 32, 2);
    this.completedId = this.bankReg(fe, 'i_transfer_id_gen.completed_q', 32, 1);
    this.queue = new RegFifo(`${this.path}.req_fifo`, queueDepth, () => new Transfer());
    this.rsp = new RegFifo(`${this.path}.i_spill_register_rsp`, 2, () => ({ rd: 0, data: 0 }));
    this.state.push(this.queue, this.rsp);
    this.wDemux = new RegFifo(`${this.path}.i_axi_xbar.w_spill_demux`, 2, () => new WBeat());
    this.wMux = new RegFifo(`${this.path}.i_axi_xbar.w_spill_mux`, 2, () => new WBeat());
    this.wReq = new RegFifo(`${this.path}.i_axi_to_mem_write.i_ft_reg`, 1, () => new WBeat());
    this.state.push(this.wDemux, this.wMux, this.wReq);
    // 2 responses, plus the slot of one that arrives while another moves on
    this.rBuf = new RegFifo(`${this.path}.i_axi_to_mem_read.i_stream_to_mem`, 3, () => new RBeat());
    this.rMux = new RegFifo(`${this.path}.i_axi_xbar.r_spill_mux`, 2, () => new RBeat());
    this.rDemux = new RegFifo(`${this.path}.i_axi_xbar.r_spill_demux`, 2, () => new RBeat());
    this.state.push(this.rBuf, this.rMux, this.rDemux);
    // the DMA's DRAM writes take turns with the reads on the memory's register bus
    this.wide.writer = this.writer;
    this.wdDemux = new RegFifo(`${this.path}.i_axi_xbar.w_spill_demux_wide`, 2, () => new WBeat());
    this.wdMux = new RegFifo(`${this.path}.i_axi_xbar.w_spill_mux_wide`, 2, () => new WBeat());
    this.state.push(this.wdDemux, this.wdMux);
    this.busy = this.reg('backend.busy_q', 1);
    this.arRow = this.reg('backend.ar_row_q', 32);
    this.arOff = this.reg('backend.ar_off_q', 32);
    this.wrRow = this.reg('backend.wr_row_q', 32);
    this.wrOff = this.reg('backend.wr_off_q', 32);
    this.arrived = this.reg('backend.arrived_q', 40);
    this.cycleQ = this.reg('cycle_q', 52);
    // arrivals are scheduled at most 8 cycles ahead (R 3 cycles after the adapter, W + 4)
    this.rdPipe = new Float64Array(16).fill(-1);
    this.nBytes = this.counter('bytes');
    this.nTransfers = this.counter('transfers');
    this.nBusyCycles = this.counter('busy_cycles');
    this.port('busy', 1, () => this.busy.cur);
  }

  /**
   * `busy` (DMSTATI 2): a transfer is queued or its data is still moving. It drops the cycle after
   * the last write beat leaves the DMA's port, before the write responses (which `completed`
   * waits for).
   */
  get isBusy(): boolean {
    if (this.queue.valid || this.zeroBusy) return true;
    const last = this.active.length > 0 ? this.active[this.active.length - 1]! : null;
    if (!last) return false;
    return last.busyEnd < 0 || this.cycleQ.cur < last.busyEnd;
  }
  /** A zero-length copy shows busy only in the cycle it leaves the queue. */
  private zeroBusy = false;

  private static chunk(addr: number, left: number): number {
    const toBoundary = BEAT - (addr % BEAT);
    return left < toBoundary ? left : toBoundary;
  }

  private superbankOf(addr: number): number {
    return this.mem.isTcdm(addr) ? (addr >>> 6) & 3 : -1;
  }

  /** Decides this cycle's beats; must run before the TCDM arbitration. */
  // a leaf module: evaluate and update are its own logic
  override evaluate(): void {
    this.comb();
  }
  override update(): void {
    this.seq();
  }

  protected override comb(): void {
    this.rdBeat = false;
    this.wrBeat = false;
    this.wPush = false;
    this.tcdmWr = false;
    this.emitAr = false;
    const cyc = this.cycleQ.cur;
    const slot = cyc % this.rdPipe.length;
    const arrivedNow = Math.max(this.arrived.cur, this.rdPipe[slot]!);
    // the legalizer hands one burst per cycle to the DMA's AR port (the crossbar's 2-entry demux
    // spill register, where ARs held for the same-ID rule wait)
    let heldTcdm = 0;
    for (const x of this.tq) if (this.dramDone < x.dramBefore) heldTcdm++;
    if (this.arT && cyc >= this.arStart) this.emitAr = this.wide.held(0) + heldTcdm < 2;
    // the TCDM read side: the head burst's next beat
    let rdReq = false;
    let rdAddr = 0;
    const h = this.tq.length > 0 ? this.tq[0]! : null;
    // (the read side's response buffer takes a read while it holds fewer than 2 or hands one on)
    if (
      h &&
      cyc >= h.start &&
      this.dramDone >= h.dramBefore &&
      cyc > this.dramLastR &&
      (this.rBuf.count < 2 || this.rMux.canPush)
    ) {
      rdAddr = h.t!.src + h.row * h.t!.srcStride + this.tqOff;
      this.rdLen = Idma.chunk(rdAddr, h.end - this.tqOff);
      rdReq = true;
    }
    const t = this.wrT;
    if (t) {
      const a = t.dst + this.wrRow.cur * t.dstStride + this.wrOff.cur;
      // a beat ends at a 64-byte boundary and at the end of a burst (every 4096 bytes of the row)
      const off = this.wrOff.cur;
      const len = Idma.chunk(a, Math.min(t.size - off, 4096 - (off % 4096)));
      const wrStream = t.base + this.wrRow.cur * t.size + this.wrOff.cur;
      if (wrStream + len <= arrivedNow) {
        this.wrLen = len;
        // a TCDM destination: the beat enters the crossbar's W spill register when it has room;
        // DRAM: the write happens now (the arrival already counts the DRAM side's stages)
        if (this.mem.isTcdm(t.dst)) this.wPush = this.wDemux.canPush;
        else this.wrBeat = this.wdDemux.canPush;
      }
    }
    // the TCDM port: the head of the W path (the write FIFO, or the mux spill register's head
    // falling through it) against the read side's next beat
    const w = this.wReq.valid ? this.wReq.first : this.wMux.valid ? this.wMux.first : null;
    this.portReq = (w ? 1 : 0) | (rdReq ? 2 : 0);
    const win = this.portArb.winner(this.portReq);
    let sbMask = 0;
    if (win === 0) {
      this.tcdmWr = true;
      sbMask = 1 << this.superbankOf(w!.dst);
    } else if (win === 1) {
      this.rdBeat = true;
      sbMask = 1 << this.superbankOf(rdAddr);
    }
    this.tcdm.dmaSuperbanks = sbMask;
    // Frontend: accept one Xdma instruction per cycle when its response slot is free.
    const q = this.core.accReq;
    this.accept = false;
    if (q.valid && q.first.name.startsWith('dm') && this.rsp.canPush) {
      const n = q.first.name;
      this.accept = (n !== 'dmcpyi' && n !== 'dmcpy') || this.queue.canPush;
    }
  }

  /** The frontend holds no response for its core. */
  get frontendIdle(): boolean {
    return !this.rsp.valid;
  }

  protected override seq(): void {
    const cyc = this.cycleQ.cur;
    this.cycleQ.nxt = cyc + 1;
    const slot = cyc % this.rdPipe.length;
    const arrivedNow = Math.max(this.arrived.cur, this.rdPipe[slot]!);
    this.rdPipe[slot] = -1;
    this.arrived.nxt = arrivedNow;
    // acknowledgements
    for (let i = 0; i < this.acks.length; i++) this.acks[i]!--;
    while (this.acks.length > 0 && this.acks[0]! <= 0) {
      this.acks.shift();
      this.completedId.nxt = this.completedId.nxt + 1;
      this.feRegs.touch();
    }
    if (this.active.length > 0) this.nBusyCycles.value++;
    this.portArb.commit(this.portReq, this.portReq !== 0);
    if (this.emitAr) this.emit(cyc);
    if (this.rdBeat) this.tcdmRead();
    this.tcdmWritePath();
    const t = this.wrT;
    if (t && (this.wrBeat || this.wPush)) {
      const off = this.wrOff.cur;
      if (this.wrRow.cur === 0 && off === 0) {
        const dst = this.wPush ? 1 : 0;
        t.awWait = this.prevDst >= 0 && this.prevDst !== dst;
      }
      const d = t.dst + this.wrRow.cur * t.dstStride + off;
      const so = t.base + this.wrRow.cur * t.size + off;
      const last = this.wrRow.cur === t.reps - 1 && off + this.wrLen >= t.size;
      if (off + this.wrLen >= t.size) {
        this.wrRow.nxt = this.wrRow.cur + 1;
        this.wrOff.nxt = 0;
      } else this.wrOff.nxt = off + this.wrLen;
      if (this.wPush) {
        const b = this.wDemux.push();
        b.t = t;
        b.burst = null;
        b.dst = d;
        b.so = so;
        b.len = this.wrLen;
        b.last = last;
      } else {
        // a write burst starts every 4096 bytes of a row; its AW left with its first R
        if (off % 4096 === 0) {
          const x = new DramWBurst();
          x.t = t;
          x.aw = cyc - 1;
          this.wBursts.push(x);
          this.wBurst = x;
        }
        const b = this.wdDemux.push();
        b.t = t;
        b.burst = this.wBurst;
        b.dst = d;
        b.so = so;
        b.len = this.wrLen;
        b.last = last;
        b.burstLast = off + this.wrLen >= t.size || (off + this.wrLen) % 4096 === 0;
      }
      if (last) {
        t.busyEnd = cyc + 1;
        t.wDone = true;
        this.prevDst = this.wPush ? 1 : 0;
        this.wrRow.nxt = 0;
        this.wrOff.nxt = 0;
      }
    }
    if (this.wPush || this.wrBeat)
      this.wSent = t!.base + this.wrRow.cur * t!.size + this.wrOff.cur + this.wrLen;
    this.dramWritePath(cyc);
    this.rPath(cyc);
    this.zeroBusy = false;
    // The legalizer takes the next transfer once it has handed over every burst of the ones
    // before it (the backend keeps up to 8 transfers in flight).
    if (this.queue.valid && this.active.length < 8) {
      let free = true;
      for (const x of this.active) if (!x.arDone) free = false;
      if (free) this.start(cyc);
    }
    this.busy.nxt = this.active.length > 0 ? 1 : 0;
    // the frontend's response register drains into the core's response cut
    if (this.rsp.valid && this.core.accRsp.canPush && !this.rspTaken()) {
      const r = this.rsp.first;
      const p = this.core.accRsp.push();
      p.rd = r.rd;
      p.data = r.data;
      this.rsp.pop();
    }
    if (this.accept) this.frontend();
  }

  /**
   * The W path into the TCDM, one step: the port writes the head beat if it won (B back at the
   * DMA 3 cycles later), the mux spill register's head falls through the empty request FIFO (and
   * stays there if it lost the port), the demux spill register passes on to the mux one.
   */
  private tcdmWritePath(): void {
    const fromFifo = this.wReq.valid;
    if (this.tcdmWr) {
      const b = fromFifo ? this.wReq.first : this.wMux.first;
      this.mem.writeRing(b.dst, this.data, b.so, b.len);
      this.nBytes.value += b.len;
      if (b.last) {
        this.acks.push(3);
        this.prevB = this.cycleQ.cur + 3;
        // the transfer is written: the next one (read ahead, if any) becomes the oldest
        this.pool.push(this.active.shift()!);
      }
    }
    if (fromFifo) {
      if (this.tcdmWr) this.wReq.pop();
    } else if (this.wMux.valid) {
      if (!this.tcdmWr) this.wReq.push().copyFrom(this.wMux.first);
      this.wMux.pop();
    }
    if (this.wDemux.valid && this.wMux.canPush && this.awPassed(this.wDemux.first.t!)) {
      this.wMux.push().copyFrom(this.wDemux.first);
      this.wDemux.pop();
    }
  }

  /**
   * The legalizer hands over one burst: at most 4096 bytes of the current row, counted from where
   * the row stands (the RTL build splits every 4096 bytes from the start, not at 4 KiB address
   * boundaries). A TCDM source's burst is read from 2 cycles after its AR; a DRAM source's goes to
   * the wide port.
   */
  private emit(cyc: number): void {
    const t = this.arT!;
    const row = this.arRow.cur;
    const off = this.arOff.cur;
    const b = Math.min(4096, t.size - off);
    const last = row === t.reps - 1 && off + b >= t.size;
    if (this.mem.isTcdm(t.src)) {
      const x = this.tqPool.pop() ?? new TcdmBurst();
      x.t = t;
      x.row = row;
      x.off = off;
      x.end = off + b;
      x.start = cyc + 2;
      x.dramBefore = this.dramEmitted;
      x.last = last;
      if (this.tq.length === 0) this.tqOff = off;
      this.tq.push(x);
      this.tcdmEmitted++;
    } else this.dramBurst(t, row, off, b);
    if (last) t.arDone = true;
    if (off + b >= t.size) {
      this.arRow.nxt = row + 1;
      this.arOff.nxt = 0;
    } else this.arOff.nxt = off + b;
    this.arStart = cyc + 1;
  }

  /**
   * A DRAM read burst to the wide port. Its AR leaves the crossbar's demux only once the R of
   * every TCDM burst before it is back at the DMA. Each beat's data can leave as a W in the cycle
   * after its R is at the DMA's port.
   */
  private dramBurst(t: Transfer, row: number, off: number, b: number): void {
    const a = t.src + row * t.srcStride + off;
    const head = BEAT - (a % BEAT);
    const beats = Math.floor(((a % BEAT) + b - 1) / BEAT) + 1;
    const start = t.base + row * t.size + off;
    const end = start + b;
    const pipe = this.rdPipe;
    const tcdmBefore = this.tcdmEmitted;
    this.dramEmitted++;
    this.wide.request(0, {
      beats,
      onBeat: (k, r) => {
        const e = Math.min(end, start + head + BEAT * k);
        const s0 = k === 0 ? start : start + head + BEAT * (k - 1);
        this.mem.readRing(a + (s0 - start), this.data, s0, e - s0);
        const s = (r + 1) % pipe.length;
        pipe[s] = Math.max(pipe[s]!, e);
        if (k === beats - 1) {
          this.dramDone++;
          this.dramLastR = r;
        }
      },
      release: (c) => this.tcdmDone >= tcdmBefore && c >= this.tcdmLastR,
    });
  }

  /**
   * One beat of the head TCDM burst is read: R at the DMA's port 3 cycles later, the W one cycle
   * after that (a DRAM destination's own stages follow at once).
   */
  private tcdmRead(): void {
    const h = this.tq[0]!;
    const t = h.t!;
    const so = t.base + h.row * t.size + this.tqOff;
    this.mem.readRing(t.src + h.row * t.srcStride + this.tqOff, this.data, so, this.rdLen);
    const b = this.rBuf.push();
    b.t = t;
    b.end = so + this.rdLen;
    this.tqOff += this.rdLen;
    b.last = this.tqOff >= h.end;
    if (!b.last) return;
    this.tq.shift();
    h.t = null;
    this.tqPool.push(h);
    if (this.tq.length > 0) this.tqOff = this.tq[0]!.off;
  }

  /**
   * The R path of TCDM reads, one step (every hand-over sees the registered fill of the next
   * stage): the DMA takes the demux spill register's head when its buffer has room; its data can
   * leave as a W in the next cycle.
   */
  private rPath(cyc: number): void {
    if (this.rDemux.valid && this.rDemux.first.end <= this.wSent + 3 * BEAT) {
      const b = this.rDemux.first;
      const s = (cyc + 1) % this.rdPipe.length;
      this.rdPipe[s] = Math.max(this.rdPipe[s]!, b.end);
      if (b.last) {
        this.tcdmDone++;
        this.tcdmLastR = cyc;
      }
      this.rDemux.pop();
    }
    if (this.rMux.valid && this.rDemux.canPush) {
      this.rDemux.push().copyFrom(this.rMux.first);
      this.rMux.pop();
    }
    if (this.rBuf.valid && this.rMux.canPush) {
      this.rMux.push().copyFrom(this.rBuf.first);
      this.rBuf.pop();
    }
  }

  /**
   * An AW to the other slave than the previous transfer's waits in the crossbar until that
   * transfer's last B is back at the DMA, and its W beats behind it: to the TCDM they leave the
   * demux's W spill register from the cycle after the B; to DRAM the W stage waits so that the
   * first write comes 2 cycles after the AW reaches the memory.
   */
  private awPassed(t: Transfer): boolean {
    return !t.awWait || (this.active[0] === t && this.cycleQ.cur > this.prevB);
  }

  /**
   * The W path to DRAM, one step: the atomics adapter takes the oldest waiting AW 2 cycles after
   * the DMA sent it, once fewer than 2 write bursts are in it (a burst leaves with its B; an AW
   * to DRAM after a transfer to the TCDM also waits for that one's B); the memory's port takes
   * the head W from the cycle after its burst's AW; the register bus writes it 2 cycles later.
   */
  private dramWritePath(cyc: number): void {
    let inside = 0;
    for (const x of this.wBursts) {
      if (x.admitted >= 0) {
        if (x.ob < 0 || x.ob >= cyc) inside++;
        continue;
      }
      const t = x.t!;
      if (cyc >= x.aw + 2 && inside < 2 && (!t.awWait || (this.active[0] === t && cyc > this.prevB)))
        x.admitted = cyc;
      break;
    }
    while (this.wBursts.length > 0 && this.wBursts[0]!.ob >= 0 && this.wBursts[0]!.ob < cyc)
      this.wBursts.shift();
    // the memory's port takes a W while its cut and write FIFO have room (4 beats)
    if (this.wdMux.valid && this.dwN < this.dWrites.length) {
      const b = this.wdMux.first;
      const x = b.burst!;
      if (x.admitted >= 0 && cyc > x.admitted) {
        const k = (this.dwHead + this.dwN) % this.dWrites.length;
        this.dWrites[k]!.copyFrom(b);
        this.dwG[k] = cyc + 2;
        this.dwN++;
        this.wdMux.pop();
      }
    }
    if (this.wdDemux.valid && this.wdMux.canPush) {
      this.wdMux.push().copyFrom(this.wdDemux.first);
      this.wdDemux.pop();
    }
  }

  /** The memory's write FIFO head, offered to the register bus (`WideAxi`). */
  readonly writer: WideWriter = {
    ready: (c) => this.dwN > 0 && this.dwG[this.dwHead]! <= c,
    grant: (c) => {
      const w = this.dWrites[this.dwHead]!;
      this.dwHead = (this.dwHead + 1) % this.dWrites.length;
      this.dwN--;
      this.mem.writeRing(w.dst, this.data, w.so, w.len);
      this.nBytes.value += w.len;
      // the burst's B is at the memory's port 3 cycles after its last write, at the DMA 2 more
      if (w.burstLast) w.burst!.ob = c + 3;
      if (w.last) {
        this.acks.push(5);
        this.prevB = c + 5;
        this.pool.push(this.active.shift()!);
      }
    },
  };

  /** The legalizer takes the queue's head (the ND FIFO pops; `next_id` advances). */
  private start(cyc: number): void {
    const q = this.queue.first;
    this.queue.pop();
    this.nextId.nxt = this.nextId.cur + 1;
    this.feRegs.touch();
    this.nTransfers.value++;
    if (q.reps === 0) {
      // a 2-D copy of no rows: the midend answers at once, and it counts
      this.acks.push(1);
      return;
    }
    if (q.size === 0) {
      // a zero-length 1-D copy is refused by the backend: busy for one cycle, never completed
      this.zeroBusy = true;
      return;
    }
    const t = this.pool.pop() ?? new Transfer();
    t.copyFrom(q);
    t.base = this.streamEnd;
    this.streamEnd += total(t);
    t.wDone = false;
    t.busyEnd = -1;
    t.arDone = false;
    this.active.push(t);
    this.arRow.nxt = 0;
    this.arOff.nxt = 0;
    // the first AR in the next cycle
    this.arStart = cyc + 1;
  }

  private frontend(): void {
    this.feRegs.touch();
    const q = this.core.accReq;
    const r = q.first;
    q.pop();
    const imm = (r.word >>> 20) & 31;
    let result = -1;
    switch (r.name) {
      case 'dmsrc':
        this.src.nxt = r.a; // high word (rs2) ignored: 32-bit physical addresses
        break;
      case 'dmdst':
        this.dst.nxt = r.a;
        break;
      case 'dmstr':
        this.srcStride.nxt = r.a;
        this.dstStride.nxt = r.b;
        break;
      case 'dmrep':
        this.reps.nxt = r.a;
        break;
      case 'dmcpyi':
      case 'dmcpy': {
        const cfg = r.name === 'dmcpyi' ? imm : r.b;
        const twoD = (cfg & 2) !== 0;
        const t = this.queue.push();
        t.src = this.src.cur;
        t.dst = this.dst.cur;
        t.size = r.a;
        t.srcStride = this.srcStride.cur;
        t.dstStride = this.dstStride.cur;
        t.reps = twoD ? this.reps.cur : 1;
        result = this.nextId.cur;
        break;
      }
      case 'dmstati':
      case 'dmstat': {
        const sel = r.name === 'dmstati' ? imm : r.b;
        switch (sel & 3) {
          case 0:
            result = this.completedId.cur;
            break;
          case 1:
            result = this.nextId.cur;
            break;
          case 2:
            result = this.isBusy ? 1 : 0;
            break;
          default:
            result = this.queue.canPush ? 0 : 1;
        }
        break;
      }
    }
    if (result !== -1) {
      const p = this.rsp.push();
      p.rd = r.rd;
      p.data = result >>> 0;
    }
  }
}
