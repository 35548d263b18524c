/**
 * Ops -> units -> program.
 *
 * The units (pieces of work over named L1 buffers: ITA job blocks, core kernels over 64-row
 * blocks) come from the split pass (units.ts). The program has one step per unit (between cluster
 * barriers) plus a first step that loads the first unit's inputs and a last one that stores the
 * last unit's outputs. In step k the DMA hart writes back what unit k-2 produced, brings in what
 * unit k needs and is not yet in L1, while ITA or the cores run unit k-1: double buffering, every
 * transfer overlapped with compute. A buffer stays in L1 while units at most GAP apart use it (and
 * it is small, at most L1/8), otherwise it is reloaded from DRAM; produced blocks are written back
 * to their tensor in DRAM (nothing there is overwritten). L1 is allocated statically from those
 * lifetimes (alloc.ts).
 *
 * Consecutive units of one op are merged while their buffers fit 1/1.6 of L1 (then 1/2, 1/3, none
 * when the allocation fails): fewer barriers and ITA drains. Where a load would read DRAM before
 * the store of the same block, or where L1 cannot hold a unit beside the next one's prefetch, an
 * empty `sync` step is inserted (that transfer then does not overlap compute).
 *
 * ITA is driven by the DMA hart (hart 8), as the paper's trace suggests: it issues the step's DMA
 * transfers first (they run on their own), then programs the ITA jobs one after the other (each
 * `itaJob` returns once the job is triggered, programming overlaps the running job), waits for ITA
 * and the DMA, and meets the barrier. The eight compute harts stay free for core kernels. The ITA
 * job registers are written only where they differ from what the job context held four jobs
 * earlier (the HWPE keeps four contexts used in turn), and the next job's weights are prefetched
 * through WEIGHT_PTR1 within one ITA sequence (all heads of an attention, or one linear block:
 * PRELOAD on its first job, NEXTLOAD on every other); a unit whose last job prefetches the next
 * unit's weights keeps them in L1.
 *
 * QK and AV jobs read a 192-byte zero bias instead of setting BIAS_DISABLE. Observed on the
 * model: a job with bias, programmed after the HWPE went idle (the first job of a unit, after
 * the previous unit's ITA wait), whose job context last held a job with BIAS_DISABLE, gets its
 * first output row without the bias (the stale stream control of the reused context reaches the
 * bias fence when the previous job ends, before the new value is written). With the bias always
 * enabled the stale bit is harmless; a zero bias adds nothing, so QK and AV are unchanged.
 *
 * Cluster-only mode: the same units with everything on the cores (gemm for the linears and Q, K,
 * V^T, QK, AV, OW; itamax; the same elementwise kernels).
 *
 * Notes for the runtime (program.ts / machine.ts / tiler.c), observed on the model:
 * - Needed for K > 960 (DINOv2 / Whisper FFN 1536 -> 384): ITA's TILES register counts at most 15
 *   inner tiles, and the cores' gemm needs a whole 64-row block of A and of Bt in L1 (2 x 64 x K
 *   bytes, 192 KiB for K = 1536). A gemm that accumulates int32 partial sums over K chunks in L1
 *   (and requantises after the last chunk) would let the scheduler split K; until then such a
 *   linear is refused with a message naming the node.
 * - DMA transfers issued by hart 8 right after triggering an ITA job (instead of before it) left
 *   ITA busy forever (128 x 128, 2 heads, step 1); the scheduler issues them before the jobs. This
 *   is the job-context hazard of program.ts: one DMA command of 64 bytes after each trigger of a
 *   128 x 128 x 64 linear hangs ITA when the job contexts still hold other values (from reset or
 *   an earlier op), and transfers of 16 KiB there are harmless once the contexts hold this
 *   linear's values (its jobs run a second time).
 * - ITA idles ~180 cycles between two 64 x 64 x 64 jobs (~290 cycles each) and ~800 cycles before
 *   the first job of a step: job programming reads the command words from DRAM.
 * - add / sum / nonorm / layernorm run on the 8 cores, which share one multiplier: add and sum
 *   read their requantisation from a table (about 1.5 cycles per element for the cluster, against
 *   3.3 multiplying), nonorm multiplies once per element with premultiplied weights (about 2.5,
 *   against 3.9 with two multiplies), layernorm divides by a row's standard deviation through an
 *   exact reciprocal multiply (about 7, against 14 on the serial divider) and sums x^2 from a table
 *   of squares in its first pass (no second pass of multiplies). They still dominate an
 *   encoder's cycles in ITA mode.
 */
