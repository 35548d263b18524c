/**
 * `snitch_icache` (pulp-platform/cluster_icache v0.1.0) as the hive of the ITA cluster configures
 * it: one private L0 of 8 lines per core, a shared L1 of 2 ways x 128 lines of 256 bits with a
 * parallel lookup, a miss handler with 2 pending refills, and a refill unit that reads one 64-byte
 * AXI beat per line over the wide crossbar.
 *
 * Cycle by cycle (cycle t ends with edge t):
 *  - L0 (`snitch_icache_l0`): the core's `pc_q` is compared combinationally with the 8 tags; a hit
 *    gives `inst_ready` and the word in the same cycle. A miss (only while no request of this L0 is
 *    outstanding) evicts the round-robin victim at its first cycle and requests the line from the
 *    L1. On a hit with nothing outstanding the prefetcher latches the next line, or the target of
 *    the first JAL / backward branch at or after the current word, and requests it from the next
 *    cycle on. At most one request (demand or prefetch) per L0 is outstanding.
 *  - 9:1 round-robin arbiter (`stream_arbiter` -> `rr_arb_tree` with lock-in and fair
 *    arbitration) in front of the lookup; a grant means the lookup accepted the request.
 *  - Lookup (`snitch_icache_lookup_parallel`): after reset a 128-cycle sweep clears the tags; the
 *    SRAM port is taken by the sweep, then by a refill write, then by a lookup. The result (hit or
 *    miss) is seen by the handler in the cycle after the request was accepted.
 *  - Handler (`snitch_icache_handler`): a hit is forwarded to the L0 in that cycle (it wins over a
 *    refill response arriving in the same cycle); a miss merges into a pending refill of the same
 *    line or allocates one of the 2 entries and sends the refill request (the AR) in the same
 *    cycle; with both entries taken the lookup stage holds. A refill response writes the L1 (way
 *    chosen by one toggle bit for the whole cache) and fills every L0 that asked, in one cycle.
 *  - Refill over the wide AXI port (`WideAxi`, shared with the DMA): an AR handshaken in cycle A
 *    returns R in A+9 on an idle port; at most 4 reads are outstanding (the refill unit's queue).
 *  - `fence.i` invalidates the issuing core's L0 and restarts the L1's tag sweep.
 *
 * Fetches outside the cacheable region (DRAM) are served through the same cached path here; the
 * RTL's uncached bypass (one AXI round trip per instruction) is not modelled.
 */
import { Module, type CommitsWhenWritten, type Reg } from '../sim/kernel.ts';
import { RrArbTree } from '../sim/rr_arb_tree.ts';
import type { WideAxi } from './wide_axi.ts';

const L0_LINES = 8;
const L1_WAYS = 2;
const L1_LINES = 128;
const PENDING = 2;
const REFILL_QUEUE = 4;
const WORDS = 8; // 32-bit words per line

/** Backing memory of the refills: one 32-bit word per call. */
export type FetchMemory = (addr: number) => number;

/** The fetch side of one core, driven before the core evaluates. */
export interface FetchPort {
  /** `inst_ready`: the word at `pc_q` is available this cycle. */
  ready: boolean;
  word: number;
}

/** Sign-extended immediates of JAL and conditional branches (prefetcher pre-decode). */
function jalImm(w: number): number {
  return (
    ((w >> 31) << 20) |
    (((w >>> 12) & 0xff) << 12) |
    (((w >>> 20) & 1) << 11) |
    (((w >>> 21) & 0x3ff) << 1) |
    0
  );
}
function branchImm(w: number): number {
  return (
    ((w >> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 0xf) << 1) | 0
  );
}

/**
 * Prefetch target line of the prefetcher for each start word of a line: the first JAL or
 * backward conditional branch at or after the word decides it, else the next line.
 */
function prefetchTargets(
  line: number,
  words: Uint32Array,
  wOff: number,
  out: Float64Array,
  oOff: number,
): void {
  let target = line + 1;
  for (let k = WORDS - 1; k >= 0; k--) {
    const w = words[wOff + k]! | 0;
    const opcode = w & 0x7f;
    const pc = line * 32 + k * 4;
    if (opcode === 0x6f) target = Math.floor((pc + jalImm(w)) / 32);
    else if (opcode === 0x63) {
      const f3 = (w >>> 12) & 7;
      const imm = branchImm(w);
      if (f3 !== 2 && f3 !== 3 && imm < 0) target = Math.floor((pc + imm) / 32);
    }
    out[oOff + k] = target;
  }
}

