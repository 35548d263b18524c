/**
 * Reference of every kernel of the tiler runtime (`sw/kernels/tiler.c`), composed from the
 * project's untimed references: ITA's linear (`rtl-model/ref/ita.ts` matmulAccT, the requantiser of
 * `ref/requant.ts`, the activation unit of `ref/gelu.ts`), ITAMax (`ref/softmax.ts`), and the
 * integer graph executor's ops (`onnx/ops/quant.ts`: requantShift, iLayerNorm, iNoNorm). A kernel
 * reads and writes T64 matrices through a `KernelMemory` (e.g. a `Machine`), rows [r0, r1) only.
 * Also the T64 layout helpers.
 */
import type { GeluConstants } from '../golden/types.ts';
import { OPS } from '../onnx/executor.ts';
import { OpContext } from '../onnx/ops/context.ts';
import { requantShift } from '../onnx/ops/quant.ts';
import type { Attr } from '../onnx/model.ts';
import type { Tensor } from '../onnx/tensor.ts';
import { activate, matmulAccT, transpose } from '../rtl-model/ref/ita.ts';
import { requantizeArray } from '../rtl-model/ref/requant.ts';
import { itaMax } from '../rtl-model/ref/softmax.ts';
import { iSoftmaxExp, type ISoftmaxCoeffs } from '../onnx/softmax.ts';
import type { Kernel } from './program.ts';

export interface KernelMemory {
  read(addr: number, bytes: number): Uint8Array;
  write(addr: number, data: Uint8Array): void;
}

/** Byte offset of element (r, c) of a T64 matrix with `cols` columns. */
export function t64Offset(r: number, c: number, cols: number): number {
  return ((r >> 6) * (cols >> 6) + (c >> 6)) * 4096 + (r & 63) * 64 + (c & 63);
}

/** A row-major matrix (values taken modulo 256) in the T64 layout. */
export function toT64(m: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[t64Offset(r, c, cols)] = m[r * cols + c]! & 0xff;
  return out;
}

/** Rows [r0, r1) of a T64 matrix as a row-major Int32Array (int8, or uint8 when `unsigned`). */
export function fromT64(
  bytes: Uint8Array,
  rows: number,
  cols: number,
  unsigned = false,
  r0 = 0,
  r1 = rows,
): Int32Array {
  const out = new Int32Array((r1 - r0) * cols);
  for (let r = r0; r < r1; r++)
    for (let c = 0; c < cols; c++) {
      const v = bytes[t64Offset(r, c, cols)]!;
      out[(r - r0) * cols + c] = unsigned ? v : (v << 24) >> 24;
    }
  return out;
}

/** Little-endian int32 array <-> bytes. */
export function int32Bytes(v: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 * v.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) dv.setInt32(4 * i, v[i]! | 0, true);
  return out;
}
export function bytesInt32(b: Uint8Array): Int32Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Int32Array(b.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(4 * i, true);
  return out;
}

/** Reads rows [r0, r1) of a T64 matrix at `addr` from memory. */
function readRows(
  mem: KernelMemory,
  addr: number,
  rows: number,
  cols: number,
  r0: number,
  r1: number,
  unsigned = false,
): Int32Array {
  return fromT64(mem.read(addr, rows * cols), rows, cols, unsigned, r0, r1);
}

/** Writes rows [r0, r1) (row-major values) into the T64 matrix at `addr`. */
function writeRows(
  mem: KernelMemory,
  addr: number,
  rows: number,
  cols: number,
  r0: number,
  r1: number,
  v: Int32Array,
): void {
  const img = mem.read(addr, rows * cols);
  for (let r = r0; r < r1; r++)
    for (let c = 0; c < cols; c++) img[t64Offset(r, c, cols)] = v[(r - r0) * cols + c]! & 0xff;
  mem.write(addr, img);
}

function tensor(shape: number[], v: ArrayLike<number>, signed = true): Tensor {
  return { shape, data: Float64Array.from(v as ArrayLike<number>), signed };
}

