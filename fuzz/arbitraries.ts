/**
 * fast-check arbitraries for ITA: configurations, requantisation and GELU constants over their
 * whole hardware ranges, tensors with several distributions, and stall patterns.
 */
import fc from 'fast-check';
import { ACTIVATIONS, type Activation, type ItaParams } from '../golden/types.ts';

/** Layers the standalone ITA runs. */
export const LAYERS = ['attention', 'feedforward', 'linear'] as const;
export type Layer = (typeof LAYERS)[number];

/** A multiple of 64 in [64, max]; shrinks towards 64. */
export function dim64(max = 512): fc.Arbitrary<number> {
  return fc.integer({ min: 1, max: max / 64 }).map((k) => 64 * k);
}

/** A whole configuration; `maxDim` bounds S, E, P, F (tests keep it small, `itasim fuzz` may not). */
export function itaParams(maxDim = 512, maxHeads = 8): fc.Arbitrary<ItaParams> {
  return fc.record({
    S: dim64(maxDim),
    E: dim64(maxDim),
    P: dim64(maxDim),
    F: dim64(maxDim),
    H: fc.integer({ min: 1, max: maxHeads }),
    activation: fc.constantFrom<Activation>(...ACTIVATIONS),
    bias: fc.boolean(),
  });
}

/** One requantisation constant set over the RTL's full ranges (8-bit unsigned mult and shift, int8 add). */
export interface RequantConst {
  mult: number;
  shift: number;
  add: number;
}
export function requantConst(maxShift = 255): fc.Arbitrary<RequantConst> {
  return fc.record({
    mult: fc.integer({ min: 0, max: 255 }),
    shift: fc.oneof(
      fc.integer({ min: 0, max: Math.min(40, maxShift) }),
      fc.integer({ min: 0, max: maxShift }),
    ),
    add: fc.integer({ min: -128, max: 127 }),
  });
}

/** Requantisation constants in PyITA's ranges (mult 64..126, shifts that keep outputs in range). */
export function requantConstPyIta(): fc.Arbitrary<RequantConst> {
  return fc.record({
    mult: fc.integer({ min: 64, max: 126 }),
    shift: fc.integer({ min: 8, max: 22 }),
    add: fc.constant(0),
  });
}

/** GELU constants: 16-bit signed b (negative in practice) and c, and the activation requantiser. */
export interface GeluConst {
  b: number;
  c: number;
  rqsMul: number;
  rqsShift: number;
  rqsAdd: number;
}
export function geluConst(maxShift = 40): fc.Arbitrary<GeluConst> {
  return fc.record({
    b: fc.oneof(fc.integer({ min: -128, max: 0 }), fc.integer({ min: -32768, max: 32767 })),
    c: fc.integer({ min: -32768, max: 32767 }),
    rqsMul: fc.integer({ min: 0, max: 255 }),
    rqsShift: fc.integer({ min: 0, max: maxShift }),
    rqsAdd: fc.integer({ min: -128, max: 127 }),
  });
}

/** Any signed 26-bit accumulator value, with the edges over-represented. */
export function acc26(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: -(2 ** 25), max: 2 ** 25 - 1 }),
    fc.integer({ min: -70000, max: 70000 }),
    fc.constantFrom(-(2 ** 25), 2 ** 25 - 1, 0, -1, 1),
  );
}

/** Distributions of int8 tensors. */
export const DISTRIBUTIONS = [
  'uniform',
  'cauchy',
  'constant-rows',
  'all-min',
  'all-max',
  'one-hot',
  'saturating',
  'sparse',
] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

/** An int8 tensor of `rows x cols` drawn from one of the distributions. */
export function int8Tensor(rows: number, cols: number, dist?: Distribution): fc.Arbitrary<Int32Array> {
  const n = rows * cols;
  const pick = dist ? fc.constant(dist) : fc.constantFrom<Distribution>(...DISTRIBUTIONS);
  return pick.chain((d) => {
    switch (d) {
      case 'uniform':
        return fc
          .array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n })
          .map(Int32Array.from);
      case 'cauchy':
        // Heavy tails like PyITA's clipped standard Cauchy * 32: mostly small, some clipped.
        return fc
          .array(fc.double({ min: -Math.PI / 2 + 1e-9, max: Math.PI / 2 - 1e-9, noNaN: true }), {
            minLength: n,
            maxLength: n,
          })
          .map((us) =>
            Int32Array.from(us, (u) => Math.trunc(Math.max(-128, Math.min(127, Math.tan(u) * 32)))),
          );
      case 'constant-rows':
        return fc
          .array(fc.integer({ min: -128, max: 127 }), { minLength: rows, maxLength: rows })
          .map((vals) => Int32Array.from({ length: n }, (_, i) => vals[Math.floor(i / cols)]!));
      case 'all-min':
        return fc.constant(new Int32Array(n).fill(-128));
      case 'all-max':
        return fc.constant(new Int32Array(n).fill(127));
      case 'one-hot':
        return fc.tuple(fc.nat(n - 1), fc.integer({ min: -128, max: 127 })).map(([i, v]) => {
          const t = new Int32Array(n);
          t[i] = v;
          return t;
        });
      case 'saturating':
        return fc.array(fc.constantFrom(-128, 127), { minLength: n, maxLength: n }).map(Int32Array.from);
      case 'sparse':
        return fc
          .array(fc.tuple(fc.nat(n - 1), fc.integer({ min: -128, max: 127 })), { maxLength: 8 })
          .map((pairs) => {
            const t = new Int32Array(n);
            for (const [i, v] of pairs) t[i] = v;
            return t;
          });
    }
  });
}

/** A stall pattern: probability of a stall on each handshake and the seed of the coin flips. */
export interface StallPattern {
  inputStall: number;
  weightStall: number;
  outputStall: number;
  seed: number;
}
export function stallPattern(): fc.Arbitrary<StallPattern> {
  const p = fc.constantFrom(0, 0.1, 0.25, 0.5, 0.75, 0.9);
  return fc.record({ inputStall: p, weightStall: p, outputStall: p, seed: fc.nat(2 ** 31 - 1) });
}

/** Row of int8 values, length a multiple of 16 (softmax rows), with late maxima over-represented. */
export function softmaxRow(maxLen = 512): fc.Arbitrary<number[]> {
  return fc.integer({ min: 1, max: maxLen / 16 }).chain((k) =>
    fc.oneof(
      fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 16 * k, maxLength: 16 * k }),
      // increasing staircase: the maximum grows in every group
      fc
        .array(fc.integer({ min: -128, max: 127 }), { minLength: 16 * k, maxLength: 16 * k })
        .map((r) =>
          r.map((v, i) => Math.min(127, Math.max(-128, (v % 8) + Math.floor((i * 255) / (16 * k)) - 128))),
        ),
      // repeated maximum
      fc.integer({ min: -128, max: 127 }).map((v) => Array.from({ length: 16 * k }, () => v)),
    ),
  );
}

/** An arbitrary layer. */
export function layer(): fc.Arbitrary<Layer> {
  return fc.constantFrom<Layer>(...LAYERS);
}