/** One core's L0 (`snitch_icache_l0`). Tags are line addresses (`addr >> 5`). */
export class SnitchIcacheL0 extends Module {
  readonly tag = new Float64Array(L0_LINES);
  readonly vld = new Uint8Array(L0_LINES);
  readonly data = new Uint32Array(L0_LINES * WORDS);
  /** Pre-decoded prefetch target per entry and start word. */
  readonly pfTarget = new Float64Array(L0_LINES * WORDS);
  // ---- registers (q: the flop, d: its next value), committed by the L0 at the end of `seq` ----
  // (only the L0 reads them: its look-up, its next state and the still check of the fetch)
  /** `cnt_q`: round-robin replacement pointer. */
  private cntQ = 0;
  private cntD = 0;
  /** `pending_refill_q`: a request (demand or prefetch) is outstanding. */
  pendQ = 0;
  private pendD = 0;
  /** `pending_line_refill_q`: the entry the outstanding request fills. */
  private pendLineQ = 0;
  private pendLineD = 0;
  /** `prefetch_req_vld_q`, `prefetch_req_addr_q` (a line address). */
  private pfVldQ = 0;
  private pfVldD = 0;
  private pfLineQ = 0;
  private pfLineD = 0;
  /** `last_cycle_was_miss_q`, `last_cycle_was_prefetch_q`. */
  private lastMissQ = 0;
  private lastMissD = 0;
  private lastPfQ = 0;
  private lastPfD = 0;

  // ---- simulation caches (no hardware counterpart) ----
  /** Entry of the last hit, tried first. */
  private lastHit = 0;
  /** Two valid entries share an early tag (addr[11:5]); recomputed when a tag or valid bit changes. */
  private earlyDup = false;
  /** Bumped whenever a tag or valid bit changes; keys the cached prefetch-target look-up. */
  private version = 0;
  private pfCacheVersion = -1;
  private pfCacheLine = -1;
  private pfCachePresent = false;
  /**
   * The last cycle's look-up saw no fetch (`in_valid` low), asked nothing of the L1, had nothing
   * outstanding and left the state as it was (`active` false): while the core's pc stays `stillPc`
   * and it still does not fetch, every cycle computes the same, so the look-up is skipped.
   */
  still = false;
  stillPc = -1;

  // ---- combinational, per cycle ----
  hitEntry = -1;
  miss = false;
  latch = false;
  latchLine = 0;
  reqValid = false;
  reqLine = 0;
  reqPrefetch = false;
  private missLine = 0;
  private earlyMask = 0;
  /** Entries to invalidate at the edge (multi-hit clean-up). */
  private flushStrb = 0;
  // ---- decided by the parent before the edge ----
  granted = false;
  rspValid = false;
  flush = false;
  readonly rspData = new Uint32Array(WORDS);

  readonly nMiss: { value: number };
  readonly nPrefetch: { value: number };

  constructor(
    parent: Module,
    name: string,
    readonly id: number,
  ) {
    super(parent, name);
    // committed by the L0 itself (never by the kernel, which only resets them)
    const own: CommitsWhenWritten = {
      commit: () => {},
      commitVia: () => {},
      reset: () => {
        this.cntQ = this.cntD = this.pendQ = this.pendD = this.pendLineQ = this.pendLineD = 0;
        this.pfVldQ = this.pfVldD = this.pfLineQ = this.pfLineD = 0;
        this.lastMissQ = this.lastMissD = this.lastPfQ = this.lastPfD = 0;
      },
    };
    this.state.push(own);
    this.nMiss = this.counter('misses');
    this.nPrefetch = this.counter('prefetches');
  }

