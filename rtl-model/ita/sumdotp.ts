/**
 * `ita_sumdotp` with its N `ita_dotp` units: N dot products of length M between the (replicated)
 * input row and the N weight rows. `sign_mode_i` = 1 sign-extends the input bytes to 9 bits, 0
 * zero-extends them (the unsigned softmax probabilities in AV). Each unit sums into WO bits.
 *
 * Evaluation: the weights arrive packed two rows per double (`packWeightPair`): row 2k in the low
 * part and row 2k+1 scaled by 2^24. One multiply-add then serves two units; every partial sum is an
 * integer below 2^46 and so exact, and each unit's sum (|s| < 2^21) is recovered exactly. Evaluated
 * only when its result is consumed (the datapath is enabled), so an idle unit costs nothing.
 */
import { Module } from '../sim/kernel.ts';
import { wrapS } from '../sim/bits.ts';
import type { ItaParams } from './params.ts';
import { vecPort } from './vec.ts';

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
  /** The N weight rows, packed in pairs (`packWeights`). */
  inp2_packed_i!: Float64Array;
  readonly oup_o: Int32Array;
  private readonly a: Float64Array;
  readonly macs = this.counter('macs');
  constructor(
    parent: Module,
    readonly p: ItaParams,
  ) {
    super(parent, 'i_sumdotp');
    if (p.N % 2 !== 0) throw new Error('N must be even');
    this.oup_o = new Int32Array(p.N);
    this.a = new Float64Array(p.M);
    vecPort(this, 'oup_o', p.WO, () => this.oup_o);
  }
  /** Computes `oup_o` from the current inputs. */
  compute(): void {
    const M = this.p.M;
    const N = this.p.N;
    const a = this.a;
    const x = this.inp1_i;
    if (this.sign_mode_i) for (let m = 0; m < M; m++) a[m] = x[m]!;
    else for (let m = 0; m < M; m++) a[m] = x[m]! & 0xff;
    const w = this.inp2_packed_i;
    const out = this.oup_o;
    const WO = this.p.WO;
    const S = PAIR_SCALE;
    let k = 0;
    for (; k + 1 < N / 2; k += 2) {
      const b0 = k * M;
      const b1 = b0 + M;
      let s0 = 0;
      let s1 = 0;
      for (let m = 0; m < M; m++) {
        const am = a[m]!;
        s0 += am * w[b0 + m]!;
        s1 += am * w[b1 + m]!;
      }
      const h0 = Math.round(s0 / S);
      const h1 = Math.round(s1 / S);
      out[2 * k] = wrapS(s0 - h0 * S, WO);
      out[2 * k + 1] = wrapS(h0, WO);
      out[2 * k + 2] = wrapS(s1 - h1 * S, WO);
      out[2 * k + 3] = wrapS(h1, WO);
    }
    for (; k < N / 2; k++) {
      const b0 = k * M;
      let s0 = 0;
      for (let m = 0; m < M; m++) s0 += a[m]! * w[b0 + m]!;
      const h0 = Math.round(s0 / S);
      out[2 * k] = wrapS(s0 - h0 * S, WO);
      out[2 * k + 1] = wrapS(h0, WO);
    }
    this.macs.value += N * M;
  }
}