/** Runs one executor op on the given inputs and integer attributes. */
function runOp(op: string, inputs: Tensor[], attrs: Record<string, number>): Tensor {
  const a = new Map<string, Attr>();
  for (const [k, v] of Object.entries(attrs)) a.set(k, { kind: 'int', value: v });
  const node = { name: `tiler_${op}`, opType: op, domain: '', inputs: [], outputs: [], attrs: a };
  return OPS[op]!.run(new OpContext(node, inputs, { softmax: 'rtl' }))[0]!;
}

/**
 * The table of an add / sum kernel of n inputs (`lut`): byte s + 128 n is the requantised int8 of
 * the sum s, for every sum n int8 values can reach (255 n + 1 bytes). With `unsignedInputs` of
 * them holding uint8 values, byte s + 128 (n - unsignedInputs) is that of the sum s.
 */
export function sumTable(n: number, mul: number, add: number, shift: number, unsignedInputs = 0): Uint8Array {
  const t = new Uint8Array(255 * n + 1);
  const lo = -128 * (n - unsignedInputs);
  for (let s = lo; s <= lo + 255 * n; s++) t[s - lo] = requantShift(s, mul, add, shift, 256, true) & 0xff;
  return t;
}

/**
 * The conv kernel's weights and bias: channel pairs packed as words (w(f) + 128) | (w(f + 1) + 128)
 * << 16 for each of the K taps (K words per pair; a channel beyond F has zero weights), and the
 * bias with the offsets of that form folded in: bias(f) - 128 sum_t (w(f, t) + 128) + 16384 K
 * (int32, wrapping), `cols` values (zero weights and bias beyond F).
 */
export function packConv(
  w: ArrayLike<number>,
  bias: ArrayLike<number>,
  F: number,
  K: number,
  cols: number,
): { words: Uint8Array; bias: Int32Array } {
  const Fe = F + (F % 2);
  const wp = (f: number, t: number): number => (f < F ? w[f * K + t]! : 0) + 128;
  const words = new Uint32Array((Fe / 2) * K);
  for (let f = 0; f < Fe; f += 2)
    for (let t = 0; t < K; t++) words[(f / 2) * K + t] = (wp(f, t) | (wp(f + 1, t) << 16)) >>> 0;
  const fixed = new Int32Array(cols);
  for (let f = 0; f < cols; f++) {
    let sw = 0;
    for (let t = 0; t < K; t++) sw += wp(f, t);
    fixed[f] = ((f < F ? bias[f]! : 0) - 128 * sw + 16384 * K) | 0;
  }
  return { words: new Uint8Array(words.buffer), bias: fixed };
}

/**
 * iNoNorm's per-column weight and bias premultiplied by mul (int32, wrapping), for the nonorm
 * kernel's `premultiplied` form: ((int16(x w) + b) mul) = x (w mul) + b mul modulo 2^32 as long as
 * x w never wraps in int16, i.e. for int8 x when every w lies in [-255, 256]. Undefined otherwise.
 */
export function premultiplyNoNorm(
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  mul: number,
): { w: Int32Array; b: Int32Array } | undefined {
  for (let i = 0; i < w.length; i++) if (w[i]! < -255 || w[i]! > 256) return undefined;
  return {
    w: Int32Array.from(w, (v) => Math.imul(v, mul)),
    b: Int32Array.from(b, (v) => Math.imul(v, mul)),
  };
}

/**
 * The isoftmax kernel's table: entry d (uint32, little-endian) is iSoftmax's exponent of x - max =
 * -d, for d = 0..255 (every difference of two int8 values).
 */
export function iSoftmaxTable(c: Omit<ISoftmaxCoeffs, 'nLevels'>): Uint8Array {
  const t = new Uint8Array(4 * 256);
  const dv = new DataView(t.buffer);
  for (let d = 0; d < 256; d++) dv.setUint32(4 * d, iSoftmaxExp(-d, { ...c, nLevels: 256 }), true);
  return t;
}