  /**
   * Tag compare, miss and prefetch decision for the core's address: its line (`pc >> 5`) and the
   * word in the line (`pc[4:2]`); `in_valid` = `valid`. (The address is passed in two small parts:
   * a 32-bit address as an argument would be boxed on every call.)
   */
  lookup(line: number, wordIdx: number, valid: boolean): void {
    let hit = -1;
    let earlyMask = 0;
    const lh = this.lastHit;
    if (!this.earlyDup && this.vld[lh] === 1 && this.tag[lh] === line) {
      hit = lh;
      earlyMask = 1 << lh;
    } else {
      const early = line & 0x7f;
      for (let i = 0; i < L0_LINES; i++) {
        if (!this.vld[i]) continue;
        const t = this.tag[i]!;
        if ((t & 0x7f) === early) {
          earlyMask |= 1 << i;
          if (t === line) hit = i;
        }
      }
      if (hit >= 0) this.lastHit = hit;
    }
    this.hitEntry = hit;
    const pending = this.pendQ === 1;
    this.miss = hit < 0 && valid && !pending;
    const oneHot = earlyMask !== 0 && (earlyMask & (earlyMask - 1)) === 0;
    this.flushStrb = hit >= 0 && !oneHot ? earlyMask & ~(1 << hit) : 0;
    this.latch = false;
    if (hit >= 0 && oneHot && !pending && this.pfVldQ === 0) {
      const target = this.pfTarget[hit * WORDS + wordIdx]!;
      if (target !== this.pfCacheLine || this.version !== this.pfCacheVersion) {
        let present = false;
        for (let i = 0; i < L0_LINES; i++) if (this.vld[i] && this.tag[i] === target) present = true;
        this.pfCacheLine = target;
        this.pfCacheVersion = this.version;
        this.pfCachePresent = present;
      }
      if (!this.pfCachePresent) {
        this.latch = true;
        this.latchLine = target;
      }
    }
    // the demand miss takes the port before a latched prefetch (they never meet in practice)
    this.reqValid = this.miss || this.pfVldQ === 1;
    this.reqLine = this.miss ? line : this.pfLineQ;
    this.reqPrefetch = !this.miss;
    this.missLine = line;
    this.earlyMask = earlyMask;
    this.granted = false;
    this.rspValid = false;
    this.flush = false;
  }

  /** The word `wordIdx` of the hit line (valid only on a hit). */
  word(wordIdx: number): number {
    return this.data[this.hitEntry * WORDS + wordIdx]!;
  }

  /** Whether the edge changes anything (a cycle of plain hits with nothing outstanding does not). */
  get active(): boolean {
    return (
      this.miss ||
      this.latch ||
      this.rspValid ||
      this.flush ||
      this.flushStrb !== 0 ||
      this.granted ||
      this.lastMissQ !== 0 ||
      this.lastPfQ !== 0
    );
  }

  // a leaf module: its update is its own next-state logic
  override update(): void {
    this.seq();
  }

  protected override seq(): void {
    const evictMiss = this.miss && this.lastMissQ === 0;
    const evictPf = this.latch && this.lastPfQ === 0;
    let changed = false;
    if (evictMiss || evictPf) {
      let c = this.cntQ;
      let victim = c;
      c = (c + 1) & 7;
      if (1 << victim === this.earlyMask) {
        victim = c;
        c = (c + 1) & 7;
      }
      this.cntD = c;
      this.tag[victim] = evictPf ? this.latchLine : this.missLine;
      this.vld[victim] = 0;
      this.pendLineD = victim;
      changed = true;
    }
    if (this.rspValid) {
      const e = this.pendLineQ;
      this.vld[e] = 1;
      this.data.set(this.rspData, e * WORDS);
      prefetchTargets(this.tag[e]!, this.data, e * WORDS, this.pfTarget, e * WORDS);
      changed = true;
    }
    if (this.flush) {
      this.vld.fill(0);
      changed = true;
    } else if (this.flushStrb) {
      for (let i = 0; i < L0_LINES; i++) if ((this.flushStrb >>> i) & 1) this.vld[i] = 0;
      changed = true;
    }
    if (changed) this.retag();
    // one request outstanding: set by a granted miss or a latched prefetch, cleared by the response
    if (this.pendQ === 1) {
      if (this.rspValid) this.pendD = 0;
    } else if ((this.miss && this.granted) || this.latch) {
      this.pendD = 1;
    }
    if (this.latch) {
      this.pfVldD = 1;
      this.pfLineD = this.latchLine;
      this.nPrefetch.value++;
    } else if (this.pfVldQ === 1 && this.granted && this.reqPrefetch) this.pfVldD = 0;
    if (evictMiss) this.nMiss.value++;
    this.lastMissD = this.miss ? 1 : 0;
    this.lastPfD = this.latch ? 1 : 0;
    // the edge of the L0's registers (nothing else reads them before it)
    this.cntQ = this.cntD;
    this.pendQ = this.pendD;
    this.pendLineQ = this.pendLineD;
    this.pfVldQ = this.pfVldD;
    this.pfLineQ = this.pfLineD;
    this.lastMissQ = this.lastMissD;
    this.lastPfQ = this.lastPfD;
  }

