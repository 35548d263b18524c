/**
 * Untimed integer reference of every ITA step, computing what the RTL computes:
 *
 *   Q, K, V projections   Qp = rq(Q Wq + Bq), Kp = rq(K Wk + Bk), Vp = rq(K Wv + Bv)   (V input = K)
 *   QK                    A = rq(Qp Kp^T)
 *   ITAMax                A_soft = itaMax(A)                                           (uint8)
 *   AV                    O_soft = rq(A_soft V)      A_soft read unsigned
 *   OW                    Out_soft = rq(O_soft Wo + Bo)
 *   head sum              Out_soft_sum = rq(sum over heads of Out_soft)                (constants of head 0)
 *   feed-forward          FFp = act(rq(FF Wff + Bff)), FF2p = rq(FFp Wff2 + Bff2)
 *   Linear (MatMul)       act(rq(X W + B)): one matmul, Q constants, the control word's activation
 *
 * Products accumulate in the 26-bit accumulator (WO), which wraps like the RTL's adders; biases
 * enter through the 24-bit bias port. PyITA instead clips the exact sum to 26 bits; for every
 * allowed size (dimensions up to 512, int8 data, 24-bit biases) no sum leaves 26 bits, so both
 * agree (see the test).
 */
import type {
  Activation,
  GeluConstants,
  ItaInputs,
  ItaOutputs,
  RequantTable,
  Tensor,
} from '../../golden/types.ts';
import { requantize, requantizeArray } from './requant.ts';
import type { Requant } from './requant.ts';
import { itaMax } from './softmax.ts';
import { geluRequantized, reluRequantized } from './gelu.ts';
import { headSumSimd, mapInt8, matmulSimd } from './simd.ts';

/** Accumulator width (WO) and bias port width (WO - 2). */
export const WO = 26;
export const BIAS_WIDTH = WO - 2;

/** Requantisation steps of the attention table (rows of RQS_ATTN_*). */
export const ATTN_STEPS = ['Q', 'K', 'V', 'QK', 'AV', 'OW', 'SUM'] as const;
export type AttnStep = (typeof ATTN_STEPS)[number];

/** The constants of one step and head of a requantisation table. */
export function requantOf(t: RequantTable, step: number, head: number): Requant {
  return { mult: t.mult[step]![head]!, shift: t.shift[step]![head]!, add: t.add[step]![head]! };
}

/**
 * Accumulator values of X W (+ bias) as the RTL forms them: X is rows x inner (row-major), `wT` the
 * weight already transposed, cols x inner, so both operands stream along `inner`. Sums wrap to
 * 26 bits; `bias` (length cols, 24-bit values) is added per column. `unsignedX` reads X as uint8
 * (the AV step's softmax input). Returns rows x cols signed 26-bit values.
 */
export function matmulAccT(
  x: Int32Array,
  wT: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  bias?: Int32Array,
  unsignedX = false,
): Int32Array {
  const fast = matmulSimd(x, wT, true, rows, inner, cols, bias, unsignedX);
  if (fast) return fast;
  const out = new Int32Array(rows * cols);
  products(x, wT, rows, inner, cols, out, unsignedX);
  for (let r = 0; r < rows; r++) {
    const oo = r * cols;
    for (let c = 0; c < cols; c++) {
      let acc = out[oo + c]!;
      // bias: sign-extended from the 24-bit port
      if (bias) acc = (acc + ((bias[c]! << 8) >> 8)) | 0;
      out[oo + c] = (acc << 6) >> 6;
    }
  }
  return out;
}

/** The sums of products of `matmulAccT` (before bias and wrap) in plain JavaScript. */
function products(
  x: Int32Array,
  wT: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  out: Int32Array,
  unsignedX: boolean,
): void {
  const xs = unsignedX ? new Int32Array(rows * inner) : x;
  if (unsignedX) for (let i = 0; i < rows * inner; i++) xs[i] = x[i]! & 0xff;
  let xMax = 0;
  for (let i = 0; i < rows * inner; i++) xMax = Math.max(xMax, Math.abs(xs[i]!));
  let wMax = 0;
  for (let i = 0; i < cols * inner; i++) wMax = Math.max(wMax, Math.abs(wT[i]!));
  if (inner * xMax * wMax < PAIR_LIMIT) productsPaired(xs, wT, rows, inner, cols, out);
  else productsInt32(xs, wT, rows, inner, cols, out);
}

