/**
 * `ita_sumdotp` with its N `ita_dotp` units: N dot products of length M between the (replicated)
 * input row and the N weight rows. `sign_mode_i` = 1 sign-extends the input bytes to 9 bits, 0
 * zero-extends them (the unsigned softmax probabilities in AV). Each unit sums into WO bits.
 *
 * Evaluation: the weights arrive packed two rows per double (`packWeightPair`): row 2k in the low
 * part and row 2k+1 scaled by 2^24. One multiply-add then serves two units; every partial sum is an
 * integer below 2^46 and so exact, and each unit's sum (|s| < 2^21) is recovered exactly. Where
 * WebAssembly SIMD is available and the weights come as a `WeightWord`, the sums are computed on
 * 128-bit integer vectors instead (`dotp_simd.ts`), with the same results. Evaluated only when its
 * result is consumed (the datapath is enabled), so an idle unit costs nothing.
 */
import { Module } from '../sim/kernel.ts';
import { wrapS } from '../sim/bits.ts';
import type { ItaParams } from './params.ts';
import { vecPort } from './vec.ts';
import { createDotpSimd } from './dotp_simd.ts';
import type { DotpSimd } from './dotp_simd.ts';
import type { WeightWord } from './weight_buffer.ts';

/** Scale of the odd row in a packed weight pair. */
export const PAIR_SCALE = 2 ** 24;

/** Packed value of weights (lo, hi) of rows 2k and 2k+1 at one column. */
export function packWeightPair(lo: number, hi: number): number {
  return lo + hi * PAIR_SCALE;
}

/** Packs N x M weight bytes (row-major) into N/2 x M doubles. */
export function packWeights(w: Int8Array, N: number, M: number, out: Float64Array): Float64Array {
  for (let k = 0; k < N / 2; k++) {
    for (let m = 0; m < M; m++) out[k * M + m] = packWeightPair(w[2 * k * M + m]!, w[(2 * k + 1) * M + m]!);
  }
  return out;
}

export class ItaSumdotp extends Module {
  sign_mode_i = 1;
  /** One input row (all units see the same row). */
  inp1_i!: Int8Array;
  /** The N weight rows, packed in pairs (`packWeights`); read when `inp2_i` is null. */
  inp2_packed_i!: Float64Array;
  /** The N weight rows as a weight word (preferred over `inp2_packed_i` when set). */
  inp2_i: WeightWord | null = null;
  readonly oup_o: Int32Array;
  private readonly a: Float64Array;
  private readonly simd: DotpSimd | null;
  /** The weight word (and its version) whose bytes `simd.w` holds. */
  private simdWord: WeightWord | null = null;
  private simdVersion = -1;
  /** Whether a sum can exceed WO bits (|sum| < 2^21), so that lanes need wrapping. */
  private readonly simdWrap: boolean;
  readonly macs = this.counter('macs');
  /** `simd`: the vector kernel to use (null: none; default: one of its own where available). */
  constructor(
    parent: Module,
    readonly p: ItaParams,
    simd?: DotpSimd | null,
  ) {
    super(parent, 'i_sumdotp');
    if (p.N % 2 !== 0) throw new Error('N must be even');
    this.simd = simd === undefined ? createDotpSimd(p.N, p.M) : simd;
    this.simdWrap = p.WO < 22;
    this.oup_o = this.simd ? this.simd.out : new Int32Array(p.N);
    this.a = new Float64Array(p.M);
    vecPort(this, 'oup_o', p.WO, () => this.oup_o);
  }
  /** Computes `oup_o` from the current inputs. */
  compute(): void {
    const word = this.inp2_i;
    if (word !== null) {
      if (this.simd !== null) {
        this.computeSimd(this.simd, word);
        return;
      }
      this.inp2_packed_i = word.packed;
    }
    const M = this.p.M;
    const N = this.p.N;
    // Unsigned mode reads the bytes zero-extended; the signed mode reads the row as it is.
    let x: Int8Array | Float64Array = this.inp1_i;
    if (!this.sign_mode_i) {
      const a = this.a;
      for (let m = 0; m < M; m++) a[m] = x[m]! & 0xff;
      x = a;
    }
    const w = this.inp2_packed_i;
    const out = this.oup_o;
    const WO = this.p.WO;
    // Each unit's sum fits WO bits when WO <= 32 is wrapped by shifting (exact on int32 values).
    const sh = WO <= 32 ? 32 - WO : -1;
    // Four packed pairs (eight units) per pass: independent sums keep the multiply-adds flowing.
    let k = 0;
    for (; k + 3 < N / 2; k += 4) {
      const b0 = k * M;
      const b1 = b0 + M;
      const b2 = b1 + M;
      const b3 = b2 + M;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let m = 0; m < M; m++) {
        const am = x[m]!;
        s0 += am * w[b0 + m]!;
        s1 += am * w[b1 + m]!;
        s2 += am * w[b2 + m]!;
        s3 += am * w[b3 + m]!;
      }
      this.split(out, 2 * k, s0, sh);
      this.split(out, 2 * k + 2, s1, sh);
      this.split(out, 2 * k + 4, s2, sh);
      this.split(out, 2 * k + 6, s3, sh);
    }
    for (; k < N / 2; k++) {
      const b0 = k * M;
      let s0 = 0;
      for (let m = 0; m < M; m++) s0 += x[m]! * w[b0 + m]!;
      this.split(out, 2 * k, s0, sh);
    }
    this.macs.value += N * M;
  }

  /**
   * `compute` on vectors: the weight word is copied to the kernel's memory when it changed; the
   * row is read in place when it is one of the kernel's row buffers (see `DotpSimd.rows`).
   */
  private computeSimd(k: DotpSimd, word: WeightWord): void {
    if (word !== this.simdWord || word.version !== this.simdVersion) {
      k.w.set(word.bytes);
      this.simdWord = word;
      this.simdVersion = word.version;
    }
    k.run(this.inp1_i, this.sign_mode_i);
    if (this.simdWrap) {
      const out = this.oup_o;
      const sh = 32 - this.p.WO;
      for (let i = 0; i < out.length; i++) out[i] = (out[i]! << sh) >> sh;
    }
    this.macs.value += this.p.N * this.p.M;
  }

  /** Recovers the two units' sums of packed sum `s` into lanes i and i+1, wrapped to WO bits. */
  private split(out: Int32Array, i: number, s: number, sh: number): void {
    const S = PAIR_SCALE;
    const h = Math.round(s / S);
    const l = s - h * S;
    if (sh >= 0) {
      out[i] = (l << sh) >> sh;
      out[i + 1] = (h << sh) >> sh;
    } else {
      out[i] = wrapS(l, this.p.WO);
      out[i + 1] = wrapS(h, this.p.WO);
    }
  }
}
