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
 *   - a write beat (W) leaves the DMA's port the cycle after its data arrived and writes the
 *     destination 2 (TCDM) or 4 (DRAM) cycles later; beats never cross a 64-byte boundary of
 *     their own side (an unaligned row costs one more beat); the write response reaches the
 *     DMA 6 (TCDM) or 10 (DRAM) cycles after the last W;
 *   - a TCDM beat occupies its superbank (the DMA wins the `mem_wide_narrow_mux`);
 *   - the crossbar keeps one AXI ID per direction in order: a transfer whose source is the slave
 *     the reads ahead of it use (DRAM behind DRAM, TCDM behind TCDM) starts as soon as those reads
 *     are all issued (up to 8 transfers in the backend; a TCDM source streams on without a gap),
 *     one reading the other slave only once their last R is (nearly) back (`AR_AFTER_R`); a
 *     transfer writing the other slave than the one before it waits for that one's B
 *     (`WR_AFTER_B`);
 *   - DRAM writes share the harness memory's register bus with DRAM reads (`WideAxi.write`): their
 *     B, and `completed`, follow the cycle the bus takes the last beat.
 * Not modelled yet: the TCDM -> TCDM copies' sharing of one TCDM port between reads and writes
 * (they alternate in the RTL; such a copy starts only on an idle backend), the write FIFO's
 * back-pressure on W when reads hold the register bus for long.
 */
import { Module, type Reg } from '../sim/kernel.ts';
import { RegFifo } from '../snitch/fifo.ts';
import type { Snitch } from '../snitch/core.ts';
import type { ClusterMemory } from './memory.ts';
import type { Tcdm } from './tcdm.ts';
import type { WideAxi } from './wide_axi.ts';

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
  /** W at the DMA port to the destination's write: TCDM 2, DRAM 4. */
  dstDelay = 2;
  /** Cycle from which `busy` reads 0 if this is the last transfer (-1: not known yet). */
  busyEnd = -1;
  /** Set when every read of the transfer has been issued. */
  readDone = false;
  /** Cycle its last R beat is at the DMA's port (-1: not known yet). */
  lastR = -1;
  /** Busy cannot drop before this cycle: its writes were held back (see `wrHold`). */
  wrFloor = -1;
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
 * The crossbar's demux holds a transaction to the other master port (TCDM or DRAM) until the ID's
 * outstanding ones are done (all DMA reads share one AXI ID, all writes another). A read to the
 * other slave is taken 2 cycles before the last R of the earlier reads is at the DMA's port (its
 * `r_last` passes the demux then); a write to the other slave starts 2 cycles after the earlier
 * writes' B is counted. Both measured on the system RTL (every folder of its reference).
 */
const AR_AFTER_R = -2;
const WR_AFTER_B = 2;

export class Idma extends Module {
  // frontend registers
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
  /** First cycle a read of the read side's transfer may issue (AR, plus 2 for a TCDM source). */
  private rdStart = 0;
  /** No write beat before this cycle (an AW to another slave waits for the earlier writes' B). */
  private wrHold = 0;
  /** The transfer whose writes `wrHold` holds back. */
  private holdNext: Transfer | null = null;
  // backend registers
  private readonly busy: Reg;
  private readonly rdRow: Reg;
  private readonly rdOff: Reg;
  private readonly wrRow: Reg;
  private readonly wrOff: Reg;
  /** Stream offset (see `Transfer.base`) up to which read data has reached the write stage. */
  private readonly arrived: Reg;
  /** Transfers in the backend, oldest first: the first is being written, reads run ahead. */
  private readonly active: Transfer[] = [];
  private readonly pool: Transfer[] = [];
  private streamEnd = 0;
  /** The transfer whose reads are being issued (the last one taken), if any. */
  private get rdT(): Transfer | null {
    const t = this.active.length > 0 ? this.active[this.active.length - 1]! : null;
    return t && !t.readDone ? t : null;
  }
  /** The transfer being written (the oldest one), if any. */
  private get wrT(): Transfer | null {
    return this.active.length > 0 ? this.active[0]! : null;
  }
  /** Read pipeline: arrival slot per future cycle holding the stream end offset (-1 = none). */
  private readonly rdPipe: Float64Array;
  private readonly cycleQ: Reg;
  /** Pending write acknowledgements: remaining cycles, in order. */
  /** Write responses in order: the cycle each is counted in `completed` (Infinity: not yet known). */
  private readonly acks: { at: number }[] = [];