/**
 * Sums of products in int32 arithmetic. Each product fits 17 bits; int32 wrap-around is exact
 * modulo 2^32 and hence modulo 2^26, all the accumulator keeps. Four output columns at a time
 * share each load of X.
 */
function productsInt32(
  xs: Int32Array,
  wT: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  out: Int32Array,
): void {
  const cols4 = cols - (cols % 4);
  for (let r = 0; r < rows; r++) {
    const xo = r * inner;
    const oo = r * cols;
    for (let c = 0; c < cols4; c += 4) {
      const w0 = c * inner;
      const w1 = w0 + inner;
      const w2 = w1 + inner;
      const w3 = w2 + inner;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < inner; k++) {
        const xv = xs[xo + k]!;
        a0 = (a0 + xv * wT[w0 + k]!) | 0;
        a1 = (a1 + xv * wT[w1 + k]!) | 0;
        a2 = (a2 + xv * wT[w2 + k]!) | 0;
        a3 = (a3 + xv * wT[w3 + k]!) | 0;
      }
      out[oo + c] = a0;
      out[oo + c + 1] = a1;
      out[oo + c + 2] = a2;
      out[oo + c + 3] = a3;
    }
    for (let c = cols4; c < cols; c++) {
      const wo = c * inner;
      let acc = 0;
      for (let k = 0; k < inner; k++) acc = (acc + xs[xo + k]! * wT[wo + k]!) | 0;
      out[oo + c] = acc;
    }
  }
}

/** Shift of the second column of a pair: a column pair (w0, w1) is multiplied as w0 + w1 * 2^26. */
const PAIR_SHIFT = 2 ** 26;
/**
 * `productsPaired` is exact when every column sum s satisfies |s| <= B with B = inner * max|x| *
 * max|w| < 2^25 = PAIR_LIMIT (all ITA sizes: 512 * 255 * 128 < 2^24). Proof: every product
 * x * (w0 + w1 * 2^26) and every partial sum of them is an integer of magnitude at most
 * B * (1 + 2^26) < 2^25 * (2^26 + 1) < 2^52, so doubles hold them exactly and the final sum is
 * s0 + s1 * 2^26 exactly. Since |s0| <= B < 2^25, the quotient sum / 2^26 (exact: a power of two)
 * lies strictly within 1/2 of s1, so Math.round gives s1 and sum - s1 * 2^26 gives s0, both
 * exactly. The exact sums have the residues modulo 2^26 that the int32 path's sums have.
 */
const PAIR_LIMIT = 2 ** 25;

/** Sums of products with two int8 weight columns packed per double multiply (see PAIR_LIMIT). */
function productsPaired(
  xs: Int32Array,
  wT: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  out: Int32Array,
): void {
  const pairs = cols >> 1;
  const pk = new Float64Array(pairs * inner);
  for (let q = 0; q < pairs; q++) {
    const w0 = 2 * q * inner;
    const w1 = w0 + inner;
    const po = q * inner;
    for (let k = 0; k < inner; k++) pk[po + k] = wT[w0 + k]! + wT[w1 + k]! * PAIR_SHIFT;
  }
  const xr = new Float64Array(inner);
  const pairs4 = pairs - (pairs % 4);
  const split = (sum: number, o: number): void => {
    const hi = Math.round(sum / PAIR_SHIFT);
    out[o] = sum - hi * PAIR_SHIFT;
    out[o + 1] = hi;
  };
  for (let r = 0; r < rows; r++) {
    const xo = r * inner;
    const oo = r * cols;
    for (let k = 0; k < inner; k++) xr[k] = xs[xo + k]!;
    for (let q = 0; q < pairs4; q += 4) {
      const p0 = q * inner;
      const p1 = p0 + inner;
      const p2 = p1 + inner;
      const p3 = p2 + inner;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < inner; k++) {
        const xv = xr[k]!;
        a0 += xv * pk[p0 + k]!;
        a1 += xv * pk[p1 + k]!;
        a2 += xv * pk[p2 + k]!;
        a3 += xv * pk[p3 + k]!;
      }
      split(a0, oo + 2 * q);
      split(a1, oo + 2 * q + 2);
      split(a2, oo + 2 * q + 4);
      split(a3, oo + 2 * q + 6);
    }
    for (let q = pairs4; q < pairs; q++) {
      const po = q * inner;
      let acc = 0;
      for (let k = 0; k < inner; k++) acc += xr[k]! * pk[po + k]!;
      split(acc, oo + 2 * q);
    }
    if (cols & 1) {
      const wo = (cols - 1) * inner;
      let acc = 0;
      for (let k = 0; k < inner; k++) acc += xr[k]! * wT[wo + k]!;
      out[oo + cols - 1] = acc;
    }
  }
}

