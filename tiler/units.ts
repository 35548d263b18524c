/**
 * The split pass: tiler ops (placed by place.ts) -> units of work over L1 buffers.
 *
 * A unit is one piece of work over L1 buffers: a block of ITA jobs (attention: Q, K per 64-row
 * block, V, QK + ITAMax + AV per 64-row group, OW per 64-row block, head by head; linear: one
 * 64-row block times one block of output columns) or core kernels over one 64-row block (rows split
 * across harts 0..7). Buffers are named by key: a 64-row block of an activation (`<tensor>:r<i>`,
 * possibly a column range `:c<j0>-<j1>`), a block of weights, a bias, an ITA intermediate; each
 * knows its size and, unless it lives in L1 only, the DRAM range it is loaded from. Every
 * activation matrix gets its home in DRAM here (`matAddr`), constants are placed there as blobs.
 *
 * One function per op kind builds its units; `Split` holds what they share. The jobs of one ITA
 * sequence get PRELOAD on the first and NEXTLOAD with the next job's weights on every other
 * (`sequence`). QK and AV jobs read a 192-byte zero bias rather than setting BIAS_DISABLE (see
 * schedule.ts).
 */
import { InputError } from '../rtl-model/errors.ts';
import { DramPlan } from './alloc.ts';
import {
  iSoftmaxTable,
  int32Bytes,
  packConv,
  premultiplyNoNorm,
  squareTable,
  sumTable,
  toT64,
} from './kernels.ts';
import { validOf, type MappedGraph, type Mat, type TilerOp } from './map.ts';
import type { Placed } from './place.ts';
import { COMPUTE_HARTS, ITA_REG, ITA_STREAM, type Kernel } from './program.ts';

export const TILE = 4096;

/** A contiguous DRAM range a buffer is loaded from or stored to. */
export interface DramRange {
  addr: number;
  bytes: number;
  /** Tensor row block it belongs to (for ordering stores before loads). */
  block?: string;
}

export interface BufInfo {
  bytes: number;
  load?: DramRange;
}

export type Ptr = { key: string; off: number };

export interface ItaJob {
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

/** A pointer into a buffer. */
export const P = (key: string, off = 0): Ptr => ({ key, off });
const rqs = (mult: number, shift: number, add: number): { mult: number; shift: number; add: number } => ({
  mult,
  shift,
  add,
});

/** PRELOAD on the first job of a sequence, NEXTLOAD (and the next weights) on every other. */
function sequence(jobs: ItaJob[]): void {
  jobs.forEach((j, i) => {
    j.preload = i === 0;
    j.next = i + 1 < jobs.length ? jobs[i + 1]!.w0 : null;
  });
}

export interface SplitOptions {
  /** Where each op runs (place.ts), in op order. */
  placed: readonly Placed[];
  l1Size: number;
  /** Reserves DRAM (Machine.dramAlloc). */
  dramAlloc: (bytes: number) => number;
}

/** What the unit builders share: the buffers, the units so far, DRAM homes and constants. */
export class Split {
  readonly dram: DramPlan;
  readonly bufs = new Map<string, BufInfo>();
  readonly units: Unit[] = [];
  /** DRAM address of every activation matrix (by tensor name). */
  readonly matAddr = new Map<string, number>();
  /** Bytes of L1 a block of weights (or of an add's operands) may take: a quarter. */
  readonly budget: number;

  constructor(readonly opts: SplitOptions) {
    this.dram = new DramPlan(opts.dramAlloc);
    this.budget = Math.floor(opts.l1Size / 4);
  }