/** The layernorm kernel's table of squares: uint16 entry u (little-endian) is int8(u)^2. */
export function squareTable(unsigned = false): Uint8Array {
  const t = new Uint8Array(512);
  for (let u = 0; u < 256; u++) {
    const v = (unsigned ? u : (u << 24) >> 24) ** 2;
    t[2 * u] = v & 0xff;
    t[2 * u + 1] = v >> 8;
  }
  return t;
}

/**
 * Rows [r0, r1) of the kernel's output, row-major, as the runtime computes them (a partial dgemm:
 * its int32 sums).
 */
/**
 * The kernels with a reference here (row-range kernels over one output matrix); conv, pool,
 * transpose, lut, pmax and colmean are checked against the executor through whole graphs
 * (test/tiler/kernels-graph.test.ts).
 */
export type RefKernel = Exclude<
  Kernel,
  { op: 'conv' | 'pool' | 'transpose' | 'cols' | 'rmsnorm' | 'mul' | 'lut' | 'pmax' | 'colmean' }
>;

export function kernelRows(mem: KernelMemory, k: RefKernel): Int32Array {
  switch (k.op) {
    case 'gemm': {
      const rows = k.r1 - k.r0;
      const a = readRows(mem, k.a, k.m, k.k, k.r0, k.r1, k.aUnsigned);
      const bt = readRows(mem, k.bt, k.n, k.k, 0, k.n);
      let acc: Int32Array;
      if (k.bias !== 0 && k.biasPerRow) {
        // C^T = Bt A^T with one bias per column of C^T (ITA's bias direction); A already holds
        // its uint8 values when aUnsigned
        const bias = bytesInt32(mem.read(k.bias + 4 * k.r0, 4 * rows));
        acc = transpose(matmulAccT(bt, a, k.n, k.k, rows, bias, false), k.n, rows);
      } else {
        const bias = k.bias !== 0 ? bytesInt32(mem.read(k.bias, 4 * k.n)) : undefined;
        acc = matmulAccT(a, bt, rows, k.k, k.n, bias, k.aUnsigned);
      }
      const y = requantizeArray(acc, { mult: k.mult, shift: k.shift, add: k.add });
      if (k.act === 'identity') return y;
      const g: GeluConstants = {
        one: 0,
        b: k.geluB ?? 0,
        c: k.geluC ?? 0,
        rqsMul: k.actMult!,
        rqsShift: k.actShift!,
        rqsAdd: k.actAdd!,
      };
      return activate(y, k.act, g);
    }
    case 'itamax':
      return itaMax(readRows(mem, k.x, k.rows, k.cols, k.r0, k.r1), k.r1 - k.r0, k.cols);
    case 'add':
    case 'sum': {
      const xs = k.op === 'add' ? [k.a, k.b] : k.xs;
      const parts = xs.map((x) => readRows(mem, x, k.rows, k.cols, k.r0, k.r1));
      const out = new Int32Array(parts[0]!.length);
      for (let i = 0; i < out.length; i++) {
        let s = 0;
        for (const p of parts) s += p[i]!;
        out[i] = requantShift(s, k.mul, k.add, k.shift, 256, true);
      }
      return out;
    }
    case 'layernorm': {
      const rows = k.r1 - k.r0;
      const x = tensor([rows, k.cols], readRows(mem, k.x, k.rows, k.cols, k.r0, k.r1));
      const w = tensor([k.cols], bytesInt32(mem.read(k.w, 4 * k.cols)));
      const b = tensor([k.cols], bytesInt32(mem.read(k.b, 4 * k.cols)));
      return Int32Array.from(runOp('iLayerNorm', [x, w, b], { D: 2 ** k.log2d, n_levels: 256 }).data);
    }
    case 'nonorm': {
      const rows = k.r1 - k.r0;
      const xr = readRows(mem, k.x, k.rows, k.cols, k.r0, k.r1);
      if (k.premultiplied) {
        // w, b hold w * mul and b * mul: y = int8((x * w + b) >> log2d) in int32
        const w = bytesInt32(mem.read(k.w, 4 * k.cols));
        const b = bytesInt32(mem.read(k.b, 4 * k.cols));
        return xr.map(
          (x, i) => ((((Math.imul(x, w[i % k.cols]!) + b[i % k.cols]!) | 0) >> k.log2d) << 24) >> 24,
        );
      }
      const x = tensor([rows, k.cols], xr);
      const w = tensor([k.cols], bytesInt32(mem.read(k.w, 4 * k.cols)));
      const b = tensor([k.cols], bytesInt32(mem.read(k.b, 4 * k.cols)));
      return Int32Array.from(
        runOp('iNoNorm', [x, w, b], { D: 2 ** k.log2d, mul: k.mul, n_levels: 256 }).data,
      );
    }
    case 'copy':
      return readRows(mem, k.x, k.rows, k.cols, k.r0, k.r1);
    case 'dgemm': {
      const rows = k.r1 - k.r0;
      const a = readRows(mem, k.a, k.rows, k.k, k.r0, k.r1);
      const bt = readRows(mem, k.bt, k.cols, k.k, 0, k.cols);
      const bias = k.bias !== 0 ? bytesInt32(mem.read(k.bias, 4 * k.rows * k.cols)) : undefined;
      const q = k.perRow ? k.rows : k.cols;
      const mul = bytesInt32(mem.read(k.mul, 4 * q));
      const add = bytesInt32(mem.read(k.add, 4 * q));
      // columns from validCols on keep what the output holds
      const out = k.partial ? new Int32Array(0) : readRows(mem, k.y, k.rows, k.cols, k.r0, k.r1);
      const partial = k.partial
        ? bytesInt32(mem.read(k.y + 4 * k.r0 * k.cols, 4 * rows * k.cols))
        : new Int32Array(0);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < k.validCols; c++) {
          let dot = 0;
          for (let i = 0; i < k.k; i++) dot += a[r * k.k + i]! * bt[c * k.k + i]!;
          const acc = (Math.imul(k.alpha, dot) + (bias ? bias[(k.r0 + r) * k.cols + c]! : 0)) | 0;
          if (k.partial) {
            partial[r * k.cols + c] = acc;
            continue;
          }
          const j = k.perRow ? k.r0 + r : c;
          out[r * k.cols + c] = requantShift(acc, mul[j]!, add[j]!, k.shift, 256, !k.unsigned);
        }
      return k.partial ? partial : out;
    }
    case 'isoftmax': {
      // over the first validCols columns; the columns after keep what the output holds
      const rows = k.r1 - k.r0;
      const nv = k.validCols ?? k.cols;
      const xr = readRows(mem, k.x, k.rows, k.cols, k.r0, k.r1);
      const x = tensor(
        [rows, nv],
        Int32Array.from({ length: rows * nv }, (_, i) => xr[Math.floor(i / nv) * k.cols + (i % nv)]!),
      );
      const { coeffA, coeffB, coeffC, log2 } = k;
      const y = runOp('iSoftmax', [x], { coeffA, coeffB, coeffC, log2, n_levels: 256 }).data;
      const out = readRows(mem, k.y, k.rows, k.cols, k.r0, k.r1, true);
      for (let i = 0; i < y.length; i++) out[Math.floor(i / nv) * k.cols + (i % nv)] = y[i]!;
      return out;
    }
  }
}

/** Runs the kernel on memory: computes its rows and writes them into the output matrix. */
export function runKernel(mem: KernelMemory, k: RefKernel): void {
  const v = kernelRows(mem, k);
  if (k.op === 'gemm') writeRows(mem, k.c, k.m, k.n, k.r0, k.r1, v);
  else if (k.op === 'dgemm' && k.partial) mem.write(k.y + 4 * k.r0 * k.cols, int32Bytes(v));
  else writeRows(mem, k.y, k.rows, k.cols, k.r0, k.r1, v);
}
