/**
 * One ITA attention computation (the steps the accelerator runs: Q, K, V projections, Q K^T,
 * softmax, A x V, output projection per head, then the sum over heads in software), built from
 * the untimed reference in `rtl-model/ref/`. The fused MHSA node and the attention mapping both
 * compute through here; the softmax is either the RTL's ITAMax or Deeploy's emulation of it.
 */
import type { Requant } from '../rtl-model/ref/requant.ts';
import { linear, matmulAcc, matmulAccT } from '../rtl-model/ref/ita.ts';
import { requantizeArray } from '../rtl-model/ref/requant.ts';
import { itaMax } from '../rtl-model/ref/softmax.ts';
import type { SoftmaxVariant } from './ops/context.ts';
import { itaMaxDeeployRow, itaPartialMaxRow } from './softmax.ts';

/** Weights, biases and requantisation constants of one head. */
export interface ItaHead {
  /** E x P, row-major. */
  wq: Int32Array;
  wk: Int32Array;
  wv: Int32Array;
  /** P x E. */
  wo: Int32Array;
  /** Biases (P, P, P, E) or undefined for none. */
  bq?: Int32Array | undefined;
  bk?: Int32Array | undefined;
  bv?: Int32Array | undefined;
  bo?: Int32Array | undefined;
  rq: { q: Requant; k: Requant; v: Requant; qk: Requant; av: Requant; ow: Requant };
}

/** Which of Deeploy's emulations stands for ITA's softmax (the graph's op and its attributes). */
export interface DeeploySoftmax {
  op: 'ITAPartialMax' | 'ITAMax';
  groupWidth: number;
  nLevels: number;
}

/** The emulation the fused MHSA node and ITA-targeted graphs use. */
export const ITA_PARTIAL_MAX: DeeploySoftmax = { op: 'ITAPartialMax', groupWidth: 16, nLevels: 256 };

export interface ItaAttention {
  S: number;
  E: number;
  P: number;
  heads: ItaHead[];
  /** The Deeploy softmax the graph uses (for the `deeploy` variant). */
  softmax: DeeploySoftmax;
}

/** Every intermediate, per head (row-major S x P, S x S, S x E), and the head sum (S x E). */
export interface ItaAttentionResult {
  Qp: Int32Array[];
  Kp: Int32Array[];
  Vp: Int32Array[];
  A: Int32Array[];
  A_soft: Int32Array[];
  O_soft: Int32Array[];
  Out_soft: Int32Array[];
  sum: Int32Array;
}

/** ITA's softmax of a rows x cols block: the RTL's, or the given Deeploy emulation. */
export function itaSoftmax(
  a: Int32Array,
  rows: number,
  cols: number,
  variant: SoftmaxVariant,
  deeploy: DeeploySoftmax = ITA_PARTIAL_MAX,
): Int32Array {
  if (variant === 'rtl') return itaMax(a, rows, cols);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    if (deeploy.op === 'ITAMax') itaMaxDeeployRow(a, r * cols, cols, deeploy.nLevels, out);
    else itaPartialMaxRow(a, r * cols, cols, deeploy.groupWidth, deeploy.nLevels, out);
  }
  return Int32Array.from(out);
}

/** Runs the attention for query input `q` and key/value inputs `k`, `v` (each S x E). */
export function runItaAttention(
  spec: ItaAttention,
  q: Int32Array,
  k: Int32Array,
  v: Int32Array,
  variant: SoftmaxVariant,
): ItaAttentionResult {
  const { S, E, P } = spec;
  const r: ItaAttentionResult = {
    Qp: [],
    Kp: [],
    Vp: [],
    A: [],
    A_soft: [],
    O_soft: [],
    Out_soft: [],
    sum: new Int32Array(S * E),
  };
  for (const h of spec.heads) {
    const qp = linear(q, h.wq, h.bq, S, E, P, h.rq.q);
    const kp = linear(k, h.wk, h.bk, S, E, P, h.rq.k);
    const vp = linear(v, h.wv, h.bv, S, E, P, h.rq.v);
    const a = requantizeArray(matmulAccT(qp, kp, S, P, S), h.rq.qk);
    const soft = itaSoftmax(a, S, S, variant, spec.softmax);
    const o = requantizeArray(matmulAcc(soft, vp, S, S, P, undefined, true), h.rq.av);
    const out = linear(o, h.wo, h.bo, S, P, E, h.rq.ow);
    for (let i = 0; i < S * E; i++) r.sum[i] = r.sum[i]! + out[i]!;
    r.Qp.push(qp);
    r.Kp.push(kp);
    r.Vp.push(vp);
    r.A.push(a);
    r.A_soft.push(soft);
    r.O_soft.push(o);
    r.Out_soft.push(out);
  }
  return r;
}
