/**
 * numpy's legacy `RandomState` (the generator behind `np.random.seed` / `np.random.*`), reproduced
 * bit for bit for the draws PyITA makes:
 *
 * - MT19937 seeded with one 32-bit integer. `np.random.seed(n)` for a plain integer n takes
 *   numpy's `mt19937_seed` path: Knuth's linear recurrence over the 624 state words (the
 *   reference `init_genrand`), not `init_by_array` (that one is used only for array seeds).
 * - `randomSample`: 53-bit doubles from two 32-bit words (27 high bits, then 26).
 * - `gauss`: the legacy polar Box-Muller method; each accepted pair yields two values, the second
 *   one is cached and returned by the next call. Seeding clears the cache.
 * - `standardCauchy`: the legacy ratio of two Gaussians, numerator drawn first.
 * - `randint(low, high, size, dtype)`: numpy's legacy bounded integers: a closed range
 *   [low, high - 1], the smallest all-ones mask covering it and rejection of masked values beyond
 *   the range. 8- and 16-bit dtypes slice each 32-bit word into 4 (or 2) chunks, low bits first;
 *   the buffer lives for one call only (every `randint` call starts on a fresh word).
 *
 * The arithmetic is IEEE double in the same order as numpy's C code. `sqrt` is exact in both
 * languages; `log` is not: `Math.log` differs from the C library numpy calls (glibc) by one unit
 * in the last place on about 4% of arguments. `logCorrectlyRounded` below computes the correctly
 * rounded logarithm instead, which equals glibc's everywhere except where glibc itself misrounds
 * (its documented bound is 0.519 units; measured: 274 of 500,000 arguments, see the tests). Such
 * a one-unit difference in a Gaussian changes an integer PyITA draws only if the scaled Cauchy
 * value lies within about 1e-14 of an integer, which the tests never met in a million draws.
 */

import { F64, I32, ensureMemory, instantiate, op } from '../rtl-model/wasm.ts';
import type { Code, WasmFunction, WasmMemory } from '../rtl-model/wasm.ts';

/** Relative distance within which an estimated Cauchy value is formed again exactly (2^-40). */
const NEAR = 2 ** -40;

/** Number of 32-bit words in the MT19937 state. */
const N = 624;
/** Twist offset. */
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** Integer dtypes `randint` supports, with numpy's names. */
export type IntDType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64';

/** The typed array `randint` returns for each dtype (int64 values are safe integers in doubles). */
export interface IntDTypeArray {
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: Float64Array;
}

interface DTypeInfo {
  bits: 8 | 16 | 32 | 64;
  signed: boolean;
  make: (n: number) => ArrayLike<number> & { [i: number]: number; set(values: ArrayLike<number>): void };
}

const DTYPES: Record<IntDType, DTypeInfo> = {
  int8: { bits: 8, signed: true, make: (n) => new Int8Array(n) },
  uint8: { bits: 8, signed: false, make: (n) => new Uint8Array(n) },
  int16: { bits: 16, signed: true, make: (n) => new Int16Array(n) },
  uint16: { bits: 16, signed: false, make: (n) => new Uint16Array(n) },
  int32: { bits: 32, signed: true, make: (n) => new Int32Array(n) },
  uint32: { bits: 32, signed: false, make: (n) => new Uint32Array(n) },
  int64: { bits: 64, signed: true, make: (n) => new Float64Array(n) },
};

/** The smallest value of the form 2^k - 1 that is >= v (numpy's `gen_mask`), for v < 2^53. */
function genMask(v: number): number {
  let m = 1;
  while (m - 1 < v) m *= 2;
  return m - 1;
}

