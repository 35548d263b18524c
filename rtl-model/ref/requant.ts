/**
 * ITA's requantiser (`ita_requantizer.sv`): a 26-bit accumulator value is multiplied by an 8-bit
 * unsigned factor, shifted right arithmetically with rounding half up (the last bit shifted out is
 * added back), offset by a signed 8-bit add and saturated to int8.
 */
import { satS, sraRoundIn } from '../sim/bits.ts';

/** Width of the accumulator the requantiser reads (WO). */
export const ACC_WIDTH = 26;

/** Width of the requantiser's product, {1'b0, mult} x the 27-bit operand (EMS + WO + 1). */
export const PRODUCT_WIDTH = 35;

/**
 * The RTL's requantisation of one accumulator value `x` (signed, 26 bits): the 35-bit product
 * `mult * x`, `>>> shift` rounded half up, plus `add`, saturated to [-128, 127].
 * `mult` 0..255, `shift` 0..255 (8 bits), `add` -128..127. The rounding bit is
 * `product[shift - 1]`; for shifts past the product's width that bit does not exist and nothing
 * is added, so a negative product shifts down to -1, not 0.
 */
export function requantize(x: number, mult: number, shift: number, add: number): number {
  return satS(sraRoundIn(mult * x, shift, PRODUCT_WIDTH) + add, 8);
}

/** float32 machine epsilon (2^-23), which PyITA adds before flooring. */
const F32_EPS = 2 ** -23;

/**
 * PyITA's floating-point formulation (`util.requantize`, `gelu.gelu_requantize`):
 * floor(mult * x / 2^shift + add + 0.5 + eps_f32), clipped to int8. It equals the RTL's except
 * where the fractional part of mult * x / 2^shift lies in [1/2 - 2^-23, 1/2), which needs
 * shift >= 23 (PyITA then rounds up, the RTL down; see the test of this module).
 */
export function requantizePyIta(x: number, mult: number, shift: number, add: number): number {
  return satS(Math.floor((mult * x) / 2 ** shift + add + 0.5 + F32_EPS), 8);
}

/** One requantisation constant set (multiplier, right shift, add). */
export interface Requant {
  mult: number;
  shift: number;
  add: number;
}

/**
 * Requantises every element of `acc` into `out` (which may be `acc`). For shifts up to the
 * product's width the rounding shift is done in doubles: with |product| < 2^35 every step below
 * (scaling by a power of two, adding 1, halving, flooring) is exact, and
 * floor((floor(p / 2^(s-1)) + 1) / 2) is `sraRound(p, s)`. Wider shifts take `requantize`.
 */
export function requantizeArray(
  acc: Int32Array,
  rq: Requant,
  out: Int32Array = new Int32Array(acc.length),
): Int32Array {
  const { mult, shift, add } = rq;
  const n = acc.length;
  if (shift < 1 || shift > PRODUCT_WIDTH) {
    for (let i = 0; i < n; i++) out[i] = requantize(acc[i]!, mult, shift, add);
    return out;
  }
  const scale = 2 ** -(shift - 1);
  for (let i = 0; i < n; i++) {
    const v = Math.floor((Math.floor(mult * acc[i]! * scale) + 1) * 0.5) + add;
    out[i] = v < -128 ? -128 : v > 127 ? 127 : v;
  }
  return out;
}