  // wires
  private rdBeat = false;
  private rdLen = 0;
  private wrBeat = false;
  private wrLen = 0;
  private accept = false;
  private emitBurst = false;

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
    this.src = this.reg('i_axi_dma_tc_snitch_fe.src_q', 32);
    this.dst = this.reg('i_axi_dma_tc_snitch_fe.dst_q', 32);
    this.srcStride = this.reg('i_axi_dma_tc_snitch_fe.src_stride_q', 32);
    this.dstStride = this.reg('i_axi_dma_tc_snitch_fe.dst_stride_q', 32);
    this.reps = this.reg('i_axi_dma_tc_snitch_fe.reps_q', 32, 1);
    // `idma_transfer_id_gen`: the first transfer gets id 2, `completed` starts at 1
    this.nextId = this.reg('i_transfer_id_gen.next_q', 32, 2);
    this.completedId = this.reg('i_transfer_id_gen.completed_q', 32, 1);
    this.queue = new RegFifo(`${this.path}.req_fifo`, queueDepth, () => new Transfer());
    this.rsp = new RegFifo(`${this.path}.i_spill_register_rsp`, 2, () => ({ rd: 0, data: 0 }));
    this.state.push(this.queue, this.rsp);
    this.busy = this.reg('backend.busy_q', 1);
    this.rdRow = this.reg('backend.rd_row_q', 32);
    this.rdOff = this.reg('backend.rd_off_q', 32);
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
    return last.busyEnd < 0 || this.cycleQ.cur < Math.max(last.busyEnd, last.wrFloor);
  }
  /** A zero-length copy shows busy only in the cycle it leaves the queue. */
  private zeroBusy = false;

  /** The register bus took the last DRAM write of a transfer in cycle `g`: its B follows. */
  private dramWritten(ack: { at: number }, g: number): void {
    ack.at = g + 5;
    if (this.wrHold === Infinity) this.holdAfter(g + 5);
  }

  /** Writes of `holdNext` (to the other slave) start `WR_AFTER_B` after the B counted in `at`. */
  private holdAfter(at: number): void {
    const next = this.holdNext!;
    this.wrHold = at + WR_AFTER_B;
    // one beat per cycle from the hold on; busy drops the cycle after the last W
    next.wrFloor = this.wrHold + this.writeBeats(next) - next.dstDelay;
  }

  /** Write beats of a transfer (a row's beats never cross a 64-byte boundary of the destination). */
  private writeBeats(t: Transfer): number {
    let n = 0;
    for (let row = 0; row < t.reps; row++) {
      for (let off = 0; off < t.size; ) {
        off += Idma.chunk(t.dst + row * t.dstStride + off, t.size - off);
        n++;
      }
    }
    return n;
  }

  private static chunk(addr: number, left: number): number {
    const toBoundary = BEAT - (addr % BEAT);
    return left < toBoundary ? left : toBoundary;
  }

  private superbankOf(addr: number): number {
    return this.mem.isTcdm(addr) ? (addr >>> 6) & 3 : -1;
  }

  /** Decides this cycle's beats; must run before the TCDM arbitration. */
  protected override comb(): void {
    this.rdBeat = false;
    this.wrBeat = false;
    this.emitBurst = false;
    let sbMask = 0;
    const slot = this.cycleQ.cur % this.rdPipe.length;
    const arrivedNow = Math.max(this.arrived.cur, this.rdPipe[slot]!);
    const r = this.rdT;
    if (r && !r.readDone && this.cycleQ.cur >= this.rdStart) {
      if (!this.mem.isTcdm(r.src)) {
        // the legalizer hands one burst per cycle to the wide port when its spill register has room
        this.emitBurst = this.wide.ready(0);
      } else {
        const a = r.src + this.rdRow.cur * r.srcStride + this.rdOff.cur;
        this.rdLen = Idma.chunk(a, r.size - this.rdOff.cur);
        this.rdBeat = true;
        const sb = this.superbankOf(a);
        if (sb >= 0) sbMask |= 1 << sb;
      }
    }
    const t = this.wrT;
    if (t) {
      const a = t.dst + this.wrRow.cur * t.dstStride + this.wrOff.cur;
      const len = Idma.chunk(a, t.size - this.wrOff.cur);
      const sb = this.superbankOf(a);
      const wrStream = t.base + this.wrRow.cur * t.size + this.wrOff.cur;
      if (
        wrStream + len <= arrivedNow &&
        this.cycleQ.cur >= this.wrHold &&
        (sb < 0 || ((sbMask >>> sb) & 1) === 0)
      ) {
        this.wrBeat = true;
        this.wrLen = len;
        if (sb >= 0) sbMask |= 1 << sb;
      }
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

  protected override seq(): void {
    const cyc = this.cycleQ.cur;
    this.cycleQ.nxt = cyc + 1;
    const slot = cyc % this.rdPipe.length;
    const arrivedNow = Math.max(this.arrived.cur, this.rdPipe[slot]!);
    this.rdPipe[slot] = -1;
    this.arrived.nxt = arrivedNow;
    // acknowledgements
    while (this.acks.length > 0 && this.acks[0]!.at <= cyc) {
      this.acks.shift();
      this.completedId.nxt = this.completedId.nxt + 1;
    }
    if (this.active.length > 0) this.nBusyCycles.value++;
    const r = this.rdT;
    if (r && this.emitBurst) this.burst(cyc);
    if (r && this.rdBeat) {
      // R at the DMA's port (TCDM source: read + 3), W one cycle later, then the destination's
      // own stages
      const lat = 3 + 1 + r.dstDelay;
      const local = this.rdRow.cur * r.size + this.rdOff.cur + this.rdLen;
      if (local >= total(r)) {
        r.busyEnd = cyc + lat - r.dstDelay + 1;
        r.readDone = true;
        r.lastR = cyc + 3;
      }
      const s = (cyc + lat) % this.rdPipe.length;
      this.rdPipe[s] = Math.max(this.rdPipe[s]!, r.base + local);
      if (this.rdOff.cur + this.rdLen >= r.size) {
        this.rdRow.nxt = this.rdRow.cur + 1;
        this.rdOff.nxt = 0;
      } else this.rdOff.nxt = this.rdOff.cur + this.rdLen;
    }
    let wrFinished = false;
    const t = this.wrT;
    if (t && this.wrBeat) {
      const off = this.wrOff.cur;
      const d = t.dst + this.wrRow.cur * t.dstStride + off;
      const s = t.src + this.wrRow.cur * t.srcStride + off;
      this.mem.copy(d, s, this.wrLen);
      this.nBytes.value += this.wrLen;
      const last = this.wrRow.cur === t.reps - 1 && off + this.wrLen >= t.size;
      const toDram = !this.mem.isTcdm(d);
      if (off + this.wrLen >= t.size) {
        this.wrRow.nxt = this.wrRow.cur + 1;
        this.wrOff.nxt = 0;
      } else this.wrOff.nxt = off + this.wrLen;
      // write responses: `completed` counts the transfer W + 6 (TCDM) / W + 10 (DRAM, from the
      // cycle the memory's register bus takes the last beat, which reads may delay)
      const ack = last ? { at: toDram ? Infinity : cyc + 3 } : null;
      if (ack) this.acks.push(ack);
      if (toDram) this.wide.write(cyc, ack ? (g: number): void => this.dramWritten(ack, g) : null);
      if (last) wrFinished = true;
    }
    if (wrFinished) {
      // the next transfer (read ahead, if any) becomes the one written; all writes share one AXI
      // ID, so if it writes to the other slave its AW passes the crossbar only after the B
      const done = this.active.shift()!;
      const next = this.active[0];
      if (next && this.mem.isTcdm(next.dst) !== this.mem.isTcdm(done.dst)) {
        this.holdNext = next;
        if (this.mem.isTcdm(done.dst)) this.holdAfter(cyc + 3);
        else this.wrHold = Infinity; // until the register bus has taken the last DRAM write
      }
      this.pool.push(done);
      this.wrRow.nxt = 0;
      this.wrOff.nxt = 0;
    }
    this.zeroBusy = false;
    // The legalizer takes the next transfer: when nothing moves (or the last write goes out this
    // cycle), or, for a DRAM -> TCDM copy behind another whose reads are all issued, at once (the
    // RTL's backend keeps several bursts in flight); other directions wait for the previous data.
    if (this.queue.valid) {
      const q = this.queue.first;
      const idle = this.active.length === 0;
      const srcTcdm = (x: Transfer): boolean => this.mem.isTcdm(x.src);
      const local = (x: Transfer): boolean => this.mem.isTcdm(x.src) && this.mem.isTcdm(x.dst);
      let ahead = this.active.length < 8 && q.size > 0 && q.reps > 0 && !local(q);
      for (const x of this.active) {
        if (!x.readDone || local(x)) ahead = false;
        // all reads share one AXI ID: the crossbar lets a read to the other slave pass only once
        // every earlier read has returned its last beat
        else if (srcTcdm(x) !== srcTcdm(q) && (x.lastR < 0 || cyc < x.lastR + AR_AFTER_R)) ahead = false;
      }
      if (idle || ahead) this.start(cyc, !idle && srcTcdm(q) && srcTcdm(this.active[this.active.length - 1]!));
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
   * One read burst of a DRAM source to the wide port: at most 4096 bytes of the current row,
   * counted from where the row's reads stand (the RTL build splits every 4096 bytes from the
   * start, not at 4 KiB address boundaries). Each beat's data reaches the destination's write
   * stage R + 1 + the destination's delay after it is at the DMA's port.
   */
  private burst(cyc: number): void {
    const t = this.rdT!;
    const rowBase = this.rdRow.cur * t.size;
    const off = this.rdOff.cur;
    const b = Math.min(4096, t.size - off);
    const a = t.src + this.rdRow.cur * t.srcStride + off;
    const head = BEAT - (a % BEAT);
    const beats = Math.floor(((a % BEAT) + b - 1) / BEAT) + 1;
    const start = t.base + rowBase + off;
    const end = start + b;
    const lastOfTransfer = rowBase + off + b >= total(t);
    const pipe = this.rdPipe;
    const dst = t.dstDelay;
    this.wide.request(0, {
      beats,
      onBeat: (k, r) => {
        const e = Math.min(end, start + head + BEAT * k);
        const s = (r + 1 + dst) % pipe.length;
        pipe[s] = Math.max(pipe[s]!, e);
        if (lastOfTransfer && k === beats - 1) {
          t.busyEnd = r + 2;
          t.lastR = r;
        }
      },
    });
    if (lastOfTransfer) t.readDone = true;
    if (off + b >= t.size) {
      this.rdRow.nxt = this.rdRow.cur + 1;
      this.rdOff.nxt = 0;
    } else this.rdOff.nxt = off + b;
    this.rdStart = cyc + 1;
  }

  /** The legalizer takes the queue's head (the ND FIFO pops; `next_id` advances). */
  private start(cyc: number, streaming = false): void {
    const q = this.queue.first;
    this.queue.pop();
    this.nextId.nxt = this.nextId.cur + 1;
    this.nTransfers.value++;
    if (q.reps === 0) {
      // a 2-D copy of no rows: the midend answers at once, and it counts
      this.acks.push({ at: cyc + 1 });
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
    t.dstDelay = this.mem.isTcdm(t.dst) ? 2 : 4;
    t.busyEnd = -1;
    t.readDone = false;
    t.lastR = -1;
    t.wrFloor = -1;
    this.active.push(t);
    this.rdRow.nxt = 0;
    this.rdOff.nxt = 0;
    if (this.active.length === 1) {
      this.wrRow.nxt = 0;
      this.wrOff.nxt = 0;
    }
    // AR in the next cycle; a TCDM source is read two cycles after its AR, or right after the
    // reads of a TCDM source ahead of it (its AR went out while those were read)
    this.rdStart = cyc + 1 + (this.mem.isTcdm(t.src) && !streaming ? 2 : 0);
  }

  private frontend(): void {
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