export class RandomState {
  /** MT19937 state words. */
  private readonly key = new Uint32Array(N);
  /** Index of the next state word to temper; N means the state must be regenerated first. */
  private pos = N;
  private hasGauss = false;
  private gaussCache = 0;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** `np.random.seed(seed)` for an integer seed in [0, 2^32 - 1]. */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`Seed must be between 0 and 2**32 - 1, got ${seed}`);
    }
    const key = this.key;
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      key[i] = s;
      s = (Math.imul(1812433253, (s ^ (s >>> 30)) >>> 0) + i + 1) >>> 0;
    }
    this.pos = N;
    this.hasGauss = false;
    this.gaussCache = 0;
  }

  /** Regenerates all N state words (the "twist"); `-(y & 1) & MATRIX_A` is MATRIX_A for odd y, else 0. */
  private twist(): void {
    const key = this.key;
    let i = 0;
    let y: number;
    for (; i < N - M; i++) {
      y = (key[i]! & UPPER_MASK) | (key[i + 1]! & LOWER_MASK);
      key[i] = key[i + M]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; i < N - 1; i++) {
      y = (key[i]! & UPPER_MASK) | (key[i + 1]! & LOWER_MASK);
      key[i] = key[i + M - N]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    y = (key[N - 1]! & UPPER_MASK) | (key[0]! & LOWER_MASK);
    key[N - 1] = key[M - 1]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.pos = 0;
  }

  /** The next raw 32-bit output (tempered state word). */
  nextUint32(): number {
    if (this.pos === N) this.twist();
    let y = this.key[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits (`np.random.random_sample()`). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** A standard normal value by the legacy polar method (`np.random.standard_normal()`). */
  gauss(): number {
    if (this.hasGauss) {
      const g = this.gaussCache;
      this.hasGauss = false;
      this.gaussCache = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2.0 * this.randomSample() - 1.0;
      x2 = 2.0 * this.randomSample() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    const f = Math.sqrt((-2.0 * logCorrectlyRounded(r2)) / r2);
    this.gaussCache = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** A standard Cauchy value (`np.random.standard_cauchy()`): one Gaussian over the next. */
  standardCauchy(): number {
    const num = this.gauss();
    return num / this.gauss();
  }

  /**
   * Fills `out` with `np.random.standard_cauchy(size=out.length)` in C order. With no Gaussian
   * cached (the usual case: every Cauchy value takes both values of one polar pair), the words,
   * samples and pairs are formed inline, in exactly the order and arithmetic of
   * `randomSample`, `gauss` and `standardCauchy`.
   */
  standardCauchyFill(out: Float64Array): Float64Array {
    if (this.hasGauss) {
      for (let i = 0; i < out.length; i++) out[i] = this.standardCauchy();
      return out;
    }
    this.polarPairs(out.length, (x1, x2, r2, i) => {
      const f = Math.sqrt((-2.0 * logCorrectlyRounded(r2)) / r2);
      // The pair's second value is returned first (the numerator), its first one is the cached
      // value the next call returns (the denominator).
      out[i] = (f * x2) / (f * x1);
    });
    return out;
  }

  /**
   * Fills `out` with `np.clip(np.random.standard_cauchy(size=out.length) * mul, lo, hi)` cast to
   * integers (truncated toward zero, as `clipTrunc`), for a power of two `mul`. Each draw is first
   * formed with `Math.log`, which is within one unit in the last place of the correctly rounded
   * logarithm; that moves the Cauchy value by a relative 2^-49 at most. When every value within a
   * relative 2^-40 of that estimate clips and truncates to the same integer (almost always), that
   * integer is the result; otherwise the draw is formed again exactly as `standardCauchyFill`
   * forms it. The generator's state advances exactly as for `standardCauchyFill`.
   */
  standardCauchyClipTrunc(out: Int32Array, mul: number, lo: number, hi: number): Int32Array {
    if (this.hasGauss) {
      for (let i = 0; i < out.length; i++) out[i] = clipTrunc(this.standardCauchy() * mul, lo, hi);
      return out;
    }
    const k = getCauchyKernel();
    if (k) {
      this.pos = cauchyOnKernel(k, this.key, this.pos, out, mul, lo, hi);
      return out;
    }
    this.polarPairs(out.length, (x1, x2, r2, i) => {
      let f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
      let v = ((f * x2) / (f * x1)) * mul;
      const below = clipTrunc(v * (1 - NEAR), lo, hi);
      if (below !== clipTrunc(v * (1 + NEAR), lo, hi)) {
        f = Math.sqrt((-2.0 * logCorrectlyRounded(r2)) / r2);
        v = ((f * x2) / (f * x1)) * mul;
        out[i] = clipTrunc(v, lo, hi);
      } else out[i] = below;
    });
    return out;
  }

  /**
   * Draws `count` polar pairs as `gauss` draws them with no Gaussian cached (`randomSample` for
   * x1, then x2, again until 0 < r2 < 1), the words tempered inline, and hands each to `each`
   * with its index.
   */
  private polarPairs(count: number, each: (x1: number, x2: number, r2: number, i: number) => void): void {
    const key = this.key;
    let pos = this.pos;
    const word = (): number => {
      if (pos === N) {
        this.twist();
        pos = 0;
      }
      let y = key[pos++]!;
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      return y >>> 0;
    };
    for (let i = 0; i < count; i++) {
      let x1: number;
      let x2: number;
      let r2: number;
      do {
        const a1 = word() >>> 5;
        const b1 = word() >>> 6;
        x1 = 2.0 * ((a1 * 67108864.0 + b1) / 9007199254740992.0) - 1.0;
        const a2 = word() >>> 5;
        const b2 = word() >>> 6;
        x2 = 2.0 * ((a2 * 67108864.0 + b2) / 9007199254740992.0) - 1.0;
        r2 = x1 * x1 + x2 * x2;
      } while (r2 >= 1.0 || r2 === 0.0);
      each(x1, x2, r2, i);
    }
    this.pos = pos;
  }

  /** Fills `out` with `np.random.random_sample(size=out.length)`. */
  randomSampleFill(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.randomSample();
    return out;
  }

  /**
   * `np.random.randint(low, high, size, dtype)`: `size` values (the product of numpy's shape)
   * uniform in [low, high), as numpy's legacy generator draws them. Bounds are checked as numpy
   * does (RangeError with numpy's wording).
   */
  randint<D extends IntDType>(low: number, high: number, size: number, dtype: D): IntDTypeArray[D] {
    const info = DTYPES[dtype];
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) {
      throw new RangeError(`randint bounds must be safe integers, got ${low}, ${high}`);
    }
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`randint size must be >= 0, got ${size}`);
    const out = info.make(size);
    if (size === 0) return out as IntDTypeArray[D];
    const span = 2 ** info.bits;
    const lb = info.signed ? -(span / 2) : 0;
    const ub = info.signed ? span / 2 - 1 : span - 1;
    const top = high - 1; // numpy draws from the closed interval [low, high - 1]
    if (low < lb) throw new RangeError(`low is out of bounds for ${dtype}`);
    if (top > ub) throw new RangeError(`high is out of bounds for ${dtype}`);
    if (low > top) throw new RangeError(`low >= high`);
    const rng = top - low;
    if (rng > Number.MAX_SAFE_INTEGER) throw new RangeError(`randint range beyond 2^53 is not supported`);
    // `off` is low reinterpreted as the unsigned type; results wrap modulo 2^bits, then the typed
    // array reinterprets them as the signed type where needed (the same bits numpy stores).
    const wrap = (v: number): number => (info.bits === 64 ? v : ((v % span) + span) % span);
    const off = info.bits === 64 ? low : wrap(low);
    // Storing off + v into the typed array wraps it modulo 2^bits exactly as wrap() would (int64
    // values are plain numbers).
    const put = (i: number, v: number): void => {
      out[i] = off + v;
    };

    if (rng === 0) {
      for (let i = 0; i < size; i++) put(i, 0);
    } else if ((info.bits === 8 || info.bits === 16) && size <= KERNEL_CHUNK && getCauchyKernel()) {
      const chunkMask = info.bits === 8 ? 0xff : 0xffff;
      const mask = rng === chunkMask ? chunkMask : genMask(rng);
      this.pos = randsubOnKernel(
        getCauchyKernel()!,
        this.key,
        this.pos,
        out,
        size,
        info.bits,
        mask,
        rng,
        off,
      );
    } else if (info.bits === 8 || info.bits === 16) {
      // Sub-word values come from one buffered 32-bit word, low chunk first.
      const chunks = 32 / info.bits;
      const chunkMask = info.bits === 8 ? 0xff : 0xffff;
      const mask = rng === chunkMask ? chunkMask : genMask(rng);
      let buf = 0;
      let left = 0;
      for (let i = 0; i < size; i++) {
        let v: number;
        do {
          if (left === 0) {
            buf = this.nextUint32();
            left = chunks - 1;
          } else {
            buf >>>= info.bits;
            left--;
          }
          v = buf & mask;
        } while (v > rng);
        put(i, v);
      }
    } else if (rng <= 0xffffffff) {
      // 32-bit values (also 64-bit dtypes whose range fits in 32 bits): one word per try.
      const mask = rng === 0xffffffff ? 0xffffffff : genMask(rng);
      for (let i = 0; i < size; i++) {
        let v: number;
        do v = (this.nextUint32() & mask) >>> 0;
        while (v > rng);
        put(i, v);
      }
    } else {
      // 64-bit values: high word first, then low word.
      const mask = genMask(rng);
      const maskHi = Math.floor(mask / 0x100000000);
      for (let i = 0; i < size; i++) {
        let v: number;
        do {
          const hi = (this.nextUint32() & maskHi) >>> 0;
          const lo = this.nextUint32();
          v = hi * 0x100000000 + lo;
        } while (v > rng);
        put(i, v);
      }
    }
    return out as IntDTypeArray[D];
  }
}

// ---------------------------------------------------------------------------------------------
// `standardCauchyClipTrunc` on WebAssembly: the same words, samples and arithmetic (IEEE doubles
// in the same order; `Math.log` imported), so it runs at full speed from its first draw. Memory:
// the MT19937 state words from KEY, the next word's index at POS (kept in a local while drawing),
// the pair (x1, x2) of a draw to be formed exactly at X1 / X2, the output values from OUT.

const KEY = 0;
const POS = 4 * N;
const X1 = POS + 8;
const X2 = X1 + 8;
const OUT = 4096;
/** Most values drawn into the module's memory at a time (4 MB; its memory never shrinks). */
const KERNEL_CHUNK = 1 << 20;

/**
 * Functions after the `log` import (index 0): `twist()` (1); `randsub(n, bits, mask, rng, off)`
 * (2): `randint`'s 8- and 16-bit draws into OUT; `cauchy(start, n, mul, lo, hi)` (3):
 * draws start..n-1 into OUT as `standardCauchyClipTrunc` does with `Math.log`, and returns n, or
 * the index of the first draw whose value must be formed exactly (its x1, x2 left at X1, X2; that
 * draw is complete otherwise).
 */
function cauchyFunctions(): WasmFunction[] {
  const { get, set, tee } = op;
  const LOG = 0;
  const TWIST = 1;
  const signed = (u: number) => u | 0;
  // twist: i 0 (byte address of key[i]), y 1. key[i] = key[j] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A)
  // with y = (key[i] & UPPER) | (key[i + 1] & LOWER) (key[0] for i = N - 1).
  const step = (next: Code, from: Code) => [
    [get(0), op.i32Load(KEY), op.i32(signed(UPPER_MASK)), op.i32And],
    [next, op.i32Load(KEY), op.i32(LOWER_MASK), op.i32And, op.i32Or, set(1)],
    get(0),
    [from, op.i32Load(KEY), get(1), op.i32(1), op.i32ShrU, op.i32Xor],
    [op.i32(0), get(1), op.i32(1), op.i32And, op.i32Sub, op.i32(signed(MATRIX_A))],
    [op.i32And, op.i32Xor, op.i32Store(KEY)],
  ];
  const twist = [
    [op.i32(0), set(0)],
    op.loop,
    step([get(0), op.i32(4), op.i32Add], [get(0), op.i32(4 * M), op.i32Add]),
    [get(0), op.i32(4), op.i32Add, tee(0), op.i32(4 * (N - M)), op.i32LtU, op.brIf(0)],
    op.end,
    op.loop,
    step([get(0), op.i32(4), op.i32Add], [get(0), op.i32(4 * (M - N)), op.i32Add]),
    [get(0), op.i32(4), op.i32Add, tee(0), op.i32(4 * (N - 1)), op.i32LtU, op.brIf(0)],
    op.end,
    step(op.i32(0), op.i32(4 * (M - 1))),
  ];
  // cauchy: start 0 (then i), n 1, mul 2, lo 3, hi 4; x1 5, x2 6, r2 7, f 8, v 9, below 10,
  // t 11 (f64); pos 12 (byte address of the next state word), y 13 (i32)
  const POS_L = 12;
  const Y = 13;
  // The next tempered word on the stack (the state regenerated when all N words are used).
  const word = [
    [get(POS_L), op.i32(4 * N), op.i32Eq],
    op.if,
    [op.call(TWIST), op.i32(0), set(POS_L)],
    op.end,
    [get(POS_L), op.i32Load(KEY), set(Y), get(POS_L), op.i32(4), op.i32Add, set(POS_L)],
    [get(Y), get(Y), op.i32(11), op.i32ShrU, op.i32Xor, set(Y)],
    [get(Y), get(Y), op.i32(7), op.i32Shl, op.i32(signed(0x9d2c5680)), op.i32And],
    [op.i32Xor, set(Y)],
    [get(Y), get(Y), op.i32(15), op.i32Shl, op.i32(signed(0xefc60000)), op.i32And],
    [op.i32Xor, set(Y)],
    [get(Y), get(Y), op.i32(18), op.i32ShrU, op.i32Xor],
  ];
  // 2.0 * ((a * 2^26 + b) / 2^53) - 1.0 with a = word >>> 5, b = word >>> 6 (a drawn first);
  // the division by 2^53 as the (identical) multiplication by 2^-53
  const sample = [
    [word, op.i32(5), op.i32ShrU, op.f64ConvertI32U, op.f64(67108864), op.f64Mul],
    [word, op.i32(6), op.i32ShrU, op.f64ConvertI32U, op.f64Add],
    [op.f64(2 ** -53), op.f64Mul, set(11), op.f64(2), get(11), op.f64Mul],
    [op.f64(1), op.f64Sub],
  ];
  // clip(t, lo, hi) truncated, of the value on the stack: t < lo ? lo : t > hi ? hi : t
  const clipTruncated = [
    [set(11), get(3), get(4), get(11), get(11), get(4), op.f64Gt, op.select],
    [get(11), get(3), op.f64Lt, op.select, op.f64Trunc],
  ];
  const savePos = [op.i32(POS), get(POS_L), op.i32(2), op.i32ShrU, op.i32Store()];
  const cauchy = [
    [op.i32(POS), op.i32Load(), op.i32(2), op.i32Shl, set(POS_L)],
    op.block,
    op.loop,
    [get(0), get(1), op.i32GeU, op.brIf(1)],
    op.loop,
    [sample, set(5), sample, set(6)],
    [get(5), get(5), op.f64Mul, get(6), get(6), op.f64Mul, op.f64Add, tee(7)],
    [op.f64(1), op.f64Ge, get(7), op.f64(0), op.f64Eq, op.i32Or, op.brIf(0)],
    op.end,
    [op.f64(-2), get(7), op.call(LOG), op.f64Mul, get(7), op.f64Div, op.f64Sqrt, set(8)],
    [get(8), get(6), op.f64Mul, get(8), get(5), op.f64Mul, op.f64Div, get(2)],
    [op.f64Mul, set(9)],
    [get(9), op.f64(1 - NEAR), op.f64Mul, clipTruncated, set(10)],
    [get(9), op.f64(1 + NEAR), op.f64Mul, clipTruncated, get(10), op.f64Eq],
    op.if,
    [get(0), op.i32(2), op.i32Shl, get(10), op.i32TruncF64S, op.i32Store(OUT)],
    op.else,
    [op.i32(X1), get(5), op.f64Store(), op.i32(X2), get(6), op.f64Store()],
    [savePos, get(0), op.return],
    op.end,
    [get(0), op.i32(1), op.i32Add, set(0), op.br(0)],
    op.end,
    op.end,
    [savePos, get(1)],
  ];
  // randsub: n 0, bits 1, mask 2, rng 3, off 4; i 5, left 6, buf 7, v 8, chunks 9; pos and y at
  // POS_L and Y as in cauchy. numpy's sub-word draws: each 32-bit word sliced into chunks of
  // `bits`, low chunk first, each masked and rejected above rng; off + v stored as int32.
  const randsub = [
    [op.i32(POS), op.i32Load(), op.i32(2), op.i32Shl, set(POS_L)],
    [op.i32(32), get(1), op.i32DivU, set(9), op.i32(0), set(5), op.i32(0), set(6)],
    op.block,
    op.loop,
    [get(5), get(0), op.i32GeU, op.brIf(1)],
    op.loop,
    [get(6), op.i32Eqz],
    op.if,
    [word, set(7), get(9), op.i32(1), op.i32Sub, set(6)],
    op.else,
    [get(7), get(1), op.i32ShrU, set(7), get(6), op.i32(1), op.i32Sub, set(6)],
    op.end,
    [get(7), get(2), op.i32And, tee(8), get(3), op.i32GtU, op.brIf(0)],
    op.end,
    [get(5), op.i32(2), op.i32Shl, get(4), get(8), op.i32Add, op.i32Store(OUT)],
    [get(5), op.i32(1), op.i32Add, set(5), op.br(0)],
    op.end,
    op.end,
    savePos,
  ];
  return [
    { name: 'twist', params: [], results: [], locals: [[I32, 2]], code: twist },
    { name: 'randsub', params: [I32, I32, I32, I32, I32], results: [], locals: [[I32, 9]], code: randsub },
    {
      name: 'cauchy',
      params: [I32, I32, F64, F64, F64],
      results: [I32],
      locals: [
        [F64, 7],
        [I32, 2],
      ],
      code: cauchy,
    },
  ];
}

interface CauchyKernel {
  cauchy(start: number, n: number, mul: number, lo: number, hi: number): number;
  randsub(n: number, bits: number, mask: number, rng: number, off: number): void;
  mem: WasmMemory;
}

/** The kernel (undefined until first used; null where WebAssembly is missing). */
let cauchyKernel: CauchyKernel | null | undefined;

function getCauchyKernel(): CauchyKernel | null {
  if (cauchyKernel === undefined)
    cauchyKernel = instantiate<CauchyKernel>(cauchyFunctions(), 1, [
      { name: 'log', params: [F64], results: [F64], fn: Math.log },
    ]);
  return cauchyKernel;
}

/**
 * `standardCauchyClipTrunc` on the kernel from state (`key`, `pos`), which it advances; returns
 * the new `pos`. A draw the kernel leaves open is formed exactly here, as the JavaScript path
 * forms it.
 */
function cauchyOnKernel(
  k: CauchyKernel,
  key: Uint32Array,
  pos: number,
  out: Int32Array,
  mul: number,
  lo: number,
  hi: number,
): number {
  new Uint32Array(k.mem.buffer, KEY, N).set(key);
  new Int32Array(k.mem.buffer, POS, 1)[0] = pos;
  // In chunks, so that the module's memory (which never shrinks) stays small.
  for (let from = 0; from < out.length; from += KERNEL_CHUNK) {
    const n = Math.min(KERNEL_CHUNK, out.length - from);
    ensureMemory(k.mem, OUT + 4 * n);
    for (let i = k.cauchy(0, n, mul, lo, hi); i < n; i = k.cauchy(i + 1, n, mul, lo, hi)) {
      const [x1, x2] = new Float64Array(k.mem.buffer, X1, 2);
      const r2 = x1! * x1! + x2! * x2!;
      const f = Math.sqrt((-2.0 * logCorrectlyRounded(r2)) / r2);
      new Int32Array(k.mem.buffer, OUT, n)[i] = clipTrunc(((f * x2!) / (f * x1!)) * mul, lo, hi);
    }
    out.set(new Int32Array(k.mem.buffer, OUT, n), from);
  }
  key.set(new Uint32Array(k.mem.buffer, KEY, N));
  return new Int32Array(k.mem.buffer, POS, 1)[0]!;
}

/**
 * `randint`'s sub-word draws on the kernel from state (`key`, `pos`), which it advances; returns
 * the new `pos`. Each off + v is stored into `out` (its typed array wraps it to the dtype).
 */
function randsubOnKernel(
  k: CauchyKernel,
  key: Uint32Array,
  pos: number,
  out: { set(values: ArrayLike<number>): void },
  size: number,
  bits: number,
  mask: number,
  rng: number,
  off: number,
): number {
  new Uint32Array(k.mem.buffer, KEY, N).set(key);
  new Int32Array(k.mem.buffer, POS, 1)[0] = pos;
  // (one call: sub-word draws carry their buffered word from value to value; callers pass at
  // most KERNEL_CHUNK values)
  ensureMemory(k.mem, OUT + 4 * size);
  k.randsub(size, bits, mask, rng, off);
  out.set(new Int32Array(k.mem.buffer, OUT, size));
  key.set(new Uint32Array(k.mem.buffer, KEY, N));
  return new Int32Array(k.mem.buffer, POS, 1)[0]!;
}

/**
 * `np.clip(x, lo, hi).astype(intType)` for one value: clip, then truncate toward zero (the C
 * cast numpy performs). The clip bounds keep the value inside the target type.
 */
export function clipTrunc(x: number, lo: number, hi: number): number {
  const c = x < lo ? lo : x > hi ? hi : x;
  return Math.trunc(c) + 0; // + 0 turns -0 into 0
}

// ---------------------------------------------------------------------------------------------
// Correctly rounded natural logarithm.
//
// Fast path: x = 2^e * m with m in [0.748, 1.496); m is matched to the nearest of 96 table points
// 1 + k/128 (k = -32..63) through c_k, the double nearest 1/(1 + k/128), so that
//   log x = e*ln2 - log(c_k) + log1p(r),  r = m*c_k - 1,  |r| < 2^-7.5.
// -log(c_k) and ln2 come from an exact fixed-point evaluation at start-up (double-double), m*c_k
// and r^2 are formed exactly with Dekker products, and the cubic and higher terms of log1p are
// plain doubles (relative error below 2^-69). The double-double sum is then rounded; when it lies
// too close to a rounding midpoint for that error bound (a few arguments per million), the
// logarithm is recomputed in 200-bit fixed point with BigInt.
// ---------------------------------------------------------------------------------------------

/** Fixed-point precision of the exact evaluation (bits after the binary point). */
const FIX = 200n;

/** atanh(num/den) * 2^FIX for 0 <= num/den < 1/2, by its odd power series. */
function atanhFix(num: bigint, den: bigint): bigint {
  const s = (num << FIX) / den;
  const s2 = (s * s) >> FIX;
  let power = s;
  let sum = 0n;
  for (let j = 1n; power !== 0n; j += 2n) {
    sum += power / j;
    power = (power * s2) >> FIX;
  }
  return sum;
}

const LN2_FIX = 2n * atanhFix(1n, 3n);

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** log(x) * 2^FIX for a positive normal double x (error of a few units of 2^-FIX). */
function logFix(x: number): bigint {
  f64[0] = x;
  const hi = u32[1]!;
  let e = ((hi >>> 20) & 0x7ff) - 1023;
  // Significand as an integer: m = sig / 2^52 in [1, 2).
  const sig = (BigInt(hi & 0xfffff) << 32n) | BigInt(u32[0]!) | (1n << 52n);
  const num = sig;
  let den = 1n << 52n;
  if (sig * sig > 2n * den * den) {
    den <<= 1n; // m / 2 in [0.707, 1)
    e += 1;
  }
  // log m = 2 atanh((m - 1) / (m + 1)); the series runs on |t| < 0.172.
  const t = num - den;
  const sign = t < 0n ? -1n : 1n;
  const a = 2n * atanhFix(sign * t, num + den);
  return BigInt(e) * LN2_FIX + sign * a;
}

/** Rounds a fixed-point value to the nearest double. */
function fixToDouble(v: bigint): number {
  return Number(v) * 2 ** -200;
}

/** The double-double pair (hi, lo) nearest a fixed-point value. */
function fixToDD(v: bigint): [number, number] {
  const hi = fixToDouble(v);
  const rest = v - BigInt(hi * 2 ** 200);
  return [hi, Number(rest) * 2 ** -200];
}

const TABLE_LO = -32;
const TABLE_N = 96;
const INV_C = new Float64Array(TABLE_N);
const NEG_LOG_C_HI = new Float64Array(TABLE_N);
const NEG_LOG_C_LO = new Float64Array(TABLE_N);
for (let i = 0; i < TABLE_N; i++) {
  const c = 1 / (1 + (i + TABLE_LO) / 128);
  INV_C[i] = c;
  const [h, l] = c === 1 ? [0, 0] : fixToDD(-logFix(c));
  NEG_LOG_C_HI[i] = h;
  NEG_LOG_C_LO[i] = l;
}
const [LN2_HI_FULL, LN2_LO_FULL] = fixToDD(LN2_FIX);
/** ln2 split so that e * LN2_HI is exact for |e| < 2^11. */
const LN2_HI = Math.round(LN2_HI_FULL * 2 ** 40) * 2 ** -40;
const LN2_LO = LN2_HI_FULL - LN2_HI + LN2_LO_FULL;

const TWO_54 = 2 ** 54;
const TWO_M51 = 2 ** -51;
const TWO_M53 = 2 ** -53;
const TWO_M98 = 2 ** -98;

/** The correctly rounded natural logarithm by the 200-bit evaluation alone (slow; for checks). */
export function logSlow(x: number): number {
  if (!(x > 0) || x === Infinity) return Math.log(x);
  if (x >= 2.2250738585072014e-308) return fixToDouble(logFix(x));
  return fixToDouble(logFix(x * TWO_54) - 54n * LN2_FIX);
}

/** Veltkamp splitting constant for Dekker's exact product. */
const SPLIT = 134217729; // 2^27 + 1

/** The correctly rounded natural logarithm of x (`Math.log` semantics for 0, negatives, NaN, inf). */
export function logCorrectlyRounded(x: number): number {
  if (!(x > 0) || x === Infinity) return Math.log(x);
  const scaled = x < 2.2250738585072014e-308 ? -54 : 0;
  if (scaled) x *= TWO_54; // subnormal: scale into the normal range
  let e = scaled;
  f64[0] = x;
  const hiWord = u32[1]!;
  e += ((hiWord >>> 20) & 0x7ff) - 1023;
  u32[1] = (hiWord & 0xfffff) | 0x3ff00000;
  let m = f64[0]!; // [1, 2)
  if (m >= 1.49609375) {
    m *= 0.5;
    e += 1;
  }
  const k = Math.round((m - 1) * 128);
  const i = k - TABLE_LO;
  const c = INV_C[i]!;

  // p + pe = m * c exactly (Dekker).
  let t = SPLIT * m;
  const mh = t - (t - m);
  const ml = m - mh;
  t = SPLIT * c;
  const ch = t - (t - c);
  const cl = c - ch;
  const p = m * c;
  const pe = mh * ch - p + mh * cl + ml * ch + ml * cl;
  // r = rh + rl = p - 1 + pe (p - 1 is exact).
  const r0 = p - 1;
  const rh = r0 + pe;
  const bb = rh - r0;
  const rl = r0 - (rh - bb) + (pe - bb);

  // rh^2 = sq + sqe exactly.
  t = SPLIT * rh;
  const rhh = t - (t - rh);
  const rhl = rh - rhh;
  const sq = rh * rh;
  const sqe = rhh * rhh - sq + 2 * rhh * rhl + rhl * rhl;
  // log1p(r) = r - r^2/2 + r^3/3 - ...: cubic and higher terms in plain doubles.
  const poly =
    rh *
    sq *
    (1 / 3 +
      rh *
        (-1 / 4 +
          rh * (1 / 5 + rh * (-1 / 6 + rh * (1 / 7 + rh * (-1 / 8 + rh * (1 / 9 + rh * (-1 / 10))))))));
  const small = poly - rh * rl + sq * rl;

  // Sum: e*ln2 + (-log c) + rh + (-sq/2), carrying every rounding error into `lo`.
  const a = e * LN2_HI;
  const b = NEG_LOG_C_HI[i]!;
  let s = a + b;
  let z = s - a;
  let lo = a - (s - z) + (b - z);
  let s2 = s + rh;
  z = s2 - s;
  lo += s - (s2 - z) + (rh - z);
  const h2 = -0.5 * sq;
  s = s2 + h2;
  z = s - s2;
  lo += s2 - (s - z) + (h2 - z);
  lo += e * LN2_LO + NEG_LOG_C_LO[i]! + rl - 0.5 * sqe + small;
  const y = s + lo;
  z = y - s;
  const yl = s - (y - z) + (lo - z);

  // Safe to round to y unless y + yl lies within the error bound of a midpoint between doubles.
  const err = TWO_M51 * Math.abs(rh * sq) + TWO_M98 * (Math.abs(e) + 1);
  // Half a unit in the last place of y: the power of two of y's binade times 2^-53 (y is normal).
  f64[0] = y;
  const yHi = u32[1]!;
  const powerOfTwo = u32[0] === 0 && (yHi & 0xfffff) === 0;
  u32[0] = 0;
  u32[1] = yHi & 0x7ff00000;
  let half = f64[0]! * TWO_M53;
  if (powerOfTwo && yl * y < 0) half *= 0.5; // below a power of two the spacing halves
  s2 = Math.abs(yl) + err;
  if (s2 < half) return y;
  return fixToDouble(logFix(x) + BigInt(scaled) * LN2_FIX);
}