  /** After a tag or valid bit changed: the simulation caches. */
  private retag(): void {
    this.version++;
    let dup = false;
    for (let i = 0; i < L0_LINES && !dup; i++) {
      if (!this.vld[i]) continue;
      for (let j = i + 1; j < L0_LINES; j++)
        if (this.vld[j] && (this.tag[j]! & 0x7f) === (this.tag[i]! & 0x7f)) dup = true;
    }
    this.earlyDup = dup;
  }
}

/** One AXI read of a line in flight between the refill unit and the memory. */
interface Refill {
  line: number;
  pendId: number;
  /** Cycle the R beat is at the refill port (-1: not yet known). */
  rCycle: number;
  readonly data: Uint32Array;
}

export class SnitchIcache extends Module {
  readonly l0: SnitchIcacheL0[];
  /** L1 tags (line address, -1 invalid) and data, `[way * 128 + index]`. */
  private readonly l1Tag = new Float64Array(L1_WAYS * L1_LINES).fill(-1);
  private readonly l1Data = new Uint32Array(L1_WAYS * L1_LINES * WORDS);
  readonly initCount: Reg;
  readonly ramWriteQ: Reg;
  readonly validQ: Reg;
  readonly addrQ: Reg;
  readonly idQ: Reg;
  readonly evictWay: Reg;
  readonly arbSel: Reg;
  readonly arbLock: Reg;
  readonly writeServedQ: Reg;
  readonly inRspServedQ: Reg;
  private readonly pendValid = new Uint8Array(PENDING);
  private readonly pendLine = new Float64Array(PENDING);
  private readonly pendMask = new Uint32Array(PENDING);
  private readonly refills: Refill[] = [];
  private readonly free: Refill[] = [];
  private readonly arb: RrArbTree;
  private cycle = 0;

  // ---- combinational ----
  private hitValid = false;
  private hitWay = -1;
  private sel = -1;
  private rspValid = false;
  private rspReady = false;
  private writeValid = false;
  private lookupReady = false;
  private reqMask = 0;
  private grant = -1;
  private mergeIdx = -1;
  private allocIdx = -1;
  private stageReady = false;

  readonly nRefills: { value: number };

  constructor(
    parent: Module,
    name: string,
    readonly ports: number,
    private readonly memory: FetchMemory,
    /** The wide AXI read path the refills share with the DMA. */
    private readonly wide: WideAxi,
  ) {
    super(parent, name);
    this.l0 = [];
    for (let i = 0; i < ports; i++)
      this.l0.push(new SnitchIcacheL0(this, `gen_prefetcher[${i}].i_snitch_icache_l0`, i));
    this.initCount = this.reg('i_lookup.init_count_q', 8);
    this.ramWriteQ = this.reg('i_lookup.ram_write_q', 1);
    this.validQ = this.reg('i_lookup.valid_q', 1);
    this.addrQ = this.reg('i_lookup.addr_q', 43);
    this.idQ = this.reg('i_lookup.id_q', 5);
    this.evictWay = this.reg('i_handler.i_evict_lfsr.q', 1);
    this.arbSel = this.reg('i_handler.arb_q.sel', 1);
    this.arbLock = this.reg('i_handler.arb_q.lock', 1);
    this.writeServedQ = this.reg('i_handler.write_served_q', 1);
    this.inRspServedQ = this.reg('i_handler.in_rsp_served_q', 1);
    this.arb = new RrArbTree(ports);
    this.nRefills = this.counter('refills');
  }

  private l1Find(line: number): number {
    const idx = line & (L1_LINES - 1);
    for (let w = 0; w < L1_WAYS; w++) if (this.l1Tag[w * L1_LINES + idx] === line) return w;
    return -1;
  }

  /** Whether the line is being refilled (a fetch stall on it waits for DRAM). */
  refilling(line: number): boolean {
    for (let k = 0; k < PENDING; k++) if (this.pendValid[k] && this.pendLine[k] === line) return true;
    return false;
  }