  /** DRAM address of a matrix, placed on first use. */
  home(m: Mat): number {
    let a = this.matAddr.get(m.name);
    if (a === undefined) {
      a = this.dram.place(`t:${m.name}`, m.rows * m.cols * (m.int32 ? 4 : 1));
      this.matAddr.set(m.name, a);
    }
    return a;
  }
  /** Key of row block i (columns c0..c1 in tiles, default all) of a matrix, registered. */
  block(m: Mat, i: number, c0 = 0, c1 = m.cols / 64): string {
    const full = c0 === 0 && c1 === m.cols / 64;
    const key = full ? `${m.name}:r${i}` : `${m.name}:r${i}:c${c0}-${c1}`;
    if (!this.bufs.has(key)) {
      // an int32 matrix is row-major in blocks of 64 rows: whole blocks only
      const esz = m.int32 ? 4 : 1;
      if (m.int32 && !full) throw new Error(`block: columns of the int32 matrix ${m.name}`);
      const addr = this.home(m) + (i * (m.cols / 64) + c0) * TILE * esz;
      this.bufs.set(key, {
        bytes: (c1 - c0) * TILE * esz,
        load: { addr, bytes: (c1 - c0) * TILE * esz, block: `${m.name}:r${i}` },
      });
    }
    return key;
  }
  storeOf(key: string): { key: string; dst: DramRange } {
    return { key, dst: this.bufs.get(key)!.load! };
  }
  /** A constant blob in DRAM loaded as one buffer. */
  blob(key: string, data: Uint8Array): string {
    if (!this.bufs.has(key)) {
      const addr = this.dram.place(`c:${key}`, data.length, data);
      this.bufs.set(key, { bytes: data.length, load: { addr, bytes: data.length } });
    }
    return key;
  }
  /** An L1-only buffer (ITA intermediate, scratch). */
  scratch(key: string, bytes: number): string {
    if (!this.bufs.has(key)) this.bufs.set(key, { bytes });
    return key;
  }
  newUnit(label: string, op: number, unit: Unit['unit']): Unit {
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
    this.units.push(u);
    return u;
  }
  /** One kernel split by rows across the compute harts (rows 0..rows of a 64-row block). */
  rowsSplit(u: Unit, k: (at: (p: Ptr) => number, r0: number, r1: number) => Kernel, rows = 64): void {
    for (let h = 0; h < COMPUTE_HARTS; h++) {
      const r0 = Math.floor((h * rows) / COMPUTE_HARTS);
      const r1 = Math.floor(((h + 1) * rows) / COMPUTE_HARTS);
      u.kernels.push((at) => ({ ...k(at, r0, r1), hart: h }) as unknown as Kernel);
    }
  }
}

/** A linear layer: one unit per 64-row block and block of output columns whose weights fit a quarter of L1. */
function linearUnits(b: Split, op: Extract<TilerOp, { kind: 'linear' }>, oi: number, name: string): void {
  const K = op.x.cols;
  const N = op.y.cols;
  const te = K / 64;
  const onIta = b.opts.placed[oi]!.where === 'ita';
  if (!onIta && 2 * 64 * K + TILE > b.opts.l1Size)
    throw new InputError(
      `node ${name}: a linear layer with K = ${K} fits neither ITA (at most 15 inner tiles, K <= 960) nor the cores (one 64-row block of A and 64 weight columns, ${2 * 64 * K} bytes, exceed the ${b.opts.l1Size} bytes of L1; this needs a gemm kernel with int32 partial sums over K chunks)`,
    );
  // output column blocks whose weights fit a quarter of L1
  let nb = Math.max(1, Math.min(N / 64, Math.floor(b.budget / (64 * K))));
  while ((N / 64) % nb !== 0) nb--;
  const nBlocks = N / 64 / nb;
  for (let j = 0; j < nBlocks; j++) {
    const cols = nb * 64;
    const wT = op.wT.subarray(j * cols * K, (j + 1) * cols * K);
    const bias = op.bias.subarray(j * cols, (j + 1) * cols);
    const wKey = b.blob(`${name}/w${j}`, toT64(wT, cols, K));
    const bKey = onIta
      ? b.blob(`${name}/b24_${j}`, bias24(bias))
      : b.blob(`${name}/b32_${j}`, int32Bytes(bias));
    for (let i = 0; i < op.x.rows / 64; i++) {
      const u = b.newUnit(`${name}/r${i}c${j}`, oi, onIta ? 'ita' : 'cores');
      const xKey = b.block(op.x, i);
      const yKey = b.block(op.y, i, j * nb, (j + 1) * nb);
      u.uses.push(xKey, wKey, bKey, yKey);
      u.produces.push(yKey);
      u.stores.push(b.storeOf(yKey));
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
        b.rowsSplit(u, (at, r0, r1) => ({
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
}

/** A head sum or residual add: the requantisation as a table, one unit per row block and column range. */
function sumUnits(b: Split, op: Extract<TilerOp, { kind: 'sum' | 'add' }>, oi: number, name: string): void {
  const ins = op.kind === 'sum' ? op.xs : [op.a, op.b];
  const C = op.y.cols / 64;
  // the requantisation of every reachable sum as a table: the cores look up, not multiply
  const flags =
    op.kind === 'add' ? { aUnsigned: op.aUnsigned ?? false, bUnsigned: op.bUnsigned ?? false } : {};
  const nUns = (flags.aUnsigned ? 1 : 0) + (flags.bUnsigned ? 1 : 0);
  const table = sumTable(ins.length, op.mul, op.add, op.shift, nUns);
  const lutKey = b.blob(`${name}/lut`, padTo4(table));
  let cb = C;
  while (cb > 1 && (ins.length + 1) * cb * TILE + table.length > b.budget) cb--;
  while (C % cb !== 0) cb--;
  for (let i = 0; i < op.y.rows / 64; i++)
    for (let j = 0; j < C; j += cb) {
      const u = b.newUnit(`${name}/r${i}c${j / cb}`, oi, 'cores');
      const xk = ins.map((m) => b.block(m, i, j, j + cb));
      const yk = b.block(op.y, i, j, j + cb);
      u.uses.push(...xk, yk, lutKey);
      u.produces.push(yk);
      u.stores.push(b.storeOf(yk));
      const { mul, add, shift } = op;
      b.rowsSplit(u, (at, r0, r1) => {
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
          ? { op: 'add', a: at(P(xk[0]!)), b: at(P(xk[1]!)), ...k, ...flags }
          : { op: 'sum', xs: xk.map((x) => at(P(x))), ...k };
      });
    }
}

/** iSoftmax: one unit per 64-row block, the exponent table loaded once. */
function isoftmaxUnits(b: Split, op: Extract<TilerOp, { kind: 'isoftmax' }>, oi: number, name: string): void {
  const lutKey = b.blob(`${name}/exp`, iSoftmaxTable(op));
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'cores');
    const xk = b.block(op.x, i);
    const yk = b.block(op.y, i);
    u.uses.push(xk, yk, lutKey);
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
    const { coeffA, coeffB, coeffC, log2 } = op;
    b.rowsSplit(u, (at, r0, r1) => ({
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
      validCols: validOf(op.y).cols,
    }));
  }
}

/** iLayerNorm / iNoNorm: one unit per 64-row block. */
function normUnits(
  b: Split,
  op: Extract<TilerOp, { kind: 'layernorm' | 'nonorm' }>,
  oi: number,
  name: string,
): void {
  // iNoNorm with w * mul and b * mul precomputed when that is exact: one multiply per element;
  // LayerNorm sums x^2 from a table of squares instead of a second pass of multiplies
  const pre = op.kind === 'nonorm' ? premultiplyNoNorm(op.w, op.b, op.mul) : undefined;
  const cols = op.y.cols;
  // iNoNorm weights per element: a block of 64 weight rows per unit, one kernel per row
  const perElement = op.w.length !== cols;
  const wAll = int32Bytes(pre?.w ?? op.w);
  const wKeyOf = (i: number): string =>
    perElement
      ? b.blob(`${name}/w${i}`, wAll.subarray(i * 64 * cols * 4, (i + 1) * 64 * cols * 4))
      : b.blob(`${name}/w`, wAll);
  const bKey = b.blob(`${name}/b`, int32Bytes(pre?.b ?? op.b));
  const uns = op.kind === 'layernorm' && (op.unsigned ?? false);
  const sqKey =
    op.kind === 'layernorm' ? b.blob(uns ? `${name}/usq` : `${name}/sq`, squareTable(uns)) : undefined;
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'cores');
    const xk = b.block(op.x, i);
    const yk = b.block(op.y, i);
    const wKey = wKeyOf(i);
    u.uses.push(xk, yk, wKey, bKey, ...(sqKey ? [sqKey] : []));
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
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
        ? { op: 'layernorm', ...k, log2d: op.log2d, squares: at(P(sqKey!)), unsigned: uns }
        : { op: 'nonorm', ...k, mul: op.mul, log2d: op.log2d, premultiplied: pre !== undefined };
    };
    if (!perElement) b.rowsSplit(u, (at, r0, r1) => kernel(at, r0, r1, 0));
    else
      for (let h = 0; h < COMPUTE_HARTS; h++)
        for (let r = (h * 64) / COMPUTE_HARTS; r < ((h + 1) * 64) / COMPUTE_HARTS; r++)
          u.kernels.push((at) => ({ ...kernel(at, r, r + 1, r * cols * 4), hart: h }) as unknown as Kernel);
  }
}

/** Attention: ITA's steps head by head (Q, K, V^T, QK + softmax + AV per row group, OW). */
function attentionUnits(
  b: Split,
  op: Extract<TilerOp, { kind: 'attention' }>,
  oi: number,
  name: string,
): void {
  const ita = b.opts.placed[oi]!.where === 'ita';
  const { S, E, P: Pd } = op;
  const ts = S / 64;
  const te = E / 64;
  const tp = Pd / 64;
  const opUnits: Unit[] = [];
  op.heads.forEach((hd, h) => {
    const hn = `${name}/h${h}`;
    const wq = b.blob(`${hn}/wq`, toT64(hd.wqT, Pd, E));
    const wk = b.blob(`${hn}/wk`, toT64(hd.wkT, Pd, E));
    const wv = b.blob(`${hn}/wv`, toT64(hd.wvT, Pd, E));
    const wo = b.blob(`${hn}/wo`, toT64(hd.woT, E, Pd));
    const biasBlob = (nm: string, v: Int32Array): string =>
      ita ? b.blob(`${hn}/${nm}24`, bias24(v)) : b.blob(`${hn}/${nm}32`, int32Bytes(v));
    const [bq, bk, bv, bo] = [
      biasBlob('bq', hd.bq),
      biasBlob('bk', hd.bk),
      biasBlob('bv', hd.bv),
      biasBlob('bo', hd.bo),
    ];
    const Q = b.scratch(`${hn}/Q`, S * Pd);
    const Kb = b.scratch(`${hn}/K`, S * Pd);
    const Vt = b.scratch(`${hn}/Vt`, Pd * S);
    const AV = b.scratch(`${hn}/AV`, S * Pd);
    const qk = [b.scratch(`${hn}/qk0`, 64 * S), b.scratch(`${hn}/qk1`, 64 * S)];
    // QK and AV read a zero bias rather than disabling it (see the header)
    const zb = ita ? b.blob('zero-bias', new Uint8Array(192)) : '';
    const qrow = (i: number): string => b.block(op.q, i);
    const krow = (i: number): string => b.block(op.k, i);
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
    const mk = (label: string): Unit => b.newUnit(`${hn}/${label}`, oi, ita ? 'ita' : 'cores');
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
      b.rowsSplit(
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
        const s2 = b.scratch(`${hn}/qk2`, 64 * S);
        u.uses.push(s2);
        u.produces.push(s2);
        gemm(u, P(Q, g * 64 * Pd), P(Kb), P(s), null, S, Pd, rq.qk);
        b.rowsSplit(u, (at, r0, r1) => ({
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
      const out = b.block(op.outs[h]!, ty);
      u.uses.push(AV, wo, bo, out);
      u.produces.push(out);
      u.stores.push(b.storeOf(out));
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

/** Columns [c0, c0 + n) of a rows x cols row-major matrix. */
function columnsOf(m: Int32Array, rows: number, cols: number, c0: number, n: number): Int32Array {
  const out = new Int32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols + c0, r * cols + c0 + n), r * n);
  return out;
}

/**
 * Deeploy's int32 linear on the cores: per 64-row block, every output column, K in chunks whose A
 * block and weights fit a quarter of L1 each when the whole of K does not. Each chunk but the last
 * writes its int32 sums to an L1 accumulator, which the next chunk takes as its bias.
 */
function dgemmUnits(b: Split, op: Extract<TilerOp, { kind: 'dgemm' }>, oi: number, name: string): void {
  const K = op.x.cols;
  const N = op.y.cols;
  let kc = K;
  while (kc > 64 && ((64 + N) * kc > b.budget || K % kc !== 0)) kc -= 64;
  const chunks = K / kc;
  if (op.bMat && chunks > 1)
    throw new InputError(
      `node ${name}: a product of two activations with K = ${K} does not fit a quarter of L1 in one block`,
    );
  if (op.bMat && op.bMat.rows > 64 && (op.perRow || op.bias || op.alpha !== 1))
    throw new InputError(
      `node ${name}: a product of two activations with a requantiser per row (or a bias, or alpha) takes B^T of one 64-row block, got ${op.bMat.rows} rows`,
    );
  const wKeys = op.bMat
    ? [b.block(op.bMat, 0)]
    : chunks === 1
      ? [b.blob(`${name}/w`, toT64(op.wT, N, K))]
      : Array.from({ length: chunks }, (_, q) =>
          b.blob(`${name}/w${q}`, toT64(columnsOf(op.wT, N, K, q * kc, kc), N, kc)),
        );
  if (op.bMat && !op.perRow && !op.bias && op.alpha === 1) return actProductUnits(b, op, oi, name);
  const mul = int32Bytes(op.mul);
  const add = int32Bytes(op.add);
  // per column: one vector for every block; per row: 64 values per block
  const perCol = op.perRow ? null : [b.blob(`${name}/mul`, mul), b.blob(`${name}/add`, add)];
  const { rows: validRows, cols: validCols } = validOf(op.y);
  for (let i = 0; i < op.y.rows / 64; i++) {
    const yk = b.block(op.y, i);
    const [mk, ak] = perCol ?? [
      b.blob(`${name}/mul${i}`, mul.subarray(256 * i, 256 * (i + 1))),
      b.blob(`${name}/add${i}`, add.subarray(256 * i, 256 * (i + 1))),
    ];
    const bk = op.bias
      ? b.blob(`${name}/bias${i}`, int32Bytes(op.bias.subarray(64 * N * i, 64 * N * (i + 1))))
      : null;
    const acc = chunks > 1 ? b.scratch(`${name}/acc${i}`, 4 * 64 * N) : null;
    // only the rows and columns of the tensor itself: the padding is never read
    const rows = Math.min(64, validRows - 64 * i);
    for (let q = 0; q < chunks; q++) {
      const last = q === chunks - 1;
      const u = b.newUnit(chunks === 1 ? `${name}/r${i}` : `${name}/r${i}k${q}`, oi, 'cores');
      const xk = chunks === 1 ? b.block(op.x, i) : b.block(op.x, i, (q * kc) / 64, ((q + 1) * kc) / 64);
      const biasIn = q === 0 ? bk : acc;
      const out = last ? yk : acc!;
      u.uses.push(xk, wKeys[q]!, mk!, ak!, ...(biasIn ? [biasIn] : []), out);
      if (last) {
        u.produces.push(yk);
        u.stores.push(b.storeOf(yk));
      } else if (q === 0) u.produces.push(acc!);
      else u.writes.push(acc!);
      for (let h = 0; h < COMPUTE_HARTS; h++) {
        const r0 = Math.floor((h * rows) / COMPUTE_HARTS);
        const r1 = Math.floor(((h + 1) * rows) / COMPUTE_HARTS);
        u.kernels.push(
          (at) =>
            ({
              op: 'dgemm',
              a: at(P(xk)),
              bt: at(P(wKeys[q]!)),
              y: at(P(out)),
              bias: biasIn ? at(P(biasIn)) : 0,
              mul: at(P(mk!)),
              add: at(P(ak!)),
              rows: 64,
              cols: N,
              validCols,
              k: kc,
              r0,
              r1,
              alpha: op.alpha,
              shift: op.shift,
              perRow: op.perRow,
              unsigned: op.unsigned,
              partial: !last || (op.y.int32 ?? false),
              aUnsigned: op.aUnsigned ?? false,
              bDirect: op.bDirect ?? false,
              hart: h,
            }) as unknown as Kernel,
        );
      }
    }
  }
}

/**
 * B^T of a product of two activations, as 64-row blocks (64 output columns by K each): the blocks
 * of B^T itself, or one L1 buffer (N x K, its blocks one after the other) into which B as it is
 * (K x N) is first transposed tile by tile. `tile(j, t)` points at tile t of block j.
 */
interface BTransposed {
  keys: string[];
  tile: (j: number, t: number) => Ptr;
  /** The blocks are one after the other (one gemm may run over all N columns). */
  contiguous: boolean;
}

function bTransposed(
  b: Split,
  op: Extract<TilerOp, { kind: 'dgemm' }>,
  oi: number,
  name: string,
): BTransposed {
  const K = op.x.cols;
  const N = op.y.cols;
  const bMat = op.bMat!;
  const kt = K / 64;
  if (!op.bDirect) {
    const keys = allBlocks(b, bMat);
    return { keys, tile: (j, t) => P(keys[j]!, t * TILE), contiguous: keys.length === 1 };
  }
  const srcs = allBlocks(b, bMat);
  const bt = b.scratch(`${name}/bt`, N * K);
  const u = b.newUnit(`${name}/bt`, oi, 'cores');
  u.uses.push(...srcs, bt);
  u.produces.push(bt);
  // tile (ri, j) of B is tile (j, ri) of B^T, transposed
  for (let ri = 0; ri < kt; ri++)
    for (let j = 0; j < N / 64; j++)
      b.rowsSplit(u, (at, r0, r1) => ({
        op: 'transpose',
        x: at(P(srcs[ri]!, j * TILE)),
        y: at(P(bt, (j * kt + ri) * TILE)),
        r0,
        r1,
      }));
  return { keys: [bt], tile: (j, t) => P(bt, (j * kt + t) * TILE), contiguous: true };
}

/**
 * A product of two activations + requantiser per column: the cores' gemm (two products per
 * multiply, the exact int32 sum) with Deeploy's requantiser, over B^T row by row (B as it is is
 * transposed into L1 first). B^T in several blocks: one gemm per 64 output columns.
 */
function actProductUnits(b: Split, op: Extract<TilerOp, { kind: 'dgemm' }>, oi: number, name: string): void {
  const K = op.x.cols;
  const N = op.y.cols;
  const bt = bTransposed(b, op, oi, name);
  if (b.opts.placed[oi]!.where === 'ita') return itaProductUnits(b, op, oi, name, bt);
  const mul = b.blob(`${name}/mul`, int32Bytes(op.mul));
  const add = b.blob(`${name}/add`, int32Bytes(op.add));
  // one gemm over every column, or one per block of B^T; only the tensor's own rows and columns
  const valid = validOf(op.y);
  const parts = bt.contiguous
    ? [{ j: 0, n: N, nv: valid.cols }]
    : Array.from({ length: Math.ceil(valid.cols / 64) }, (_, j) => ({
        j,
        n: 64,
        nv: Math.min(64, valid.cols - 64 * j),
      }));
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'cores');
    const xk = b.block(op.x, i);
    const yk = b.block(op.y, i);
    u.uses.push(xk, ...bt.keys, mul, add, yk);
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
    const rows = Math.min(64, valid.rows - 64 * i);
    for (const { j, n, nv } of parts)
      b.rowsSplit(
        u,
        (at, r0, r1) => ({
          op: 'gemm',
          a: at(P(xk)),
          bt: at(bt.tile(j, 0)),
          c: at(P(yk, j * TILE)),
          bias: 0,
          m: 64,
          n,
          k: K,
          r0,
          r1,
          aUnsigned: op.aUnsigned ?? false,
          biasPerRow: false,
          mult: 0,
          shift: 0,
          add: 0,
          act: 'identity',
          deeploy: {
            mul: at(P(mul, 4 * 64 * j)),
            add: at(P(add, 4 * 64 * j)),
            shift: op.shift,
            unsigned: op.unsigned,
          },
          validN: nv,
        }),
        rows,
      );
  }
}

/**
 * A product of two activations on ITA's linear (place.ts put it there: ITA computes it exactly):
 * per 64-row block of A, the jobs over every inner tile and output column tile, B^T in L1 as the
 * weights, a zero bias.
 */
function itaProductUnits(
  b: Split,
  op: Extract<TilerOp, { kind: 'dgemm' }>,
  oi: number,
  name: string,
  bt: BTransposed,
): void {
  const te = op.x.cols / 64;
  const nb = op.y.cols / 64;
  const rq = op.itaRq!;
  // the requantiser's add / mul, when it joined the bias, in every column
  const zb = op.itaBiasAdd
    ? b.blob(`${name}/b24`, bias24(new Int32Array(64 * nb).fill(op.itaBiasAdd)))
    : b.blob(`zero-bias${nb}`, new Uint8Array(192 * nb));
  const consts = new Map<number, number>([
    [ITA_REG.TILES, 1 | (te << 4) | (nb << 8) | (1 << 12)],
    [ITA_REG.EPS_MULT0, rq.mult],
    [ITA_REG.RIGHT_SHIFT0, rq.shift],
    [ITA_REG.ADD0, rq.add & 0xff],
    [ITA_REG.GELU_B_C, 0],
    [ITA_REG.ACTIVATION_REQUANT, 0],
  ]);
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'ita');
    const xKey = b.block(op.x, i);
    const yKey = b.block(op.y, i);
    u.uses.push(xKey, ...bt.keys, zb, yKey);
    u.produces.push(yKey);
    u.stores.push(b.storeOf(yKey));
    for (let tx = 0; tx < nb; tx++)
      for (let ti = 0; ti < te; ti++)
        u.jobs.push({
          input: P(xKey, ti * TILE),
          w0: bt.tile(tx, ti),
          bias: P(zb, tx * 192),
          output: P(yKey, tx * TILE),
          stream: 0,
          lastInner: ti === te - 1,
          engine: 2 | (ACT_CODE.identity << 2),
          consts,
        });
    sequence(u.jobs);
  }
}

/** Every 64-row block of a matrix (a kernel that reads any of its rows). */
function allBlocks(b: Split, m: Mat): string[] {
  return Array.from({ length: m.rows / 64 }, (_, i) => b.block(m, i));
}

/** Conv + requantiser: one unit per 64-pixel block of the output, the whole image in L1. */
function convUnits(b: Split, op: Extract<TilerOp, { kind: 'conv' }>, oi: number, name: string): void {
  const geom = b.blob(`${name}/geom`, int32Bytes(op.geom));
  // channel pairs packed for two products per multiply, their offsets folded into the bias
  const packed = packConv(op.w, op.bias, op.w.length / op.K, op.K, op.y.cols);
  const w = b.blob(`${name}/wp`, packed.words);
  const mul = b.blob(`${name}/mul`, int32Bytes(op.mul));
  const add = b.blob(`${name}/add`, int32Bytes(op.add));
  const bias = b.blob(`${name}/bias`, int32Bytes(packed.bias));
  const xs = allBlocks(b, op.x);
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'cores');
    const yk = b.block(op.y, i);
    u.uses.push(...xs, geom, w, mul, add, bias, yk);
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
    b.rowsSplit(u, (at, r0, r1) => ({
      op: 'conv',
      geom: at(P(geom)),
      xs: xs.map((x) => at(P(x))),
      xBytes: op.x.cols * 64,
      y: at(P(yk)),
      rows: 64,
      cols: op.y.cols,
      w: at(P(w)),
      wBytes: packed.words.length,
      mul: at(P(mul)),
      add: at(P(add)),
      bias: at(P(bias)),
      r0,
      r1,
      p0: 64 * i,
    }));
  }
}

