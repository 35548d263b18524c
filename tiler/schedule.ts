/**
 * Ops -> units -> program.
 *
 * A unit is one piece of work over L1 buffers: a block of ITA jobs (attention: Q, K per 64-row
 * block, V, QK + ITAMax + AV per 64-row group, OW per 64-row block, head by head; linear: one
 * 64-row block times one block of output columns) or core kernels over one 64-row block (rows split
 * across harts 0..7). Buffers are named by key: a 64-row block of an activation (`<tensor>:r<i>`,
 * possibly a column range `:c<j0>-<j1>`), a block of weights, a bias, an ITA intermediate. The
 * program has one step per unit (between cluster barriers) plus a first step that loads the first
 * unit's inputs and a last one that stores the last unit's outputs. In step k the DMA hart writes
 * back what unit k-2 produced, brings in what unit k needs and is not yet in L1, while ITA or the
 * cores run unit k-1: double buffering, every transfer overlapped with compute. A buffer stays in
 * L1 while units at most GAP apart use it (and it is small, at most L1/8), otherwise it is
 * reloaded from DRAM; produced blocks are written back to their tensor in DRAM (nothing there is
 * overwritten). L1 is allocated statically from those lifetimes (alloc.ts).
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
import type { MappedGraph, Mat, TilerOp } from './map.ts';
import type { Placed } from './place.ts';
import { iSoftmaxTable, int32Bytes, premultiplyNoNorm, squareTable, sumTable, toT64 } from './kernels.ts';
import {
  COMPUTE_HARTS,
  DMA_HART,
  ITA_REG,
  ITA_STREAM,
  ProgramBuilder,
  itaPtr,
  type BuiltProgram,
  type Kernel,
} from './program.ts';

const TILE = 4096;
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
}

/** A contiguous DRAM range a buffer is loaded from or stored to. */
interface DramRange {
  addr: number;
  bytes: number;
  /** Tensor row block it belongs to (for ordering stores before loads). */
  block?: string;
}

interface BufInfo {
  bytes: number;
  load?: DramRange;
}

type Ptr = { key: string; off: number };

interface ItaJob {
  input: Ptr;
  w0: Ptr;
  bias: Ptr | null;
  output: Ptr;
  /** CTRL_STREAM bits besides PRELOAD / NEXTLOAD / OUTPUT_DISABLE. */
  stream: number;
  lastInner: boolean;
  engine: number;
  /** Constant registers (TILES, requantisation, activation). */
  consts: Map<number, number>;
  // filled by sequence()
  preload?: boolean;
  next?: Ptr | null;
}

export interface Unit {
  label: string;
  op: number;
  unit: 'ita' | 'cores' | 'none';
  uses: string[];
  produces: string[];
  /** Keys written besides `produces` (later parts of a buffer another unit produced). */
  writes: string[];
  stores: { key: string; dst: DramRange }[];
  jobs: ItaJob[];
  kernels: ((at: (p: Ptr) => number) => Kernel)[];
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
}

const pack4 = (a: number[]): number =>
  ((a[0]! & 0xff) | ((a[1]! & 0xff) << 8) | ((a[2]! & 0xff) << 16) | ((a[3]! & 0xff) << 24)) >>> 0;

/** The bytes followed by zeros up to a multiple of 4 (DMA transfers and L1 buffers of whole words). */
function padTo4(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(b.length / 4) * 4);
  out.set(b);
  return out;
}

/** Biases as ITA reads them: 24-bit little-endian, 3 bytes each. */
function bias24(b: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(3 * b.length);
  for (let i = 0; i < b.length; i++) {
    const v = b[i]!;
    out[3 * i] = v & 0xff;
    out[3 * i + 1] = (v >> 8) & 0xff;
    out[3 * i + 2] = (v >> 16) & 0xff;
  }
  return out;
}

const ACT_CODE = { identity: 0, gelu: 1, relu: 2 } as const;