  /**
   * Combinational pass: `pcs[i]` and `valid[i]` (`inst_valid`) of every core in; `out[i]` is the
   * core's `inst_ready` and word.
   */
  fetch(pcs: ArrayLike<number>, valid: ArrayLike<boolean>, out: FetchPort[]): void {
    const initDone = this.initCount.cur >= L1_LINES;
    // ---- refill response at the refill port ----
    const head = this.refills.length > 0 ? this.refills[0]! : null;
    this.rspValid = head !== null && head.rCycle >= 0 && head.rCycle <= this.cycle;
    // ---- lookup result in the handler ----
    const stageValid = this.validQ.cur === 1;
    const stageLine = this.addrQ.cur;
    this.hitWay = stageValid && this.ramWriteQ.cur === 0 ? this.l1Find(stageLine) : -1;
    this.hitValid = stageValid && this.hitWay >= 0;
    // ---- handler arbitration: hit before refill response ----
    if (this.arbLock.cur === 0) this.sel = this.hitValid ? 0 : this.rspValid ? 1 : -1;
    else this.sel = this.arbSel.cur;
    this.rspReady = false;
    this.writeValid = false;
    let hitReady = true;
    if (this.sel === 1 && this.rspValid) {
      hitReady = false;
      this.rspReady = initDone || this.writeServedQ.cur === 1;
      this.writeValid = this.writeServedQ.cur === 0;
    }
    // ---- handler request side ----
    this.mergeIdx = -1;
    this.allocIdx = -1;
    this.stageReady = true;
    if (stageValid) {
      if (this.hitValid) this.stageReady = hitReady;
      else {
        for (let k = 0; k < PENDING; k++)
          if (this.pendValid[k] && this.pendLine[k] === stageLine) this.mergeIdx = k;
        if (this.mergeIdx < 0) {
          for (let k = PENDING - 1; k >= 0; k--) if (!this.pendValid[k]) this.allocIdx = k;
          // AR: the refill queue has room and the crossbar's spill register takes it
          this.stageReady = this.allocIdx >= 0 && this.refills.length < REFILL_QUEUE && this.wide.ready(1);
          if (!this.stageReady) this.allocIdx = -1;
        }
      }
    }
    this.lookupReady = initDone && !(this.sel === 1 && this.rspValid && this.writeValid) && this.stageReady;
    // ---- L0s and the 9:1 arbiter ----
    let req = 0;
    for (let i = 0; i < this.l0.length; i++) {
      const l0 = this.l0[i]!;
      const pc = pcs[i]!; // unsigned 32-bit
      // a still L0 (see `SnitchIcacheL0.still`): outputs as computed last cycle, no request
      if (l0.still && !valid[i] && pc === l0.stillPc) continue;
      l0.still = false;
      const wordIdx = (pc >>> 2) & 7;
      l0.lookup(pc >>> 5, wordIdx, valid[i]!);
      if (!valid[i] && !l0.reqValid && l0.pendQ === 0) l0.stillPc = pc;
      else l0.stillPc = -1;
      if (l0.reqValid) req |= 1 << i;
      const o = out[i]!;
      o.ready = l0.hitEntry >= 0;
      o.word = o.ready ? l0.word(wordIdx) : 0;
    }
    this.reqMask = this.arb.requests(req);
    this.grant = this.lookupReady ? this.arb.winner(this.reqMask) : -1;
    if (this.grant >= 0) this.l0[this.grant]!.granted = true;
    // ---- responses to the L0s (filled at this edge) ----
    if (this.sel === 0 && this.hitValid) {
      const l0 = this.l0[this.idQ.cur >>> 1]!;
      l0.rspValid = true;
      const base = this.l1Index(this.hitWay, stageLine);
      for (let k = 0; k < WORDS; k++) l0.rspData[k] = this.l1Data[base + k]!;
    } else if (this.sel === 1 && this.rspValid && this.inRspServedQ.cur === 0) {
      let mask = this.pendMask[head!.pendId]!;
      if (this.mergeIdx === head!.pendId) mask |= 1 << this.idQ.cur;
      for (let i = 0; i < this.l0.length; i++) {
        if (((mask >>> (2 * i)) & 3) === 0) continue;
        const l0 = this.l0[i]!;
        l0.rspValid = true;
        l0.rspData.set(head!.data);
      }
    }
  }