/** MaxPool: one unit per 64-pixel block of the output, the whole input in L1. */
function poolUnits(b: Split, op: Extract<TilerOp, { kind: 'pool' }>, oi: number, name: string): void {
  const geom = b.blob(`${name}/geom`, int32Bytes(op.geom));
  const xs = allBlocks(b, op.x);
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'cores');
    const yk = b.block(op.y, i);
    u.uses.push(...xs, geom, yk);
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
    b.rowsSplit(u, (at, r0, r1) => ({
      op: 'pool',
      geom: at(P(geom)),
      xs: xs.map((x) => at(P(x))),
      xBytes: op.x.cols * 64,
      y: at(P(yk)),
      rows: 64,
      cols: op.y.cols,
      r0,
      r1,
      p0: 64 * i,
    }));
  }
}

/** Transpose of a one-block matrix: output row block j is input tile column j transposed. */
function transposeUnits(
  b: Split,
  op: Extract<TilerOp, { kind: 'transpose' }>,
  oi: number,
  name: string,
): void {
  for (let j = 0; j < op.y.rows / 64; j++) {
    const u = b.newUnit(`${name}/r${j}`, oi, 'cores');
    const xk = b.block(op.x, 0, j, j + 1);
    const yk = b.block(op.y, j);
    u.uses.push(xk, yk);
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
    b.rowsSplit(u, (at, r0, r1) => ({ op: 'transpose', x: at(P(xk)), y: at(P(yk)), r0, r1 }));
  }
}

