/**
 * Width arithmetic. This is the only module that sign-extends, truncates, saturates or shifts with
 * rounding; everything else calls it. All helpers work on JavaScript numbers that hold integers
 * (exact up to 2^53), so widths up to 52 bits are supported. Shifts and masks of values that may
 * exceed 32 bits use arithmetic (division by powers of two), never the 32-bit bitwise operators.
 */

const POW2: number[] = Array.from({ length: 54 }, (_, i) => 2 ** i);

function checkWidth(w: number): void {
  if (!Number.isInteger(w) || w < 1 || w > 52) throw new RangeError(`bit width ${w} outside 1..52`);
}

/** 2^w as a number. */
export function pow2(w: number): number {
  return POW2[w] ?? 2 ** w;
}

/** Low w bits of x, read as an unsigned number (two's complement wrap for negatives). */
export function truncU(x: number, w: number): number {
  // ToInt32 reduces any safe integer modulo 2^32 exactly, so the bitwise path is exact up to 32 bits.
  if (w <= 31) return x & (POW2[w]! - 1);
  if (w === 32) return x >>> 0;
  checkWidth(w);
  const m = POW2[w]!;
  const r = x % m;
  return r < 0 ? r + m : r + 0; // `+ 0` turns -0 into 0
}

/** Low w bits of x, read as a signed two's complement number (what a w-bit signal holds). */
export function wrapS(x: number, w: number): number {
  const u = truncU(x, w);
  return u >= POW2[w - 1]! ? u - POW2[w]! : u;
}

/** Sign-extends the low w bits of x (an alias of wrapS that reads as the RTL's `$signed`). */
export const sext = wrapS;

/** Smallest and largest value of a signed w-bit number. */
export function minS(w: number): number {
  return -POW2[w - 1]!;
}
export function maxS(w: number): number {
  return POW2[w - 1]! - 1;
}
export function maxU(w: number): number {
  return POW2[w]! - 1;
}

/** Saturates x to the signed w-bit range. */
export function satS(x: number, w: number): number {
  const lo = -POW2[w - 1]!;
  const hi = POW2[w - 1]! - 1;
  return x < lo ? lo : x > hi ? hi : x;
}

/** Saturates x to the unsigned w-bit range. */
export function satU(x: number, w: number): number {
  const hi = POW2[w]! - 1;
  return x < 0 ? 0 : x > hi ? hi : x;
}

/** Arithmetic right shift (floor division by 2^s), exact for any safe integer. */
export function sra(x: number, s: number): number {
  if (s === 0) return x + 0;
  if (s < 31 && x >= -0x80000000 && x <= 0x7fffffff) return x >> s;
  // Past 2^53 every safe integer shifts down to its sign.
  if (s > 53) return x < 0 ? -1 : 0;
  return Math.floor(x / POW2[s]!) + 0; // `+ 0` turns -0 into 0
}

/**
 * Arithmetic right shift rounded half up: the last bit shifted out is added back, i.e.
 * floor(x / 2^s + 1/2). This is how ITA's requantiser and softmax round.
 */
export function sraRound(x: number, s: number): number {
  if (s === 0) return x + 0;
  return sra(sra(x, s - 1) + 1, 1);
}

/**
 * `x >>> s` rounded half up as a `width`-bit signal x rounds in SystemVerilog:
 * `(x >>> s) + x[s-1]`, where the bit select reads nothing (no rounding) once s - 1 is past the
 * signal's top bit. Below that it equals `sraRound`.
 */
export function sraRoundIn(x: number, s: number, width: number): number {
  return s <= width ? sraRound(x, s) : sra(x, s);
}

/** Bit b of x (x may be negative: two's complement view). */
export function bit(x: number, b: number): number {
  return sra(x, b) & 1;
}