import { InputError } from '../rtl-model/errors.ts';
import { DramPlan, allocate, type Lifetime, type Placement } from './alloc.ts';
import type { MappedGraph } from './map.ts';
import type { Placed } from './place.ts';
import {
  DMA_HART,
  ITA_REG,
  ITA_STREAM,
  ProgramBuilder,
  itaPtr,
  type BuiltProgram,
  type Kernel,
} from './program.ts';
import { P, splitUnits, type BufInfo, type Ptr, type Unit } from './units.ts';

export type { Unit };

/** Units further apart than this reload a buffer instead of keeping it. */
export const GAP = 2;
/** The hart that drives ITA. */
export const ITA_HART = DMA_HART;

export interface ScheduleOptions {
  /** Where each op runs (place.ts), in op order. */
  placed: readonly Placed[];
  l1Base: number;
  l1Size: number;
  /** Reserves DRAM (Machine.dramAlloc). */
  dramAlloc: (bytes: number) => number;
  /**
   * The arrangement an earlier schedule of the same graph and placement found (`Schedule.arrangement`):
   * its merging limit and sync steps are applied as they are instead of searched for again. Only
   * DRAM addresses may differ between the two schedules; the arrangement does not depend on them.
   */
  arrangement?: Arrangement;
}

/** How the units were merged and where sync steps went, in the order they were inserted. */
export interface Arrangement {
  /** The merging limit's divisor of L1 (0: units not merged). */
  div: number;
  /** Unit positions of the sync steps, each as it was when the step was inserted. */
  syncs: number[];
}

export interface Schedule {
  program: BuiltProgram;
  units: Unit[];
  /** Program step -> op index. */
  stepOp: number[];
  placements: Placement[];
  dram: DramPlan;
  /** DRAM address of every activation matrix (by tensor name). */
  matAddr: Map<string, number>;
  itaJobs: number;
  arrangement: Arrangement;
}

/**
 * Ops -> program: the split pass (units.ts), then merging, buffer lifetimes and the L1 allocation
 * (with sync steps where a load would overtake a store or L1 is too tight), then emission.
 */
export function schedule(g: MappedGraph, opts: ScheduleOptions): Schedule {
  const { dram, bufs, units, matAddr } = splitUnits(g, opts);
  return build({ units, bufs, opts, dram, matAddr });
}

/** What the passes after the split share; `units` is the list being merged and given sync steps. */
interface Ctx {
  units: Unit[];
  bufs: Map<string, BufInfo>;
  opts: ScheduleOptions;
  dram: DramPlan;
  matAddr: Map<string, number>;
}

/**
 * Merges consecutive units of one op while their buffers together stay within a third of L1
 * (so the next unit's buffers fit beside them): fewer steps, fewer barriers and ITA drains.
 * Units on the cores merge only when the later one reads nothing the earlier one writes (the
 * harts split rows, so such a read would cross harts without a barrier).
 */