/**
 * Blocks copied into a new matrix (a Slice, a Concat, a relayout): one unit per 64-row block of
 * y. Each hart owns 8 rows of the block: it clears them, then copies into them what every part
 * holds for them, reading only the x blocks and tiles that hold it.
 */
function copyUnits(b: Split, op: Extract<TilerOp, { kind: 'copy' }>, oi: number, name: string): void {
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'cores');
    const yk = b.block(op.y, i);
    u.uses.push(yk);
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
    const rowsPerHart = 64 / COMPUTE_HARTS;
    for (let h = 0; h < COMPUTE_HARTS; h++) {
      const g0 = 64 * i + h * rowsPerHart;
      const g1 = g0 + rowsPerHart;
      const base = { yCols: op.y.cols, y: P(yk) };
      // the `cols` kernel's fields but the output's, with x still a pointer into a buffer
      const calls: (Omit<Extract<Kernel, { op: 'cols' }>, 'op' | 'x' | 'y' | 'yCols'> & { x: Ptr })[] = [
        { x: P(yk), xCols: 64, xc: 0, yc: 0, n: 0, xr: 0, yr: g0 - 64 * i, count: rowsPerHart, zero: true },
      ];
      for (const p of op.parts) {
        const t0 = Math.floor(p.xc / 64);
        const t1 = Math.ceil((p.xc + p.cols) / 64);
        let g = Math.max(g0, p.yr);
        const end = Math.min(g1, p.yr + p.rows);
        while (g < end) {
          const xrow = p.xr + g - p.yr;
          const count = Math.min(end - g, 64 - (xrow % 64));
          const xk = b.block(p.x, Math.floor(xrow / 64), t0, t1);
          if (!u.uses.includes(xk)) u.uses.push(xk);
          calls.push({
            x: P(xk),
            xCols: 64 * (t1 - t0),
            xc: p.xc - 64 * t0,
            yc: p.yc,
            n: p.cols,
            xr: xrow % 64,
            yr: g - 64 * i,
            count,
            zero: false,
          });
          g += count;
        }
      }
      for (const c of calls)
        u.kernels.push(
          (at) => ({ op: 'cols', ...c, ...base, x: at(c.x), y: at(base.y), hart: h }) as unknown as Kernel,
        );
    }
  }
}

