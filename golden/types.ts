/**
 * The tensors of one ITA test case, untiled, in the names PyITA uses. Every tensor is row-major in
 * an `Int32Array` holding the integer values (int8 data, 24-bit biases, uint8 softmax outputs).
 * S, E, P, F are multiples of 64 (no padding is needed).
 */

export type Activation = 'identity' | 'relu' | 'gelu';
export const ACTIVATIONS: readonly Activation[] = ['identity', 'relu', 'gelu'];

/** Problem dimensions and options of a case (testGenerator.py's -S -E -P -F -H --activation --no-bias). */
export interface ItaParams {
  S: number;
  E: number;
  P: number;
  F: number;
  H: number;
  activation: Activation;
  bias: boolean;
}

/** A dense integer tensor. */
export interface Tensor {
  shape: number[];
  data: Int32Array;
}

/** Requantisation constants of one set of steps: `mult[step][head]`, `shift[..]`, `add[..]`. */
export interface RequantTable {
  mult: number[][];
  shift: number[][];
  add: number[][];
}

/** GELU constants (PyITA's q_1, q_b, q_c) and the requantisation after the activation. */
export interface GeluConstants {
  one: number;
  b: number;
  c: number;
  rqsMul: number;
  rqsShift: number;
  rqsAdd: number;
}

/** Everything a case is made from: inputs, weights, biases and constants. */
export interface ItaInputs {
  params: ItaParams;
  /** Query input, S x E. */
  Q: Tensor;
  /** Key/value input, S x E (PyITA: K equals V). */
  K: Tensor;
  /** Per head: Wq, Wk, Wv are H x E x P; Wo is H x P x E. */
  Wq: Tensor;
  Wk: Tensor;
  Wv: Tensor;
  Wo: Tensor;
  /** Per head biases (24-bit values): Bq, Bk, Bv are H x P; Bo is H x E. All zero without bias. */
  Bq: Tensor;
  Bk: Tensor;
  Bv: Tensor;
  Bo: Tensor;
  /** Feed-forward input S x E, weights 1 x E x F and 1 x F x E, biases 1 x F and 1 x E. */
  FF: Tensor;
  Wff: Tensor;
  Wff2: Tensor;
  Bff: Tensor;
  Bff2: Tensor;
  /** Activation-unit test input, S x F. */
  preactivation: Tensor;
  /** Attention requantisation: 7 steps (Q, K, V, QK, AV, OW, head sum) x H. */
  rqsAttn: RequantTable;
  /** Feed-forward requantisation: 2 steps (F1, F2) x 1. */
  rqsFfn: RequantTable;
  gelu: GeluConstants;
}

/** Every output of a case, as the reference computes it. */
export interface ItaOutputs {
  /** Requantised projections, H x S x P. */
  Qp: Tensor;
  Kp: Tensor;
  Vp: Tensor;
  /** Requantised Q K^T, H x S x S. */
  A: Tensor;
  /** ITAMax streaming partial softmax of A, H x S x S, values 0..255. */
  A_soft: Tensor;
  /** Requantised A x V, H x S x P. */
  O_soft: Tensor;
  /** Requantised O x Wo + Bo, H x S x E. */
  Out_soft: Tensor;
  /** Requantised sum over heads, 1 x S x E. */
  Out_soft_sum: Tensor;
  /** Feed-forward: after F1 and the activation, S x F; after F2, S x E. */
  FFp: Tensor;
  FF2p: Tensor;
  /** Activation unit on `preactivation`: S x F each. */
  gelu: Tensor;
  relu: Tensor;
}

export interface ItaCase {
  inputs: ItaInputs;
  outputs: ItaOutputs;
}