/** Transposes a rows x cols row-major matrix. */
export function transpose(m: Int32Array, rows: number, cols: number): Int32Array {
  const t = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

/** Accumulator values of X W + bias with W given as inner x cols (row-major). */
export function matmulAcc(
  x: Int32Array,
  w: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  bias?: Int32Array,
  unsignedX = false,
): Int32Array {
  return (
    matmulSimd(x, w, false, rows, inner, cols, bias, unsignedX) ??
    matmulAccT(x, transpose(w, inner, cols), rows, inner, cols, bias, unsignedX)
  );
}

/**
 * One ITA matmul step with requantisation: rq(X W + bias), int8 out. This is the Linear (MatMul)
 * layer, and every projection of the attention and feed-forward layers. The RTL passes every
 * step's output through the activation unit with the activation of its control word; `act`
 * applies it (the attention steps and F2 run with Identity, F1 with the layer's activation).
 */
export function linear(
  x: Int32Array,
  w: Int32Array,
  bias: Int32Array | undefined,
  rows: number,
  inner: number,
  cols: number,
  rq: Requant,
  act?: { activation: Activation; gelu: GeluConstants },
): Int32Array {
  const y =
    matmulSimd(x, w, false, rows, inner, cols, bias, false, rq) ??
    requantizeArray(matmulAcc(x, w, rows, inner, cols, bias), rq);
  return act ? activate(y, act.activation, act.gelu) : y;
}

/** Applies ITA's activation unit to requantised int8 values in place. */
export function activate(v: Int32Array, activation: Activation, g: GeluConstants): Int32Array {
  if (activation === 'identity') return v;
  const table = activationTable(activation, g);
  if (mapInt8(v, table, v)) return v;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    v[i] = x >= -128 && x < 128 ? table[x + 128]! : activationOf(x, activation, g);
  }
  return v;
}

/** The activation unit's output for one value (identity passes it through). */
function activationOf(x: number, activation: Activation, g: GeluConstants): number {
  if (activation === 'gelu') return geluRequantized(x, g);
  if (activation === 'relu') return reluRequantized(x, g);
  return x;
}

/** The activation unit's output for every int8 input, indexed by input + 128. */
function activationTable(activation: Activation, g: GeluConstants): Int32Array {
  const t = new Int32Array(256);
  for (let x = -128; x < 128; x++) t[x + 128] = activationOf(x, activation, g);
  return t;
}

function tensor(shape: number[], data: Int32Array): Tensor {
  return { shape, data };
}

/** A view of head h of an H x a x b tensor. */
function head(t: Tensor, h: number): Int32Array {
  const n = t.data.length / t.shape[0]!;
  return t.data.subarray(h * n, (h + 1) * n);
}

/** Units of work `computeOutputs` reports through `onStep`: one per head, F1/F2, activation test. */
export function computeSteps(inputs: ItaInputs): number {
  return inputs.params.H + 2;
}

/** Output tensors of the right shapes for `inputs`, zero-filled; `alloc` makes each data array. */
export function allocateOutputs(
  inputs: ItaInputs,
  alloc: (n: number) => Int32Array = (n) => new Int32Array(n),
): ItaOutputs {
  const { S, E, P, F, H } = inputs.params;
  const t = (shape: number[]): Tensor => tensor(shape, alloc(shape.reduce((x, y) => x * y, 1)));
  return {
    Qp: t([H, S, P]),
    Kp: t([H, S, P]),
    Vp: t([H, S, P]),
    A: t([H, S, S]),
    A_soft: t([H, S, S]),
    O_soft: t([H, S, P]),
    Out_soft: t([H, S, E]),
    Out_soft_sum: t([1, S, E]),
    FFp: t([S, F]),
    FF2p: t([S, E]),
    gelu: t([S, F]),
    relu: t([S, F]),
  };
}