/** iRMSNorm, the product of two matrices: one unit per 64-row block, split by rows. */
function rowKernelUnits(
  b: Split,
  op: Extract<TilerOp, { kind: 'rmsnorm' | 'mul' }>,
  oi: number,
  name: string,
): void {
  const w = op.kind === 'rmsnorm' ? b.blob(`${name}/w`, int32Bytes(op.w)) : null;
  const cols = op.y.cols;
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'cores');
    const yk = b.block(op.y, i);
    const ins = op.kind === 'rmsnorm' ? [b.block(op.x, i), w!] : [b.block(op.a, i), b.block(op.b, i)];
    u.uses.push(...ins, yk);
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
    b.rowsSplit(u, (at, r0, r1) =>
      op.kind === 'rmsnorm'
        ? {
            op: 'rmsnorm',
            x: at(P(ins[0]!)),
            y: at(P(yk)),
            w: at(P(w!)),
            rows: 64,
            cols,
            validCols: validOf(op.x).cols,
            r0,
            r1,
            log2d: op.log2d,
          }
        : {
            op: 'mul',
            a: at(P(ins[0]!)),
            b: at(P(ins[1]!)),
            y: at(P(yk)),
            rows: 64,
            cols,
            r0,
            r1,
            mul: op.mul,
            add: op.add,
            shift: op.shift,
            aUnsigned: op.aUnsigned,
            bUnsigned: op.bUnsigned,
            unsigned: op.unsigned,
          },
    );
  }
}