function coarsen(c: Ctx, limit: number): void {
  const { units, bufs } = c;
  const bytes = (keys: Iterable<string>): number => {
    let n = 0;
    for (const k of new Set(keys)) n += Math.ceil(bufs.get(k)!.bytes / 64) * 64;
    return n;
  };
  const out: Unit[] = [];
  for (const u of units) {
    const a = out[out.length - 1];
    const ok =
      a !== undefined &&
      a.op === u.op &&
      a.unit === u.unit &&
      u.unit !== 'none' &&
      bytes([...a.uses, ...u.uses]) <= limit &&
      (u.unit === 'ita' ||
        !u.uses.some(
          (k) =>
            !u.produces.includes(k) &&
            !u.writes.includes(k) &&
            (a.produces.includes(k) || a.writes.includes(k)),
        ));
    if (!ok) {
      out.push({
        ...u,
        uses: [...u.uses],
        produces: [...u.produces],
        writes: [...u.writes],
        stores: [...u.stores],
        jobs: [...u.jobs],
        kernels: [...u.kernels],
      });
      continue;
    }
    const head = a.label.split('..')[0]!;
    const p1 = head.split('/');
    const p2 = u.label.split('/');
    let same = 0;
    while (same < p1.length - 1 && p1[same] === p2[same]) same++;
    a.label = `${head}..${p2.slice(same).join('/')}`;
    for (const k of u.uses) if (!a.uses.includes(k)) a.uses.push(k);
    for (const k of u.produces) if (!a.produces.includes(k) && !a.writes.includes(k)) a.produces.push(k);
    for (const k of u.writes) if (!a.writes.includes(k)) a.writes.push(k);
    a.stores.push(...u.stores);
    a.jobs.push(...u.jobs);
    a.kernels.push(...u.kernels);
  }
  units.splice(0, units.length, ...out);
}

/** Coarsest merging first; a finer one when the L1 allocation fails. */
function build(c: Ctx): Schedule {
  const { units, opts } = c;
  const given = opts.arrangement;
  if (given) {
    if (given.div > 0) coarsen(c, Math.floor(opts.l1Size / given.div));
    for (const at of given.syncs) units.splice(at, 0, syncUnit(units, at));
    const r = plan(c);
    if (r.bubbles.length > 0) throw new Error('schedule: the arrangement given does not fit this graph');
    const sch = emit(c, r.inst, allocate(lifetimes(c, r.inst), opts.l1Size, 'L1'));
    return { ...sch, arrangement: { div: given.div, syncs: [...given.syncs] } };
  }
  const orig = [...units];
  for (const div of [1.6, 2, 3, 0]) {
    units.splice(0, units.length, ...orig);
    if (div > 0) coarsen(c, Math.floor(opts.l1Size / div));
    try {
      const syncs: number[] = [];
      const sch = buildOnce(c, syncs);
      return { ...sch, arrangement: { div, syncs } };
    } catch (e) {
      if (!(e instanceof InputError) || div === 0) throw e;
    }
  }
  throw new Error('unreachable');
}

/** An empty step before unit `at` (it takes the op of the unit it precedes). */
function syncUnit(units: readonly Unit[], at: number): Unit {
  return {
    label: 'sync',
    op: units[at]!.op,
    unit: 'none',
    uses: [],
    produces: [],
    writes: [],
    stores: [],
    jobs: [],
    kernels: [],
  };
}

/** Inserts sync steps until a plan without bubbles fits L1; records each insertion in `syncs`. */
function buildOnce(c: Ctx, syncs: number[]): Omit<Schedule, 'arrangement'> {
  const { units, opts } = c;
  // instances: runs of uses at most GAP units apart; bubbles where a load would precede the
  // store of the same DRAM block
  const insert = (at: number): void => {
    units.splice(at, 0, syncUnit(units, at));
    syncs.push(at);
  };
  for (let round = 0; ; round++) {
    if (round > 4 * units.length + 8) throw new Error('schedule: could not order stores before loads');
    const r = plan(c);
    if (r.bubbles.length > 0) {
      // descending positions: each insertion leaves the earlier ones in place
      for (const at of r.bubbles) insert(at);
      continue;
    }
    const live = liveBytes(c, r.inst);
    // more bytes live in one step than L1 holds: no allocation can fit (first fit not tried)
    let failure: InputError | null = null;
    let peak = 0;
    for (const b of live) if (b > peak) peak = b;
    if (peak <= opts.l1Size)
      try {
        return emit(c, r.inst, allocate(lifetimes(c, r.inst), opts.l1Size, 'L1'));
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        failure = e;
      }
    // no room to prefetch: let the busiest step's loads wait for a step without compute
    const at = busiestLoadStep(c, r.inst, live);
    if (at < 0) {
      if (!failure)
        try {
          allocate(lifetimes(c, r.inst), opts.l1Size, 'L1');
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          failure = e;
        }
      throw new InputError(
        `${failure?.message ?? 'L1: the buffers do not fit'}, even with no transfer overlapping compute (one unit's buffers exceed the ${opts.l1Size} bytes of L1 the tiler has)`,
      );
    }
    insert(at);
  }
}

