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
  const out = new Int32Array(rows * cols);
  const xs = unsignedX ? new Int32Array(rows * inner) : x;
  if (unsignedX) for (let i = 0; i < rows * inner; i++) xs[i] = x[i]! & 0xff;
  // Each product fits 17 bits; int32 wrap-around is exact modulo 2^32 and hence modulo 2^26.
  // Four output columns at a time share each load of X.
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
    for (let c = 0; c < cols; c++) {
      let acc = out[oo + c]!;
      // bias: sign-extended from the 24-bit port
      if (bias) acc = (acc + ((bias[c]! << 8) >> 8)) | 0;
      out[oo + c] = (acc << 6) >> 6;
    }
  }
  return out;
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
  return matmulAccT(x, transpose(w, inner, cols), rows, inner, cols, bias, unsignedX);
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
  const y = requantizeArray(matmulAcc(x, w, rows, inner, cols, bias), rq);
  return act ? activate(y, act.activation, act.gelu) : y;
}

/** Applies ITA's activation unit to requantised int8 values in place. */
export function activate(v: Int32Array, activation: Activation, g: GeluConstants): Int32Array {
  if (activation === 'gelu') for (let i = 0; i < v.length; i++) v[i] = geluRequantized(v[i]!, g);
  else if (activation === 'relu') for (let i = 0; i < v.length; i++) v[i] = reluRequantized(v[i]!, g);
  return v;
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

/**
 * Every output of an ITA test case, computed as the RTL does. `onStep` (for progress bars) is
 * called after each head, after the feed-forward layer and after the activation test.
 */
export function computeOutputs(inputs: ItaInputs, onStep?: () => void): ItaOutputs {
  const { S, E, P, F, H, activation } = inputs.params;
  const rqA = inputs.rqsAttn;
  const Qp = new Int32Array(H * S * P);
  const Kp = new Int32Array(H * S * P);
  const Vp = new Int32Array(H * S * P);
  const A = new Int32Array(H * S * S);
  const A_soft = new Int32Array(H * S * S);
  const O_soft = new Int32Array(H * S * P);
  const Out_soft = new Int32Array(H * S * E);

  for (let h = 0; h < H; h++) {
    const qp = linear(inputs.Q.data, head(inputs.Wq, h), head(inputs.Bq, h), S, E, P, requantOf(rqA, 0, h));
    const kp = linear(inputs.K.data, head(inputs.Wk, h), head(inputs.Bk, h), S, E, P, requantOf(rqA, 1, h));
    const vp = linear(inputs.K.data, head(inputs.Wv, h), head(inputs.Bv, h), S, E, P, requantOf(rqA, 2, h));
    // QK^T: Kp (S x P) already is the transposed right operand.
    const a = requantizeArray(matmulAccT(qp, kp, S, P, S), requantOf(rqA, 3, h));
    const soft = itaMax(a, S, S);
    const o = requantizeArray(matmulAcc(soft, vp, S, S, P, undefined, true), requantOf(rqA, 4, h));
    const out = linear(o, head(inputs.Wo, h), head(inputs.Bo, h), S, P, E, requantOf(rqA, 5, h));
    Qp.set(qp, h * S * P);
    Kp.set(kp, h * S * P);
    Vp.set(vp, h * S * P);
    A.set(a, h * S * S);
    A_soft.set(soft, h * S * S);
    O_soft.set(o, h * S * P);
    Out_soft.set(out, h * S * E);
    onStep?.();
  }

  // Sum over heads (outside the accelerator), requantised with the head-0 constants of step 7.
  const sum = new Int32Array(S * E);
  for (let h = 0; h < H; h++) {
    const o = Out_soft.subarray(h * S * E, (h + 1) * S * E);
    for (let i = 0; i < S * E; i++) sum[i] = sum[i]! + o[i]!;
  }
  const Out_soft_sum = requantizeArray(sum, requantOf(rqA, 6, 0), sum);

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
  onStep?.();

  const pre = inputs.preactivation.data;
  const gelu = new Int32Array(pre.length);
  const relu = new Int32Array(pre.length);
  for (let i = 0; i < pre.length; i++) {
    gelu[i] = geluRequantized(pre[i]!, inputs.gelu);
    relu[i] = reluRequantized(pre[i]!, inputs.gelu);
  }
  onStep?.();

  return {
    Qp: tensor([H, S, P], Qp),
    Kp: tensor([H, S, P], Kp),
    Vp: tensor([H, S, P], Vp),
    A: tensor([H, S, S], A),
    A_soft: tensor([H, S, S], A_soft),
    O_soft: tensor([H, S, P], O_soft),
    Out_soft: tensor([H, S, E], Out_soft),
    Out_soft_sum: tensor([1, S, E], Out_soft_sum),
    FFp: tensor([S, F], ff1),
    FF2p: tensor([S, E], ff2),
    gelu: tensor([S, F], gelu),
    relu: tensor([S, F], relu),
  };
}

/** Re-export for callers that requantise single values. */
export { requantize };