/** An element-wise table, an ITAPartialMax: one unit per 64-row block. */
function rowUnits(b: Split, op: Extract<TilerOp, { kind: 'lut' | 'pmax' }>, oi: number, name: string): void {
  const lut = op.kind === 'lut' ? b.blob(`${name}/lut`, op.table) : null;
  for (let i = 0; i < op.y.rows / 64; i++) {
    const u = b.newUnit(`${name}/r${i}`, oi, 'cores');
    const xk = b.block(op.x, i);
    const yk = b.block(op.y, i);
    u.uses.push(xk, yk, ...(lut ? [lut] : []));
    u.produces.push(yk);
    u.stores.push(b.storeOf(yk));
    b.rowsSplit(u, (at, r0, r1) =>
      op.kind === 'lut'
        ? { op: 'lut', x: at(P(xk)), y: at(P(yk)), rows: 64, cols: op.y.cols, r0, r1, lut: at(P(lut!)) }
        : {
            op: 'pmax',
            x: at(P(xk)),
            y: at(P(yk)),
            rows: 64,
            cols: op.y.cols,
            validCols: validOf(op.y).cols,
            r0,
            r1,
            group: op.group,
            numerator: op.full ? 255 * 256 : 127 * 256,
          },
    );
  }
}

/** IntegerMean over the rows of a one-block matrix: one unit, columns split across the harts. */
function colmeanUnits(b: Split, op: Extract<TilerOp, { kind: 'colmean' }>, oi: number, name: string): void {
  const u = b.newUnit(`${name}/r0`, oi, 'cores');
  const xk = b.block(op.x, 0);
  const yk = b.block(op.y, 0);
  u.uses.push(xk, yk);
  u.produces.push(yk);
  u.stores.push(b.storeOf(yk));
  const cols = op.y.cols;
  for (let h = 0; h < COMPUTE_HARTS; h++) {
    const c0 = Math.floor((h * cols) / COMPUTE_HARTS);
    const c1 = Math.floor(((h + 1) * cols) / COMPUTE_HARTS);
    u.kernels.push(
      (at) =>
        ({
          op: 'colmean',
          x: at(P(xk)),
          y: at(P(yk)),
          cols,
          c0,
          c1,
          count: op.count,
          unsigned: op.unsigned,
          hart: h,
        }) as unknown as Kernel,
    );
  }
}