/** Computes the attention steps of head `h` into `out` (its slices of Qp .. Out_soft). */
export function computeHead(inputs: ItaInputs, h: number, out: ItaOutputs): void {
  const { S, E, P } = inputs.params;
  const rqA = inputs.rqsAttn;
  const qp = linear(inputs.Q.data, head(inputs.Wq, h), head(inputs.Bq, h), S, E, P, requantOf(rqA, 0, h));
  const kp = linear(inputs.K.data, head(inputs.Wk, h), head(inputs.Bk, h), S, E, P, requantOf(rqA, 1, h));
  const vp = linear(inputs.K.data, head(inputs.Wv, h), head(inputs.Bv, h), S, E, P, requantOf(rqA, 2, h));
  // QK^T: Kp (S x P) already is the transposed right operand.
  const rqQK = requantOf(rqA, 3, h);
  const a =
    matmulSimd(qp, kp, true, S, P, S, undefined, false, rqQK) ??
    requantizeArray(matmulAccT(qp, kp, S, P, S), rqQK);
  const soft = itaMax(a, S, S);
  const rqAV = requantOf(rqA, 4, h);
  const o =
    matmulSimd(soft, vp, false, S, S, P, undefined, true, rqAV) ??
    requantizeArray(matmulAcc(soft, vp, S, S, P, undefined, true), rqAV);
  const ow = linear(o, head(inputs.Wo, h), head(inputs.Bo, h), S, P, E, requantOf(rqA, 5, h));
  out.Qp.data.set(qp, h * S * P);
  out.Kp.data.set(kp, h * S * P);
  out.Vp.data.set(vp, h * S * P);
  out.A.data.set(a, h * S * S);
  out.A_soft.data.set(soft, h * S * S);
  out.O_soft.data.set(o, h * S * P);
  out.Out_soft.data.set(ow, h * S * E);
}

/** Sum over heads (outside the accelerator), requantised with the head-0 constants of step 7. */
export function computeHeadSum(inputs: ItaInputs, out: ItaOutputs): void {
  const { S, E, H } = inputs.params;
  const all = out.Out_soft.data;
  const rq = requantOf(inputs.rqsAttn, 6, 0);
  const fast = headSumSimd(all, H, S * E, rq);
  if (fast) {
    out.Out_soft_sum.data.set(fast);
    return;
  }
  const sum = new Int32Array(S * E);
  for (let h = 0; h < H; h++) {
    const o = all.subarray(h * S * E, (h + 1) * S * E);
    for (let i = 0; i < S * E; i++) sum[i] = sum[i]! + o[i]!;
  }
  out.Out_soft_sum.data.set(requantizeArray(sum, rq, sum));
}

/** Computes the feed-forward layer (FFp, FF2p) into `out`. */
export function computeFeedForward(inputs: ItaInputs, out: ItaOutputs): void {
  const { S, E, F, activation } = inputs.params;
  const ff1 = linear(
    inputs.FF.data,
    inputs.Wff.data,
    inputs.Bff.data,
    S,
    E,
    F,
    requantOf(inputs.rqsFfn, 0, 0),
    {
      activation,
      gelu: inputs.gelu,
    },
  );
  const ff2 = linear(ff1, inputs.Wff2.data, inputs.Bff2.data, S, F, E, requantOf(inputs.rqsFfn, 1, 0));
  out.FFp.data.set(ff1);
  out.FF2p.data.set(ff2);
}

/** Computes the activation unit's test outputs (gelu, relu of the preactivation) into `out`. */
export function computeActivationTest(inputs: ItaInputs, out: ItaOutputs): void {
  const pre = inputs.preactivation.data;
  const g = inputs.gelu;
  const gelu = out.gelu.data;
  const relu = out.relu.data;
  const geluT = activationTable('gelu', g);
  const reluT = activationTable('relu', g);
  if (mapInt8(pre, geluT, gelu) && mapInt8(pre, reluT, relu)) return;
  for (let i = 0; i < pre.length; i++) {
    const x = pre[i]!;
    if (x >= -128 && x < 128) {
      gelu[i] = geluT[x + 128]!;
      relu[i] = reluT[x + 128]!;
    } else {
      gelu[i] = geluRequantized(x, g);
      relu[i] = reluRequantized(x, g);
    }
  }
}

/**
 * Every output of an ITA test case, computed as the RTL does. `onStep` (for progress bars) is
 * called after each head, after the feed-forward layer and after the activation test.
 */
export function computeOutputs(inputs: ItaInputs, onStep?: () => void): ItaOutputs {
  const out = allocateOutputs(inputs);
  for (let h = 0; h < inputs.params.H; h++) {
    computeHead(inputs, h, out);
    onStep?.();
  }
  computeHeadSum(inputs, out);
  computeFeedForward(inputs, out);
  onStep?.();
  computeActivationTest(inputs, out);
  onStep?.();
  return out;
}

/** Re-export for callers that requantise single values. */
export { requantize };
