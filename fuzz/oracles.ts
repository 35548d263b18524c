/**
 * Independent oracles of ITA's arithmetic units, written in BigInt straight from the RTL's
 * declared widths (src/ita_requantizer.sv, ita_gelu.sv, ita_relu.sv, ita_softmax.sv,
 * ita_max_finder.sv, ita_serdiv.sv). They share nothing with `rtl-model/ref` or the bit helpers on
 * purpose: the properties in `fuzz/properties.ts` check one against the other.
 */

/** Two's complement wrap of x to w bits. */
function wrap(x: bigint, w: number): bigint {
  return BigInt.asIntN(w, x);
}

/** Bit b of x (two's complement), 0 when b is outside [0, w) of a w-bit signal (SV reads X there). */
function bitOf(x: bigint, b: number, w: number): bigint {
  if (b < 0 || b >= w) return 0n;
  return (BigInt.asUintN(w, x) >> BigInt(b)) & 1n;
}

/**
 * The requantiser (ita_requantizer.sv): a 9-bit positive multiplier times the 27-bit
 * sign- or zero-extended accumulator gives a 35-bit product; arithmetic right shift, plus the bit
 * shifted out last (when it exists); then the int8 add and saturation to int8, decided on bits
 * [33:7] of the 35-bit sum.
 */
export function requantOracle(x: number, mult: number, shift: number, add: number, unsigned = false): number {
  const WO = 26;
  const EMS = 8;
  const in27 = unsigned ? BigInt.asUintN(WO, BigInt(x)) : wrap(BigInt(x), WO);
  const product = wrap(BigInt(mult & 0xff) * in27, EMS + WO + 1); // 35 bits
  let shifted = product >> BigInt(shift);
  if (shift > 0 && bitOf(product, shift - 1, EMS + WO + 1) === 1n) shifted += 1n;
  shifted = wrap(shifted, EMS + WO); // stored in 34 bits
  const sum = wrap(shifted + BigInt(wrap(BigInt(add), 8)), EMS + WO + 1);
  const sign = bitOf(sum, EMS + WO - 1, EMS + WO + 1);
  // bits [32:7]
  const mid = (BigInt.asUintN(EMS + WO + 1, sum) >> 7n) & ((1n << 26n) - 1n);
  if (sign === 0n && mid !== 0n) return 127;
  if (sign === 1n && mid !== (1n << 26n) - 1n) return -128;
  return Number(wrap(sum, 8));
}

/**
 * The GELU unit (ita_gelu.sv) on one int8 input, before the activation requantiser: 16-bit
 * constants b and c, |x| clipped at -b, (clipped + b)^2 + c in 26 bits, sign applied, c added,
 * times x, all 26-bit wide.
 */
export function geluUnitOracle(x: number, b: number, c: number): number {
  const W = 16;
  const WOUT = 26;
  const xb = wrap(BigInt(x), 8);
  const bb = wrap(BigInt(b), W);
  const cb = wrap(BigInt(c), W);
  const neg = xb < 0n;
  const abs = wrap(neg ? -xb : xb, W);
  const negB = wrap(-bb, W);
  const clipped = abs > negB ? negB : abs;
  const poly = wrap(clipped + bb, W);
  const polySq = wrap(poly * poly, WOUT);
  const erfL = wrap(polySq + cb, WOUT);
  const erf = neg ? wrap(-erfL, WOUT) : erfL;
  const sum = wrap(erf + cb, WOUT);
  return Number(wrap(xb * sum, WOUT));
}

/** The activation path of ita_activation.sv for one element: GELU / ReLU, then the requantiser. */
export function activationOracle(
  x: number,
  kind: 'identity' | 'relu' | 'gelu',
  g: { b: number; c: number; rqsMul: number; rqsShift: number; rqsAdd: number },
): number {
  if (kind === 'identity') return x;
  const pre = kind === 'gelu' ? geluUnitOracle(x, g.b, g.c) : Math.max(x, 0);
  return requantOracle(pre, g.rqsMul, g.rqsShift, g.rqsAdd);
}

/**
 * ITAMax on one row of int8 values (length a multiple of 16), as the RTL computes it:
 * per 16-column group, the running maximum (initially -128 for the first group), each element
 * contributes 256 >> (max - x) to a 19-bit sum, the previous sum is shifted right by the growth of
 * the maximum; the divider computes floor(65280 / sum); each output is (inverse >> (max - x)) kept
 * to 8 bits.
 */
export function itaMaxRowOracle(row: readonly number[]): number[] {
  const ACC = 19;
  let max = -128n;
  let sum = 0n;
  for (let g = 0; g < row.length; g += 16) {
    const group = row.slice(g, g + 16).map((v) => wrap(BigInt(v), 8));
    const groupMax = group.reduce((m, v) => (v > m ? v : m), -128n);
    const newMax = groupMax > max ? groupMax : max;
    let part = 0n;
    for (const v of group) {
      const d = BigInt.asUintN(8, newMax - v);
      part += d >= 9n ? 0n : 256n >> d;
    }
    const growth = BigInt.asUintN(8, newMax - max);
    const prev = g === 0 ? 0n : growth >= BigInt(ACC) ? 0n : sum >> growth;
    sum = BigInt.asUintN(ACC, prev + part);
    max = newMax;
  }
  const inverse = sum === 0n ? (1n << 20n) - 1n : 65280n / sum;
  const invAcc = BigInt.asUintN(ACC, inverse);
  return row.map((v) => {
    const d = BigInt.asUintN(8, max - wrap(BigInt(v), 8));
    return Number(BigInt.asUintN(8, d >= BigInt(ACC) ? 0n : invAcc >> d));
  });
}
