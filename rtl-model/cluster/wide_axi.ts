/**
 * The read path of the cluster's wide (512-bit) AXI port to the RTL harness's memory, shared by
 * the DMA (crossbar slave port 0) and the instruction cache's refills (port 2):
 *   - the wide `axi_xbar` with `CUT_ALL_PORTS`: a 2-entry AR spill register per master (demux),
 *     a round-robin `rr_arb_tree` (XOR priority, FairArb pointer) into the mux's 2-entry AR spill
 *     register; an AR handshaken in cycle a reaches `wide_out` in a+2;
 *   - the harness memory (`tb_memory_axi`): its LR/SC adapter admits at most 2 read bursts at a
 *     time (a slot frees when the burst's last beat passes the adapter); admitted bursts are read
 *     in admission order, one 512-bit beat per cycle from 2 cycles after admission; a beat passes
 *     the adapter 2 cycles after its read, but never in a cycle in which a burst is admitted (the
 *     adapter's queue gives its input priority), one per cycle; R reaches the master 3 cycles
 *     after the adapter (`axi_cut`, the crossbar's two R spill registers).
 * An isolated read handshaken at a returns its first beat at a+9. The memory's register bus does
 * one access per cycle, reads and writes taking turns (`axi_lite_to_reg`'s round robin, input 0
 * the writes): an admitted beat is read in the first cycle from its turn on in which it wins the
 * bus, one per cycle in order. The writes are the DMA's (see `Idma`), offered through `writer`.
 */

import { RrArbTree } from '../sim/rr_arb_tree.ts';

/** A read burst: `beats` 64-byte beats; `onBeat(k, r)` reports beat k's R at its master in cycle r. */
export interface WideRead {
  beats: number;
  onBeat(k: number, rCycle: number): void;
  /**
   * Whether the AR may leave its demux spill register in cycle c (default: always). The DMA holds
   * an AR there while R beats of the same AXI ID are still due from another slave (`axi_demux`).
   */
  release?(c: number): boolean;
}

/** The DRAM writes waiting at the memory's register bus (the DMA's W path). */
export interface WideWriter {
  /** A write is at the head of the memory's write FIFO in cycle c. */
  ready(c: number): boolean;
  /** The register bus does that write in cycle c. */
  grant(c: number): void;
}

interface Entry {
  cycle: number;
  read: WideRead;
}

interface Admitted {
  read: WideRead;
  passed: number;
  lastPass: number;
}

const MASTERS = [0, 2] as const; // crossbar slave-port indices of the DMA and the I$

export class WideAxi {
  private cycle = 0;
  /** Per master (0 DMA, 1 I$): the demux AR spill register. */
  private readonly demux: Entry[][] = [[], []];
  private readonly mux: Entry[] = [];
  /** The mux's arbiter over the crossbar's slave ports (DMA 0, I$ 2). */
  private readonly arb = new RrArbTree(3);
  private readonly admitted: Admitted[] = [];
  /**
   * Beats waiting to pass the adapter, in order: the burst, the first cycle it may be read and the
   * cycle it was read (-1: not yet).
   */
  private readonly beats: { a: Admitted; g: number; rd: number }[] = [];
  /** The register bus's round robin (0 writes, 1 reads). */
  private readonly busArb = new RrArbTree(2);
  writer: WideWriter | null = null;
  private gLast = -10;
  /** Lengths of the spill registers at the start of the cycle (their ready is registered). */
  private readonly demuxLen0 = [0, 0];
  private muxLen0 = 0;

  /** Extra cycles of a slower memory, added between the read and the adapter. */
  constructor(readonly extra = 0) {}

  /** Whether master `m` (0 DMA, 1 I$) can hand over an AR this cycle. */
  ready(m: number): boolean {
    return this.demuxLen0[m]! < 2;
  }

  /** ARs of master `m` in its demux spill register (registered). */
  held(m: number): number {
    return this.demuxLen0[m]!;
  }

  /** AR handshake of master `m` in this cycle (call only when `ready(m)`). */
  request(m: number, read: WideRead): void {
    this.demux[m]!.push({ cycle: this.cycle, read });
  }

  /** The clock edge: admission, the adapter, the crossbar's arbitration. Call once per cycle. */
  step(): void {
    const c = this.cycle;
    // 1. admission at wide_out: at most 2 read bursts not yet fully past the adapter
    let inFlight = 0;
    for (const a of this.admitted) if (a.passed < a.read.beats || a.lastPass >= c) inFlight++;
    let admittedNow = false;
    if (this.mux.length > 0 && this.mux[0]!.cycle < c && inFlight < 2) {
      const e = this.mux.shift()!;
      const a: Admitted = { read: e.read, passed: 0, lastPass: -1 };
      const g = Math.max(c + 2, this.gLast + 1);
      for (let k = 0; k < e.read.beats; k++) this.beats.push({ a, g: g + k, rd: -1 });
      this.gLast = g + e.read.beats - 1;
      this.admitted.push(a);
      admittedNow = true;
    }
    // the register bus: the next unread beat against the writes
    let next: { a: Admitted; g: number; rd: number } | null = null;
    for (const b of this.beats)
      if (b.rd < 0) {
        next = b;
        break;
      }
    const w = this.writer;
    const busReq = (w && w.ready(c) ? 1 : 0) | (next && next.g <= c ? 2 : 0);
    const busWin = this.busArb.winner(busReq);
    this.busArb.commit(busReq, busReq !== 0);
    if (busWin === 0) w!.grant(c);
    else if (busWin === 1) next!.rd = c;
    // 2. one beat per cycle passes the adapter, not in an admission cycle
    if (
      !admittedNow &&
      this.beats.length > 0 &&
      this.beats[0]!.rd >= 0 &&
      this.beats[0]!.rd + 2 + this.extra <= c
    ) {
      const b = this.beats.shift()!;
      b.a.read.onBeat(b.a.passed, c + 3);
      b.a.passed++;
      b.a.lastPass = c;
    }
    while (
      this.admitted.length > 0 &&
      this.admitted[0]!.passed >= this.admitted[0]!.read.beats &&
      this.admitted[0]!.lastPass < c
    )
      this.admitted.shift();
    // 3. the mux's round robin over the demux spill registers into its own spill register
    let req = 0;
    for (let m = 0; m < 2; m++) {
      const q = this.demux[m]!;
      const e = q[0];
      if (e && e.cycle < c && (!e.read.release || e.read.release(c))) req |= 1 << MASTERS[m]!;
    }
    const reqD = this.arb.requests(req);
    const win = this.arb.winner(reqD);
    const granted = win >= 0 && this.muxLen0 < 2;
    if (granted) {
      const e = this.demux[win === 0 ? 0 : 1]!.shift()!;
      this.mux.push({ cycle: c, read: e.read });
    }
    this.arb.commit(reqD, granted);
    this.cycle++;
    this.demuxLen0[0] = this.demux[0]!.length;
    this.demuxLen0[1] = this.demux[1]!.length;
    this.muxLen0 = this.mux.length;
  }
}