  /** Marks the cores whose `fence.i` issues this cycle. */
  flush(core: number): void {
    this.l0[core]!.flush = true;
    this.flushReq = true;
  }
  private flushReq = false;

  private l1Index(way: number, line: number): number {
    return (way * L1_LINES + (line & (L1_LINES - 1))) * WORDS;
  }

  private readLine(r: Refill): void {
    const base = r.line * 32;
    for (let k = 0; k < WORDS; k++) r.data[k] = this.memory(base + 4 * k);
  }

  /** The L0s' next state (skipped for an L0 whose edge changes nothing), then this module's. */
  override update(): void {
    for (let i = 0; i < this.l0.length; i++) {
      const l0 = this.l0[i]!;
      if (l0.still) continue; // nothing changed since it became still
      if (l0.active) l0.update();
      else if (l0.stillPc >= 0) l0.still = true;
    }
    this.seq();
  }

  protected override seq(): void {
    const initDone = this.initCount.cur >= L1_LINES;
    let ramWrite = false;
    if (!initDone) {
      const idx = this.initCount.cur;
      for (let w = 0; w < L1_WAYS; w++) this.l1Tag[w * L1_LINES + idx] = -1;
      this.initCount.nxt = idx + 1;
      ramWrite = true;
    } else if (this.flushReq) this.initCount.nxt = 0;
    this.flushReq = false;
    // ---- handler response side ----
    const head = this.refills[0];
    if (this.sel === 1 && this.rspValid && head) {
      if (this.writeValid && initDone) {
        const way = this.evictWay.cur;
        const idx = head.line & (L1_LINES - 1);
        this.l1Tag[way * L1_LINES + idx] = head.line;
        this.l1Data.set(head.data, this.l1Index(way, head.line));
        ramWrite = true;
      }
      if (this.rspReady) {
        this.pendValid[head.pendId] = 0;
        this.pendMask[head.pendId] = 0;
        this.evictWay.nxt = this.evictWay.cur ^ 1;
        this.free.push(this.refills.shift()!);
        this.writeServedQ.nxt = 0;
        this.inRspServedQ.nxt = 0;
      } else {
        this.writeServedQ.nxt = this.writeServedQ.cur | (initDone ? 1 : 0);
        this.inRspServedQ.nxt = 1;
        if (this.inRspServedQ.cur === 0) this.pendMask[head.pendId] = 0;
      }
    }
    this.arbSel.nxt = this.sel === 1 ? 1 : 0;
    this.arbLock.nxt = this.sel === 1 && this.rspValid && !this.rspReady ? 1 : 0;
    this.ramWriteQ.nxt = ramWrite ? 1 : 0;
    // ---- handler request side: merge or allocate + AR ----
    if (this.validQ.cur === 1 && !this.hitValid) {
      if (this.mergeIdx >= 0) {
        if (!(this.rspReady && head && head.pendId === this.mergeIdx))
          this.pendMask[this.mergeIdx]! |= 1 << this.idQ.cur;
      } else if (this.allocIdx >= 0) {
        const k = this.allocIdx;
        this.pendValid[k] = 1;
        this.pendLine[k] = this.addrQ.cur;
        this.pendMask[k] = 1 << this.idQ.cur;
        const r = this.free.pop() ?? { line: 0, pendId: 0, rCycle: -1, data: new Uint32Array(WORDS) };
        r.line = this.addrQ.cur;
        r.pendId = k;
        r.rCycle = -1;
        this.refills.push(r);
        this.wide.request(1, {
          beats: 1,
          onBeat: (_k, rCycle) => {
            r.rCycle = rCycle;
            this.readLine(r);
          },
        });
        this.nRefills.value++;
      }
    }
    // ---- lookup stage ----
    const accepted = this.grant >= 0;
    if (accepted || this.stageReady) this.validQ.nxt = accepted ? 1 : 0;
    if (accepted) {
      const l0 = this.l0[this.grant]!;
      this.addrQ.nxt = l0.reqLine;
      this.idQ.nxt = 2 * this.grant + (l0.reqPrefetch ? 1 : 0);
    }
    this.arb.commit(this.reqMask, accepted);
    this.cycle++;
  }
}