interface Inst {
  key: string;
  first: number; // first step it occupies L1
  last: number;
  loadStep: number; // -1 = produced in L1
  units: [number, number];
}

/**
 * A unit as `plan` reads it, with buffers and DRAM blocks as small integers (kept per unit: `plan`
 * runs once per sync step): the buffers it uses or produces (each once), and per store the
 * stored buffer and its block (-1: none).
 */
interface UnitIds {
  keys: Int32Array;
  storeKeys: Int32Array;
  storeBlocks: Int32Array;
}
const unitIds = new WeakMap<Unit, UnitIds>();

/** Numbers of buffer keys and DRAM block names, in the order first seen, for one schedule. */
class Names {
  readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  id(name: string): number {
    let i = this.ids.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.ids.set(name, i);
      this.names.push(name);
    }
    return i;
  }
}
const namesOf = new WeakMap<Map<string, BufInfo>, { keys: Names; blocks: Names }>();

function idsOf(u: Unit, keys: Names, blocks: Names): UnitIds {
  let x = unitIds.get(u);
  if (x === undefined) {
    x = {
      keys: Int32Array.from(new Set([...u.uses, ...u.produces]), (k) => keys.id(k)),
      storeKeys: Int32Array.from(u.stores, (st) => keys.id(st.key)),
      storeBlocks: Int32Array.from(u.stores, (st) => (st.dst.block ? blocks.id(st.dst.block) : -1)),
    };
    unitIds.set(u, x);
  }
  return x;
}

/** Lists of unit indices per id, each ascending (compressed rows: `at[start[i] .. start[i + 1])`). */
class Rows {
  readonly start: Int32Array;
  readonly at: Int32Array;
  private readonly fill: Int32Array;
  constructor(count: Int32Array, total: number) {
    this.start = new Int32Array(count.length + 1);
    for (let i = 0; i < count.length; i++) this.start[i + 1] = this.start[i]! + count[i]!;
    this.at = new Int32Array(total);
    this.fill = this.start.slice(0, count.length);
  }
  add(id: number, v: number): void {
    this.at[this.fill[id]!++] = v;
  }
}

function plan(c: Ctx): { inst: Inst[]; bubbles: number[] } {
  const { units, bufs, opts } = c;
  let names = namesOf.get(bufs);
  if (names === undefined) namesOf.set(bufs, (names = { keys: new Names(), blocks: new Names() }));
  const ids = units.map((u) => idsOf(u, names.keys, names.blocks));
  const nKeys = names.keys.names.length;
  const nBlocks = names.blocks.names.length;
  // per buffer: the units using it (buffers in the order first used) and the units storing it;
  // per DRAM block: the steps that store it (unit + 2), ascending
  const nUses = new Int32Array(nKeys);
  const nStores = new Int32Array(nKeys);
  const nBlockStores = new Int32Array(nBlocks);
  const order: number[] = [];
  let totalUses = 0;
  let totalStores = 0;
  let totalBlockStores = 0;
  for (const x of ids) {
    for (const k of x.keys) {
      if (nUses[k] === 0) order.push(k);
      nUses[k]!++;
      totalUses++;
    }
    for (let j = 0; j < x.storeKeys.length; j++) {
      nStores[x.storeKeys[j]!]!++;
      totalStores++;
      const b = x.storeBlocks[j]!;
      if (b >= 0) {
        nBlockStores[b]!++;
        totalBlockStores++;
      }
    }
  }
  const usesOf = new Rows(nUses, totalUses);
  const storedAt = new Rows(nStores, totalStores);
  const storeSteps = new Rows(nBlockStores, totalBlockStores);
  ids.forEach((x, ui) => {
    for (const k of x.keys) usesOf.add(k, ui);
    for (let j = 0; j < x.storeKeys.length; j++) {
      storedAt.add(x.storeKeys[j]!, ui);
      const b = x.storeBlocks[j]!;
      if (b >= 0) storeSteps.add(b, ui + 2);
    }
  });
  const inst: Inst[] = [];
  const bubbles = new Set<number>();
  for (const k of order) {
    const key = names.keys.names[k]!;
    const info = bufs.get(key)!;
    const us = usesOf.at.subarray(usesOf.start[k]!, usesOf.start[k + 1]!);
    const stores = storedAt.at.subarray(storedAt.start[k]!, storedAt.start[k + 1]!);
    let start = 0;
    for (let i = 1; i <= us.length; i++) {
      // an L1-only buffer (no DRAM copy) stays for all its uses; others are reloaded after a gap
      if (i < us.length && (!info.load || (us[i]! - us[i - 1]! <= GAP && info.bytes <= opts.l1Size / 8)))
        continue;
      const f = us[start]!;
      const l = us[i - 1]!;
      const produced = units[f]!.produces.includes(key);
      let first: number;
      let loadStep = -1;
      if (produced) first = f + 1;
      else {
        if (!info.load)
          throw new Error(`schedule: ${key} is used in unit ${units[f]!.label} before it is produced`);
        loadStep = f;
        first = f;
        // the data must have been written back to DRAM by then (the last store before unit f)
        const blk = info.load.block;
        if (blk) {
          const b = names.blocks.ids.get(blk);
          let need = -1;
          if (b !== undefined)
            for (let j = storeSteps.start[b + 1]! - 1; j >= storeSteps.start[b]!; j--)
              if (storeSteps.at[j]! - 2 < f) {
                need = storeSteps.at[j]!;
                break;
              }
          if (need > loadStep) bubbles.add(f);
        }
      }
      let last = l + 1;
      for (const x of stores) if (x >= f && x <= l) last = Math.max(last, x + 2);
      inst.push({ key, first, last, loadStep, units: [f, l] });
      start = i;
    }
  }
  return { inst, bubbles: [...bubbles].sort((a, b) => b - a) };
}

