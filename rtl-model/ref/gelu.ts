/**
 * ITA's activation unit (`ita_activation.sv`, `ita_gelu.sv`, `ita_relu.sv`), untimed. Both
 * non-identity activations end in the activation requantiser (same RTL as the main requantiser).
 *
 * Integer GELU (I-BERT's polynomial, 16-bit constants, 26-bit products), as the RTL computes it:
 *   erf   = sign(x) * ((min(|x|, -b) + b)^2 + c)     (sign taken as + for x = 0)
 *   gelu  = x * (erf + c)
 * PyITA writes `x * (erf + one)`, clips x to -127 and uses sign(0) = 0; with its constants
 * (one = c) these give the same value for every int8 input (see the test).
 */
import type { GeluConstants } from '../../golden/types.ts';
import { wrapS } from '../sim/bits.ts';
import { requantize, requantizePyIta } from './requant.ts';

/** Width of the GELU constants (GELU_CONSTANTS_WIDTH). */
export const GELU_CONST_WIDTH = 16;
/** Width of the GELU datapath and its output (GELU_OUT_WIDTH). */
export const GELU_OUT_WIDTH = 26;

/** The RTL's integer GELU of an int8 value, before requantisation (26-bit signed). */
export function geluRaw(x: number, b: number, c: number): number {
  const negative = x < 0;
  const abs = wrapS(negative ? -x : x, GELU_CONST_WIDTH);
  const limit = wrapS(-b, GELU_CONST_WIDTH);
  const clipped = abs > limit ? limit : abs;
  const poly = wrapS(clipped + b, GELU_CONST_WIDTH);
  const square = wrapS(poly * poly, GELU_OUT_WIDTH);
  const erfL = wrapS(square + c, GELU_OUT_WIDTH);
  const erf = negative ? wrapS(-erfL, GELU_OUT_WIDTH) : erfL;
  const sum = wrapS(erf + c, GELU_OUT_WIDTH);
  return wrapS(x * sum, GELU_OUT_WIDTH);
}

/** GELU followed by the activation requantiser, as the RTL computes it (int8 in, int8 out). */
export function geluRequantized(x: number, g: GeluConstants): number {
  return requantize(geluRaw(x, g.b, g.c), g.rqsMul, g.rqsShift, g.rqsAdd);
}

/** ReLU followed by the activation requantiser (int8 in, int8 out). */
export function reluRequantized(x: number, g: GeluConstants): number {
  return requantize(x > 0 ? x : 0, g.rqsMul, g.rqsShift, g.rqsAdd);
}

/** PyITA's formulation of the requantised GELU (`i_gelu_requantized`), for cross-checks only. */
export function geluRequantizedPyIta(x: number, g: GeluConstants): number {
  const q = Math.max(x, -127);
  const abs = Math.min(Math.abs(q), -g.b);
  const poly = abs + g.b;
  const erf = Math.sign(q) * (poly * poly + g.c);
  return requantizePyIta(q * (erf + g.one), g.rqsMul, g.rqsShift, g.rqsAdd);
}
