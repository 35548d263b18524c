/**
 * Elaboration parameters and shared types of the ITA core (`ita_package.sv`): sizes, the step and
 * layer encodings and the `ctrl_t` configuration word the controller reads.
 */
import { InputError } from '../errors.ts';

/** Elaboration parameters, defaults as in `ita_package.sv`. */
export interface ItaParams {
  /** Dot-product units (output lanes per cycle). */
  N: number;
  /** Tile edge and dot-product length. */
  M: number;
  /** Accumulator width. */
  WO: number;
  /** Output FIFO depth (and output-credit limit). */
  FifoDepth: number;
  /** Softmax divider FIFO depth (and its credit limit). */
  SoftFifoDepth: number;
  /** Serial dividers in the softmax. */
  NumDiv: number;
  /** Width of the softmax row sums. */
  SoftmaxAccDataWidth: number;
  /** Package sequence length `S`: the weight controller swaps buffers after S reads. */
  S: number;
}

export const DEFAULT_PARAMS: ItaParams = {
  N: 16,
  M: 64,
  WO: 26,
  FifoDepth: 12,
  SoftFifoDepth: 12,
  NumDiv: 10,
  SoftmaxAccDataWidth: 19,
  S: 64,
};

/** Checks parameters the model supports (those the RTL lets change at elaboration). */
export function checkParams(p: ItaParams): ItaParams {
  if (p.M % p.N !== 0 || p.N < 8 || (p.N & (p.N - 1)) !== 0) {
    throw new InputError(`N must be a power of two >= 8 dividing M, got N=${p.N}, M=${p.M}`);
  }
  if (p.FifoDepth < 1 || p.FifoDepth > 64)
    throw new InputError(`FifoDepth must be 1..64, got ${p.FifoDepth}`);
  if (p.NumDiv < 1 || p.NumDiv > 64) throw new InputError(`NumDiv must be 1..64, got ${p.NumDiv}`);
  return p;
}

/** Controller steps (`step_e`). */
export const Step = { Idle: 0, Q: 1, K: 2, V: 3, QK: 4, AV: 5, OW: 6, F1: 7, F2: 8, MatMul: 9 } as const;
export const STEP_NAMES = ['Idle', 'Q', 'K', 'V', 'QK', 'AV', 'OW', 'F1', 'F2', 'MatMul'] as const;

/** Layers (`layer_e`). */
export const Layer = { Attention: 0, Feedforward: 1, Linear: 2, SingleAttention: 3 } as const;
export const LAYER_NAMES = ['attention', 'feedforward', 'linear', 'single-attention'] as const;

/** Activations (`activation_e`). */
export const Activation = { Identity: 0, Gelu: 1, Relu: 2 } as const;
export const ACTIVATION_NAMES = ['identity', 'gelu', 'relu'] as const;

/** The `ctrl_t` word; the testbench mutates it in place between cycles. */
export interface CtrlI {
  start: number;
  layer: number;
  activation: number;
  /** Eight entries each: Q K V QK AV OW F1 F2. */
  eps_mult: Int32Array;
  right_shift: Int32Array;
  add: Int32Array;
  gelu_b: number;
  gelu_c: number;
  activation_requant_mult: number;
  activation_requant_shift: number;
  activation_requant_add: number;
  tile_s: number;
  tile_e: number;
  tile_p: number;
  tile_f: number;
}

export function newCtrl(): CtrlI {
  return {
    start: 0,
    layer: 0,
    activation: 0,
    eps_mult: new Int32Array(8),
    right_shift: new Int32Array(8),
    add: new Int32Array(8),
    gelu_b: 0,
    gelu_c: 0,
    activation_requant_mult: 0,
    activation_requant_shift: 0,
    activation_requant_add: 0,
    tile_s: 1,
    tile_e: 1,
    tile_p: 1,
    tile_f: 1,
  };
}