function lifetimes(c: Ctx, inst: Inst[]): Lifetime[] {
  const { bufs } = c;
  return inst.map((x, i) => ({
    key: `${x.key}#${i}`,
    bytes: bufs.get(x.key)!.bytes,
    first: x.first,
    last: x.last,
  }));
}

/**
 * The bytes in L1 in each step (0 .. units + 1: the program's steps) of the instances' lifetimes,
 * each buffer's size rounded up to the allocation's 64 bytes.
 */
function liveBytes(c: Ctx, inst: Inst[]): Float64Array {
  const { units, bufs } = c;
  const steps = units.length + 2;
  // what each step adds and removes, then the running sum
  const live = new Float64Array(steps + 1);
  for (const x of inst) {
    const b = Math.ceil(bufs.get(x.key)!.bytes / 64) * 64;
    live[x.first]! += b;
    live[Math.min(x.last, steps - 1) + 1]! -= b;
  }
  for (let s = 1; s < steps; s++) live[s]! += live[s - 1]!;
  return live.subarray(0, steps);
}

/** The step with the most live bytes that loads something (a unit index to put a bubble before). */
function busiestLoadStep(c: Ctx, inst: Inst[], live: Float64Array): number {
  const { units } = c;
  let best = -1;
  for (const x of inst) {
    const st = x.loadStep;
    if (st <= 0 || st >= units.length || units[st - 1]!.unit === 'none') continue;
    if (best < 0 || live[st]! > live[best]!) best = st;
  }
  return best;
}