export function schedule(g: MappedGraph, opts: ScheduleOptions): Schedule {
  const dram = new DramPlan(opts.dramAlloc);
  const bufs = new Map<string, BufInfo>();
  const units: Unit[] = [];
  const matAddr = new Map<string, number>();
  if (opts.placed.length !== g.ops.length)
    throw new Error(`schedule: ${opts.placed.length} placements for ${g.ops.length} ops`);
  const budget = Math.floor(opts.l1Size / 4);

  const home = (m: Mat): number => {
    let a = matAddr.get(m.name);
    if (a === undefined) {
      a = dram.place(`t:${m.name}`, m.rows * m.cols);
      matAddr.set(m.name, a);
    }
    return a;
  };
  for (const m of g.inputs) home(m);
  /** Key of row block i (columns c0..c1 in tiles, default all) of a matrix, registered. */
  const block = (m: Mat, i: number, c0 = 0, c1 = m.cols / 64): string => {
    const full = c0 === 0 && c1 === m.cols / 64;
    const key = full ? `${m.name}:r${i}` : `${m.name}:r${i}:c${c0}-${c1}`;
    if (!bufs.has(key)) {
      const addr = home(m) + (i * (m.cols / 64) + c0) * TILE;
      bufs.set(key, {
        bytes: (c1 - c0) * TILE,
        load: { addr, bytes: (c1 - c0) * TILE, block: `${m.name}:r${i}` },
      });
    }
    return key;
  };
  const storeOf = (key: string): { key: string; dst: DramRange } => ({ key, dst: bufs.get(key)!.load! });
  /** A constant blob in DRAM loaded as one buffer. */
  const blob = (key: string, data: Uint8Array): string => {
    if (!bufs.has(key)) {
      const addr = dram.place(`c:${key}`, data.length, data);
      bufs.set(key, { bytes: data.length, load: { addr, bytes: data.length } });
    }
    return key;
  };
  /** An L1-only buffer (ITA intermediate, scratch). */
  const scratch = (key: string, bytes: number): string => {
    if (!bufs.has(key)) bufs.set(key, { bytes });
    return key;
  };
  const newUnit = (label: string, op: number, unit: Unit['unit']): Unit => {
    const u: Unit = {
      label,
      op,
      unit,
      uses: [],
      produces: [],
      writes: [],
      stores: [],
      jobs: [],
      kernels: [],
    };
    units.push(u);
    return u;
  };
  /** One kernel split by rows across the compute harts (rows 0..64 of a 64-row block). */
  const rowsSplit = (u: Unit, k: (at: (p: Ptr) => number, r0: number, r1: number) => Kernel): void => {
    for (let h = 0; h < COMPUTE_HARTS; h++) {
      const r0 = (h * 64) / COMPUTE_HARTS;
      const r1 = ((h + 1) * 64) / COMPUTE_HARTS;
      u.kernels.push((at) => ({ ...k(at, r0, r1), hart: h }) as unknown as Kernel);
    }
  };
  const P = (key: string, off = 0): Ptr => ({ key, off });
  const rqs = (mult: number, shift: number, add: number): { mult: number; shift: number; add: number } => ({
    mult,
    shift,
    add,
  });

  g.ops.forEach((op, oi) => {
    const name = op.nodes[0]!;
    switch (op.kind) {
      case 'linear': {
        const K = op.x.cols;
        const N = op.y.cols;
        const te = K / 64;
        const onIta = opts.placed[oi]!.where === 'ita';
        if (!onIta && 2 * 64 * K + TILE > opts.l1Size)
          throw new InputError(
            `node ${name}: a linear layer with K = ${K} fits neither ITA (at most 15 inner tiles, K <= 960) nor the cores (one 64-row block of A and 64 weight columns, ${2 * 64 * K} bytes, exceed the ${opts.l1Size} bytes of L1; this needs a gemm kernel with int32 partial sums over K chunks)`,
          );
        // output column blocks whose weights fit a quarter of L1
        let nb = Math.max(1, Math.min(N / 64, Math.floor(budget / (64 * K))));
        while ((N / 64) % nb !== 0) nb--;
        const nBlocks = N / 64 / nb;
        for (let j = 0; j < nBlocks; j++) {
          const cols = nb * 64;
          const wT = op.wT.subarray(j * cols * K, (j + 1) * cols * K);
          const bias = op.bias.subarray(j * cols, (j + 1) * cols);
          const wKey = blob(`${name}/w${j}`, toT64(wT, cols, K));
          const bKey = onIta
            ? blob(`${name}/b24_${j}`, bias24(bias))
            : blob(`${name}/b32_${j}`, int32Bytes(bias));
          for (let i = 0; i < op.x.rows / 64; i++) {
            const u = newUnit(`${name}/r${i}c${j}`, oi, onIta ? 'ita' : 'cores');
            const xKey = block(op.x, i);
            const yKey = block(op.y, i, j * nb, (j + 1) * nb);
            u.uses.push(xKey, wKey, bKey, yKey);
            u.produces.push(yKey);
            u.stores.push(storeOf(yKey));
            if (onIta) {
              const consts = new Map<number, number>([
                [ITA_REG.TILES, 1 | (te << 4) | (nb << 8) | (1 << 12)],
                [ITA_REG.EPS_MULT0, op.rq.mult],
                [ITA_REG.RIGHT_SHIFT0, op.rq.shift],
                [ITA_REG.ADD0, op.rq.add & 0xff],
                [ITA_REG.GELU_B_C, ((op.actConsts.b & 0xffff) | ((op.actConsts.c & 0xffff) << 16)) >>> 0],
                [
                  ITA_REG.ACTIVATION_REQUANT,
                  (op.actConsts.mult & 0xff) |
                    ((op.actConsts.shift & 0xff) << 8) |
                    ((op.actConsts.add & 0xff) << 16),
                ],
              ]);
              const jobs: ItaJob[] = [];
              for (let tx = 0; tx < nb; tx++)
                for (let ti = 0; ti < te; ti++)
                  jobs.push({
                    input: P(xKey, ti * TILE),
                    w0: P(wKey, (tx * te + ti) * TILE),
                    bias: P(bKey, tx * 192),
                    output: P(yKey, tx * TILE),
                    stream: 0,
                    lastInner: ti === te - 1,
                    engine: 2 | (ACT_CODE[op.act] << 2),
                    consts,
                  });
              sequence(jobs);
              u.jobs = jobs;
            } else {
              rowsSplit(u, (at, r0, r1) => ({
                op: 'gemm',
                a: at(P(xKey)),
                bt: at(P(wKey)),
                c: at(P(yKey)),
                bias: at(P(bKey)),
                m: 64,
                n: cols,
                k: K,
                r0,
                r1,
                aUnsigned: false,
                biasPerRow: false,
                ...op.rq,
                act: op.act,
                ...(op.act === 'identity'
                  ? {}
                  : {
                      geluB: op.actConsts.b,
                      geluC: op.actConsts.c,
                      actMult: op.actConsts.mult,
                      actShift: op.actConsts.shift,
                      actAdd: op.actConsts.add,
                    }),
              }));
            }
          }
        }
        break;
      }
      case 'attention':
        attentionUnits(op, oi, name);
        break;
      case 'sum':
      case 'add': {
        const ins = op.kind === 'sum' ? op.xs : [op.a, op.b];
        const C = op.y.cols / 64;
        // the requantisation of every reachable sum as a table: the cores look up, not multiply
        const table = sumTable(ins.length, op.mul, op.add, op.shift);
        const lutKey = blob(`${name}/lut`, padTo4(table));
        let cb = C;
        while (cb > 1 && (ins.length + 1) * cb * TILE + table.length > budget) cb--;
        while (C % cb !== 0) cb--;
        for (let i = 0; i < op.y.rows / 64; i++)
          for (let j = 0; j < C; j += cb) {
            const u = newUnit(`${name}/r${i}c${j / cb}`, oi, 'cores');
            const xk = ins.map((m) => block(m, i, j, j + cb));
            const yk = block(op.y, i, j, j + cb);
            u.uses.push(...xk, yk, lutKey);
            u.produces.push(yk);
            u.stores.push(storeOf(yk));
            const { mul, add, shift } = op;
            rowsSplit(u, (at, r0, r1) => {
              const k = {
                y: at(P(yk)),
                rows: 64,
                cols: cb * 64,
                r0,
                r1,
                mul,
                add,
                shift,
                lut: at(P(lutKey)),
              };
              return op.kind === 'add'
                ? { op: 'add', a: at(P(xk[0]!)), b: at(P(xk[1]!)), ...k }
                : { op: 'sum', xs: xk.map((x) => at(P(x))), ...k };
            });
          }
        break;
      }
      case 'isoftmax': {
        const lutKey = blob(`${name}/exp`, iSoftmaxTable(op));
        for (let i = 0; i < op.y.rows / 64; i++) {
          const u = newUnit(`${name}/r${i}`, oi, 'cores');
          const xk = block(op.x, i);
          const yk = block(op.y, i);
          u.uses.push(xk, yk, lutKey);
          u.produces.push(yk);
          u.stores.push(storeOf(yk));
          const { coeffA, coeffB, coeffC, log2 } = op;
          rowsSplit(u, (at, r0, r1) => ({
            op: 'isoftmax',
            x: at(P(xk)),
            y: at(P(yk)),
            rows: 64,
            cols: op.y.cols,
            r0,
            r1,
            coeffA,
            coeffB,
            coeffC,
            log2,
            lut: at(P(lutKey)),
          }));
        }
        break;
      }
      case 'layernorm':
      case 'nonorm': {
        // iNoNorm with w * mul and b * mul precomputed when that is exact: one multiply per element;
        // LayerNorm sums x^2 from a table of squares instead of a second pass of multiplies
        const pre = op.kind === 'nonorm' ? premultiplyNoNorm(op.w, op.b, op.mul) : undefined;
        const cols = op.y.cols;
        // iNoNorm weights per element: a block of 64 weight rows per unit, one kernel per row
        const perElement = op.w.length !== cols;
        const wAll = int32Bytes(pre?.w ?? op.w);
        const wKeyOf = (i: number): string =>
          perElement
            ? blob(`${name}/w${i}`, wAll.subarray(i * 64 * cols * 4, (i + 1) * 64 * cols * 4))
            : blob(`${name}/w`, wAll);
        const bKey = blob(`${name}/b`, int32Bytes(pre?.b ?? op.b));
        const sqKey = op.kind === 'layernorm' ? blob(`${name}/sq`, squareTable()) : undefined;
        for (let i = 0; i < op.y.rows / 64; i++) {
          const u = newUnit(`${name}/r${i}`, oi, 'cores');
          const xk = block(op.x, i);
          const yk = block(op.y, i);
          const wKey = wKeyOf(i);
          u.uses.push(xk, yk, wKey, bKey, ...(sqKey ? [sqKey] : []));
          u.produces.push(yk);
          u.stores.push(storeOf(yk));
          const kernel = (at: (p: Ptr) => number, r0: number, r1: number, wOff: number): Kernel => {
            const k = {
              x: at(P(xk)),
              y: at(P(yk)),
              w: at(P(wKey, wOff)),
              b: at(P(bKey)),
              rows: 64,
              cols,
              r0,
              r1,
            };
            return op.kind === 'layernorm'
              ? { op: 'layernorm', ...k, log2d: op.log2d, squares: at(P(sqKey!)) }
              : { op: 'nonorm', ...k, mul: op.mul, log2d: op.log2d, premultiplied: pre !== undefined };
          };
          if (!perElement) rowsSplit(u, (at, r0, r1) => kernel(at, r0, r1, 0));
          else
            for (let h = 0; h < COMPUTE_HARTS; h++)
              for (let r = (h * 64) / COMPUTE_HARTS; r < ((h + 1) * 64) / COMPUTE_HARTS; r++)
                u.kernels.push(
                  (at) => ({ ...kernel(at, r, r + 1, r * cols * 4), hart: h }) as unknown as Kernel,
                );
        }
        break;
      }
    }
  });

  /** PRELOAD on the first job of a sequence, NEXTLOAD (and the next weights) on every other. */
  function sequence(jobs: ItaJob[]): void {
    jobs.forEach((j, i) => {
      j.preload = i === 0;
      j.next = i + 1 < jobs.length ? jobs[i + 1]!.w0 : null;
    });
  }

  function attentionUnits(op: Extract<TilerOp, { kind: 'attention' }>, oi: number, name: string): void {
    const ita = opts.placed[oi]!.where === 'ita';
    const { S, E, P: Pd } = op;
    const ts = S / 64;
    const te = E / 64;
    const tp = Pd / 64;
    const opUnits: Unit[] = [];
    op.heads.forEach((hd, h) => {
      const hn = `${name}/h${h}`;
      const wq = blob(`${hn}/wq`, toT64(hd.wqT, Pd, E));
      const wk = blob(`${hn}/wk`, toT64(hd.wkT, Pd, E));
      const wv = blob(`${hn}/wv`, toT64(hd.wvT, Pd, E));
      const wo = blob(`${hn}/wo`, toT64(hd.woT, E, Pd));
      const b = (nm: string, v: Int32Array): string =>
        ita ? blob(`${hn}/${nm}24`, bias24(v)) : blob(`${hn}/${nm}32`, int32Bytes(v));
      const [bq, bk, bv, bo] = [b('bq', hd.bq), b('bk', hd.bk), b('bv', hd.bv), b('bo', hd.bo)];
      const Q = scratch(`${hn}/Q`, S * Pd);
      const Kb = scratch(`${hn}/K`, S * Pd);
      const Vt = scratch(`${hn}/Vt`, Pd * S);
      const AV = scratch(`${hn}/AV`, S * Pd);
      const qk = [scratch(`${hn}/qk0`, 64 * S), scratch(`${hn}/qk1`, 64 * S)];
      // QK and AV read a zero bias rather than disabling it (see the header)
      const zb = ita ? blob('zero-bias', new Uint8Array(192)) : '';
      const qrow = (i: number): string => block(op.q, i);
      const krow = (i: number): string => block(op.k, i);
      const rq = hd.rq;
      const consts = new Map<number, number>([
        [ITA_REG.TILES, ts | (te << 4) | (tp << 8) | (1 << 12)],
        [ITA_REG.EPS_MULT0, pack4([rq.q.mult, rq.k.mult, rq.v.mult, rq.qk.mult])],
        [ITA_REG.EPS_MULT1, pack4([rq.av.mult, rq.ow.mult, 0, 0])],
        [ITA_REG.RIGHT_SHIFT0, pack4([rq.q.shift, rq.k.shift, rq.v.shift, rq.qk.shift])],
        [ITA_REG.RIGHT_SHIFT1, pack4([rq.av.shift, rq.ow.shift, 0, 0])],
        [ITA_REG.ADD0, pack4([rq.q.add, rq.k.add, rq.v.add, rq.qk.add])],
        [ITA_REG.ADD1, pack4([rq.av.add, rq.ow.add, 0, 0])],
      ]);
      const job = (
        input: Ptr,
        w0: Ptr,
        bias: Ptr | null,
        output: Ptr,
        stream: number,
        lastInner: boolean,
      ): ItaJob => ({
        input,
        w0,
        bias,
        output,
        stream,
        lastInner,
        engine: 0,
        consts,
      });
      const mk = (label: string): Unit => newUnit(`${hn}/${label}`, oi, ita ? 'ita' : 'cores');
      const headUnits: Unit[] = [];
      const gemm = (
        u: Unit,
        a: Ptr,
        bt: Ptr,
        c: Ptr,
        bias: Ptr | null,
        n: number,
        k: number,
        r: { mult: number; shift: number; add: number },
        extra: Partial<Kernel> = {},
      ): void =>
        rowsSplit(
          u,
          (at, r0, r1) =>
            ({
              op: 'gemm',
              a: at(a),
              bt: at(bt),
              c: at(c),
              bias: bias ? at(bias) : 0,
              m: 64,
              n,
              k,
              r0,
              r1,
              aUnsigned: false,
              biasPerRow: false,
              ...rqs(r.mult, r.shift, r.add),
              act: 'identity',
              ...extra,
            }) as Kernel,
        );
      // Q and K per 64-row block
      for (const [tag, rows, w, bb, out, r] of [
        ['Q', qrow, wq, bq, Q, rq.q],
        ['K', krow, wk, bk, Kb, rq.k],
      ] as const) {
        for (let ty = 0; ty < ts; ty++) {
          const u = mk(`${tag}${ty}`);
          headUnits.push(u);
          u.uses.push(rows(ty), w, bb, out);
          if (ty === 0) u.produces.push(out);
          else u.writes.push(out);
          if (ita) {
            for (let tx = 0; tx < tp; tx++)
              for (let ti = 0; ti < te; ti++)
                u.jobs.push(
                  job(
                    P(rows(ty), ti * TILE),
                    P(w, (tx * te + ti) * TILE),
                    P(bb, tx * 192),
                    P(out, (ty * tp + tx) * TILE),
                    0,
                    ti === te - 1,
                  ),
                );
          } else gemm(u, P(rows(ty)), P(w), P(out, ty * 64 * Pd), P(bb), Pd, E, r);
        }
      }
      // V^T = Wv^T K^T: ITA takes Wv^T as the input and k as the weights, bias per row. With one
      // row block of V^T (P = 64) the jobs run in the order of k's row blocks, one unit each, so
      // only one block of k is in L1 at a time; otherwise one unit holds every block of k.
      const vParts = tp === 1 ? ts : 1;
      for (let part = 0; part < vParts; part++) {
        const u = mk(vParts === 1 ? 'V' : `V${part}`);
        headUnits.push(u);
        const cols = vParts === 1 ? Array.from({ length: ts }, (_, i) => i) : [part];
        u.uses.push(wv, bv, Vt, ...cols.map((i) => krow(i)));
        if (part === 0) u.produces.push(Vt);
        else u.writes.push(Vt);
        if (ita) {
          for (let ty = 0; ty < tp; ty++)
            for (const tx of cols)
              for (let ti = 0; ti < te; ti++)
                u.jobs.push(
                  job(
                    P(wv, (ty * te + ti) * TILE),
                    P(krow(tx), ti * TILE),
                    P(bv, ty * 192),
                    P(Vt, (ty * ts + tx) * TILE),
                    ITA_STREAM.BIAS_DIR,
                    ti === te - 1,
                  ),
                );
        } else {
          for (let ty = 0; ty < tp; ty++)
            for (const tx of cols)
              gemm(
                u,
                P(wv, ty * 64 * E),
                P(krow(tx)),
                P(Vt, (ty * ts + tx) * TILE),
                P(bv, ty * 64 * 4),
                64,
                E,
                rq.v,
                {
                  biasPerRow: true,
                },
              );
        }
      }
      // per 64-row group: QK (+ ITAMax) and AV
      for (let g = 0; g < ts; g++) {
        const u = mk(`QKAV${g}`);
        headUnits.push(u);
        const s = qk[g % 2]!;
        u.uses.push(Q, Kb, Vt, AV, s);
        if (ita) u.uses.push(zb);
        u.produces.push(s);
        if (g === 0) u.produces.push(AV);
        else u.writes.push(AV);
        if (ita) {
          for (let tx = 0; tx < ts; tx++)
            for (let ti = 0; ti < tp; ti++)
              u.jobs.push(
                job(
                  P(Q, (g * tp + ti) * TILE),
                  P(Kb, (tx * tp + ti) * TILE),
                  P(zb),
                  P(s, tx * TILE),
                  0,
                  ti === tp - 1,
                ),
              );
          for (let tx = 0; tx < tp; tx++)
            for (let ti = 0; ti < ts; ti++)
              u.jobs.push(
                job(
                  P(s, ti * TILE),
                  P(Vt, (tx * ts + ti) * TILE),
                  P(zb),
                  P(AV, (g * tp + tx) * TILE),
                  0,
                  ti === ts - 1,
                ),
              );
        } else {
          const s2 = scratch(`${hn}/qk2`, 64 * S);
          u.uses.push(s2);
          u.produces.push(s2);
          gemm(u, P(Q, g * 64 * Pd), P(Kb), P(s), null, S, Pd, rq.qk);
          rowsSplit(u, (at, r0, r1) => ({
            op: 'itamax',
            x: at(P(s)),
            y: at(P(s2)),
            rows: 64,
            cols: S,
            r0,
            r1,
          }));
          gemm(u, P(s2), P(Vt), P(AV, g * 64 * Pd), null, Pd, S, rq.av, { aUnsigned: true });
        }
      }
      // OW per 64-row block, written back (the per-head output of the MHSA node)
      for (let ty = 0; ty < ts; ty++) {
        const u = mk(`OW${ty}`);
        headUnits.push(u);
        const out = block(op.outs[h]!, ty);
        u.uses.push(AV, wo, bo, out);
        u.produces.push(out);
        u.stores.push(storeOf(out));
        if (ita) {
          for (let tx = 0; tx < te; tx++)
            for (let ti = 0; ti < tp; ti++)
              u.jobs.push(
                job(
                  P(AV, (ty * tp + ti) * TILE),
                  P(wo, (tx * tp + ti) * TILE),
                  P(bo, tx * 192),
                  P(out, tx * TILE),
                  0,
                  ti === tp - 1,
                ),
              );
        } else gemm(u, P(AV, ty * 64 * Pd), P(wo), P(out), P(bo), E, Pd, rq.ow);
      }
      opUnits.push(...headUnits);
    });
    if (ita) {
      // one ITA sequence over all heads (the last OW job of a head prefetches the next head's
      // first weights); a unit whose last job prefetches the next unit's weights keeps them in L1
      sequence(opUnits.flatMap((u) => u.jobs));
      for (const u of opUnits) {
        const last = u.jobs[u.jobs.length - 1];
        if (last?.next && !u.uses.includes(last.next.key)) u.uses.push(last.next.key);
      }
    }
  }

  return build();

  /**
   * Merges consecutive units of one op while their buffers together stay within a third of L1
   * (so the next unit's buffers fit beside them): fewer steps, fewer barriers and ITA drains.
   * Units on the cores merge only when the later one reads nothing the earlier one writes (the
   * harts split rows, so such a read would cross harts without a barrier).
   */
  function coarsen(limit: number): void {
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
  function build(): Schedule {
    const orig = [...units];
    for (const div of [1.6, 2, 3, 0]) {
      units.splice(0, units.length, ...orig);
      if (div > 0) coarsen(Math.floor(opts.l1Size / div));
      try {
        return buildOnce();
      } catch (e) {
        if (!(e instanceof InputError) || div === 0) throw e;
      }
    }
    throw new Error('unreachable');
  }

  function buildOnce(): Schedule {
    // instances: runs of uses at most GAP units apart; bubbles where a load would precede the
    // store of the same DRAM block
    const sync = (at: number): Unit => ({
      label: 'sync',
      op: units[at]!.op,
      unit: 'none',
      uses: [],
      produces: [],
      writes: [],
      stores: [],
      jobs: [],
      kernels: [],
    });
    for (let round = 0; ; round++) {
      if (round > 4 * units.length + 8) throw new Error('schedule: could not order stores before loads');
      const r = plan();
      if (r.bubbles.length > 0) {
        // descending positions: each insertion leaves the earlier ones in place
        for (const at of r.bubbles) units.splice(at, 0, sync(at));
        continue;
      }
      const lts = lifetimes(r.inst);
      try {
        return emit(r.inst, allocate(lts, opts.l1Size, 'L1'));
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        // no room to prefetch: let the busiest step's loads wait for a step without compute
        const at = busiestLoadStep(r.inst, lts);
        if (at < 0)
          throw new InputError(
            `${(e as Error).message}, even with no transfer overlapping compute (one unit's buffers exceed the ${opts.l1Size} bytes of L1 the tiler has)`,
          );
        units.splice(at, 0, sync(at));
      }
    }
  }

  interface Inst {
    key: string;
    first: number; // first step it occupies L1
    last: number;
    loadStep: number; // -1 = produced in L1
    units: [number, number];
  }

  function plan(): { inst: Inst[]; bubbles: number[] } {
    const usesOf = new Map<string, number[]>();
    const producedAt = new Map<string, Set<number>>();
    const storedAt = new Map<string, number[]>();
    // store step of each DRAM block, ascending
    const storeSteps = new Map<string, number[]>();
    const push = <T>(m: Map<string, T[]>, k: string, v: T): void => {
      const a = m.get(k);
      if (a) a.push(v);
      else m.set(k, [v]);
    };
    units.forEach((u, ui) => {
      for (const k of new Set([...u.uses, ...u.produces])) push(usesOf, k, ui);
      for (const k of u.produces) {
        const set = producedAt.get(k);
        if (set) set.add(ui);
        else producedAt.set(k, new Set([ui]));
      }
      for (const st of u.stores) {
        push(storedAt, st.key, ui);
        if (st.dst.block) push(storeSteps, st.dst.block, ui + 2);
      }
    });
    const inst: Inst[] = [];
    const bubbles = new Set<number>();
    for (const [key, us] of usesOf) {
      const info = bufs.get(key)!;
      const stores = storedAt.get(key) ?? [];
      let start = 0;
      for (let i = 1; i <= us.length; i++) {
        // an L1-only buffer (no DRAM copy) stays for all its uses; others are reloaded after a gap
        if (i < us.length && (!info.load || (us[i]! - us[i - 1]! <= GAP && info.bytes <= opts.l1Size / 8)))
          continue;
        const f = us[start]!;
        const l = us[i - 1]!;
        const produced = producedAt.get(key)?.has(f) ?? false;
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
            const ss = storeSteps.get(blk) ?? [];
            let need = -1;
            for (let j = ss.length - 1; j >= 0; j--)
              if (ss[j]! - 2 < f) {
                need = ss[j]!;
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

  function lifetimes(inst: Inst[]): Lifetime[] {
    return inst.map((x, i) => ({
      key: `${x.key}#${i}`,
      bytes: bufs.get(x.key)!.bytes,
      first: x.first,
      last: x.last,
    }));
  }

  /** The step with the most live bytes that loads something (a unit index to put a bubble before). */
  function busiestLoadStep(inst: Inst[], lts: Lifetime[]): number {
    const steps = units.length + 2;
    const live = new Array<number>(steps).fill(0);
    for (const l of lts)
      for (let s = l.first; s <= l.last && s < steps; s++) live[s]! += Math.ceil(l.bytes / 64) * 64;
    let best = -1;
    for (const x of inst) {
      const st = x.loadStep;
      if (st <= 0 || st >= units.length || units[st - 1]!.unit === 'none') continue;
      if (best < 0 || live[st]! > live[best]!) best = st;
    }
    return best;
  }

  function emit(inst: Inst[], placements: Placement[]): Schedule {
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
}

export { DMA_HART };
