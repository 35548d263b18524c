/**
 * Integer tensors as the executor holds them: a shape, the values as exact integers (row-major),
 * and whether the tensor is signed. Values are always the logical numbers the graph means (an
 * unsigned 8-bit activation holds 0..255), never the offset form a C kernel keeps in an int8
 * buffer.
 *
 * The values are held in a Float64Array, or, for a tensor whose every value fits, in an Int8Array
 * or Int32Array (`compactData`: a model's weights take one byte per value instead of eight). An
 * op therefore never writes into an input's values, nor maps them into an array of their type: it
 * computes into a new Float64Array (`mapValues(x.data, f)`, not `x.data.map(f)`, which would keep
 * int8 storage and wrap).
 */

export interface Tensor {
  shape: number[];
  data: TensorData;
  /** Signedness as Deeploy's type inference would derive it (drives casts that wrap). */
  signed: boolean;
}

/** The values of a tensor (see above). */
export type TensorData = Float64Array | Int32Array | Int8Array;

/** `data` in the smallest of Int8Array, Int32Array and Float64Array that holds every value exactly. */
export function compactData(data: TensorData): TensorData {
  let int8 = true;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v !== (v | 0) || Object.is(v, -0)) return data;
    if (v < -128 || v > 127) int8 = false;
  }
  if (int8) return data instanceof Int8Array ? data : Int8Array.from(data);
  return data instanceof Int32Array || data instanceof Int8Array ? data : Int32Array.from(data);
}

/** `f` of every value, in a new Float64Array (a plain loop: `Float64Array.from(d, f)` is far slower). */
export function mapValues(d: TensorData, f: (v: number) => number): Float64Array {
  const out = new Float64Array(d.length);
  for (let i = 0; i < out.length; i++) out[i] = f(d[i]!);
  return out;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Numpy broadcast of two shapes, or undefined when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * For every element of `outShape` (row-major), the flat index into a tensor of shape `shape`
 * broadcast to it (numpy rules: missing leading axes and size-1 axes repeat).
 */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const total = sizeOf(outShape);
  const idx = new Int32Array(total);
  const n = outShape.length;
  const st = stridesOf(shape);
  // stride of each output axis inside the source (0 where the source repeats)
  const srcStride = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const j = shape.length - n + i;
    if (j >= 0 && shape[j] !== 1) srcStride[i] = st[j]!;
  }
  const counter = new Array<number>(n).fill(0);
  let off = 0;
  for (let k = 0; k < total; k++) {
    idx[k] = off;
    for (let i = n - 1; i >= 0; i--) {
      counter[i]!++;
      off += srcStride[i]!;
      if (counter[i]! < outShape[i]!) break;
      off -= srcStride[i]! * outShape[i]!;
      counter[i] = 0;
    }
  }
  return idx;
}

/** Elementwise binary op with numpy broadcasting. */
export function broadcastBinary(
  a: Tensor,
  b: Tensor,
  f: (x: number, y: number) => number,
  signed: boolean,
): Tensor | undefined {
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) return undefined;
  const out = new Float64Array(sizeOf(shape));
  const ad = a.data;
  const bd = b.data;
  // an operand of the result's shape is read in order (no index)
  if (ad.length === out.length && bd.length === out.length)
    for (let k = 0; k < out.length; k++) out[k] = f(ad[k]!, bd[k]!);
  else if (ad.length === out.length) {
    const ib = broadcastIndex(b.shape, shape);
    for (let k = 0; k < out.length; k++) out[k] = f(ad[k]!, bd[ib[k]!]!);
  } else {
    const ia = broadcastIndex(a.shape, shape);
    const ib = broadcastIndex(b.shape, shape);
    for (let k = 0; k < out.length; k++) out[k] = f(ad[ia[k]!]!, bd[ib[k]!]!);
  }
  return { shape, data: out, signed };
}

/** Axis permutation (ONNX Transpose). */
export function transpose(t: Tensor, perm: readonly number[]): Tensor & { data: Float64Array } {
  const n = t.shape.length;
  const outShape = perm.map((p) => t.shape[p]!);
  const st = stridesOf(t.shape);
  const permStride = perm.map((p) => st[p]!);
  const out = new Float64Array(t.data.length);
  const counter = new Array<number>(n).fill(0);
  let off = 0;
  for (let k = 0; k < out.length; k++) {
    out[k] = t.data[off]!;
    for (let i = n - 1; i >= 0; i--) {
      counter[i]!++;
      off += permStride[i]!;
      if (counter[i]! < outShape[i]!) break;
      off -= permStride[i]! * outShape[i]!;
      counter[i] = 0;
    }
  }
  return { shape: outShape, data: out, signed: t.signed };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join('x')}]`;
}