function emit(c: Ctx, inst: Inst[], placements: Placement[]): Omit<Schedule, 'arrangement'> {
  const { units, bufs, opts, dram, matAddr } = c;
  // address of key in unit ui
  const byKey = new Map<string, number[]>();
  inst.forEach((x, i) => {
    const a = byKey.get(x.key);
    if (a) a.push(i);
    else byKey.set(x.key, [i]);
  });
  const addrIn = (key: string, ui: number): number => {
    const i = (byKey.get(key) ?? []).find((j) => inst[j]!.units[0] <= ui && ui <= inst[j]!.units[1]);
    if (i === undefined) throw new Error(`schedule: ${key} is not in L1 in unit ${ui}`);
    return opts.l1Base + placements[i]!.offset;
  };
  const addrCache = new Map<string, number>();
  const at =
    (ui: number) =>
    (p: Ptr): number => {
      const c = `${p.key}@${ui}`;
      let a = addrCache.get(c);
      if (a === undefined) {
        a = addrIn(p.key, ui);
        addrCache.set(c, a);
      }
      return a + p.off;
    };
  const loadsAt = new Map<number, Inst[]>();
  for (const x of inst) {
    if (x.loadStep < 0) continue;
    const a = loadsAt.get(x.loadStep);
    if (a) a.push(x);
    else loadsAt.set(x.loadStep, [x]);
  }
  const pb = new ProgramBuilder();
  const stepOp: number[] = [];
  const ctx: Map<number, number>[] = Array.from({ length: 4 }, () => new Map());
  let jobsIssued = 0;
  const n = units.length;
  for (let step = 0; step <= n + 1; step++) {
    // DMA: write back unit step-2's outputs, then bring unit step's inputs (before the step's
    // ITA jobs: issued after the first job instead, the model's ITA never finished that job)
    const issueDma = (): void => {
      const storedBlocks = new Set<string>();
      if (step >= 2)
        for (const s of units[step - 2]!.stores) {
          pb.dma1d(s.dst.addr, at(step - 2)(P(s.key)), s.dst.bytes);
          if (s.dst.block) storedBlocks.add(s.dst.block);
        }
      const loads = loadsAt.get(step) ?? [];
      if (loads.some((x) => storedBlocks.has(bufs.get(x.key)!.load!.block ?? ''))) pb.dmaWait();
      for (const x of loads) {
        const src = bufs.get(x.key)!.load!;
        pb.dma1d(at(step)(P(x.key)), src.addr, src.bytes);
      }
    };
    issueDma();
    // compute: unit step-1
    if (step >= 1 && step <= n) {
      const ui = step - 1;
      const u = units[ui]!;
      const A = at(ui);
      for (const j of u.jobs) {
        const regs = new Map<number, number>();
        let stream = j.stream | (j.preload ? ITA_STREAM.PRELOAD : 0) | (j.next ? ITA_STREAM.NEXTLOAD : 0);
        if (!j.lastInner) stream |= ITA_STREAM.OUTPUT_DISABLE;
        const want = new Map<number, number>(j.consts);
        want.set(ITA_REG.INPUT_PTR, itaPtr(A(j.input)));
        want.set(ITA_REG.WEIGHT_PTR0, itaPtr(A(j.w0)));
        if (j.next) want.set(ITA_REG.WEIGHT_PTR1, itaPtr(A(j.next)));
        if (j.bias) want.set(ITA_REG.BIAS_PTR, itaPtr(A(j.bias)));
        want.set(ITA_REG.OUTPUT_PTR, itaPtr(A(j.output)));
        const c = ctx[jobsIssued % 4]!;
        want.set(ITA_REG.CTRL_STREAM, stream);
        want.set(ITA_REG.CTRL_ENGINE, j.engine);
        for (const [k, v] of want) {
          if ((c.get(k) ?? 0) !== v) regs.set(k, v);
          c.set(k, v);
        }
        // the same job as the context's last one (two linears of one input whose weights and
        // outputs took the same L1 places): one register written, the job triggered again
        if (regs.size === 0) regs.set(ITA_REG.CTRL_ENGINE, j.engine);
        pb.itaJob(ITA_HART, regs);
        jobsIssued++;
      }
      if (u.jobs.length > 0) pb.itaWait(ITA_HART);
      for (const kf of u.kernels) {
        const k = kf(A) as Kernel & { hart: number };
        const { hart, ...rest } = k;
        pb.kernel(hart, rest as Kernel);
      }
    }
    pb.dmaWait();
    const label = step === 0 ? 'load' : step === n + 1 ? 'store' : units[step - 1]!.label;
    stepOp.push(
      step === 0 ? (units[0]?.op ?? 0) : step === n + 1 ? (units[n - 1]?.op ?? 0) : units[step - 1]!.op,
    );
    pb.barrier(label);
  }
  return { program: pb.build(), units, stepOp, placements, dram, matAddr, itaJobs: jobsIssued };
}