/** The units of every op, in op order (graph inputs get their DRAM homes first). */
export function splitUnits(g: MappedGraph, opts: SplitOptions): Split {
  if (opts.placed.length !== g.ops.length)
    throw new Error(`schedule: ${opts.placed.length} placements for ${g.ops.length} ops`);
  const b = new Split(opts);
  for (const m of g.inputs) b.home(m);
  g.ops.forEach((op, oi) => {
    const name = op.nodes[0]!;
    switch (op.kind) {
      case 'linear':
        return linearUnits(b, op, oi, name);
      case 'dgemm':
        return dgemmUnits(b, op, oi, name);
      case 'attention':
        return attentionUnits(b, op, oi, name);
      case 'sum':
      case 'add':
        return sumUnits(b, op, oi, name);
      case 'isoftmax':
        return isoftmaxUnits(b, op, oi, name);
      case 'layernorm':
      case 'nonorm':
        return normUnits(b, op, oi, name);
      case 'conv':
        return convUnits(b, op, oi, name);
      case 'pool':
        return poolUnits(b, op, oi, name);
      case 'transpose':
        return transposeUnits(b, op, oi, name);
      case 'copy':
        return copyUnits(b, op, oi, name);
      case 'rmsnorm':
      case 'mul':
        return rowKernelUnits(b, op, oi, name);
      case 'lut':
      case 'pmax':
        return rowUnits(b, op, oi, name);
      case 'colmean':
        return colmeanUnits(b, op, oi, name);
    }
  });
  return b;
}
