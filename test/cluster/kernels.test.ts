/**
 * The C kernels of `sw/` on the cycle-level cluster, each compared byte for byte with the
 * functional reference (`rtl-model/ref`) on random data.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../rtl-model/cluster/cluster.ts';
import { geluRequantized } from '../../rtl-model/ref/gelu.ts';
import { requantize } from '../../rtl-model/ref/requant.ts';
import { itaMax } from '../../rtl-model/ref/softmax.ts';

const elf = (name: string) => readFileSync(new URL(`../../sw/bin/${name}.elf`, import.meta.url));

function words(...v: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(v).buffer);
}
function randInt8(rng: () => number, n: number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.floor(rng() * 256) - 128);
}
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function u32(c: Cluster, sym: string, wordIndex: number): number {
  const b = c.readSymbol(sym, 4, 4 * wordIndex);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

export interface GemmCase {
  m: number;
  n: number;
  k: number;
  mult: number;
  shift: number;
  add: number;
  seed: number;
}

/** Runs the GEMM kernel; returns the output, the reference and the compute cycles. */
export function runGemm(g: GemmCase) {
  const rng = mulberry(g.seed);
  const a = randInt8(rng, g.m * g.k);
  const bt = randInt8(rng, g.n * g.k);
  const bias = Int32Array.from({ length: g.n }, () => Math.floor(rng() * 2 ** 16) - 2 ** 15);
  const c = Cluster.fromElf(elf('gemm'), {}, 'gemm.elf');
  c.writeSymbol('gemm_args', words(g.m, g.n, g.k, g.mult, g.shift, g.add, 0, 0));
  c.writeSymbol('gemm_a', a);
  c.writeSymbol('gemm_bt', bt);
  c.writeSymbol('gemm_bias', bias);
  const r = c.run(5_000_000);
  const expected = new Int8Array(g.m * g.n);
  for (let i = 0; i < g.m; i++) {
    for (let j = 0; j < g.n; j++) {
      let acc = bias[j]!;
      for (let q = 0; q < g.k; q++) acc += a[i * g.k + q]! * bt[j * g.k + q]!;
      expected[i * g.n + j] = requantize(acc, g.mult, g.shift, g.add);
    }
  }
  const got = new Int8Array(c.readSymbol('gemm_c', g.m * g.n).buffer);
  return { run: r, got, expected, computeCycles: u32(c, 'gemm_args', 6), cluster: c };
}

describe('int8 GEMM with requantisation (8 cores)', () => {
  it('64 x 64 x 64 is bit-exact and reports MACs per cycle', () => {
    const r = runGemm({ m: 64, n: 64, k: 64, mult: 77, shift: 13, add: 3, seed: 1 });
    expect(r.run.exitCode).toBe(0);
    expect(Array.from(r.got)).toEqual(Array.from(r.expected));
    const macs = 64 * 64 * 64;
    const perCycle = macs / r.computeCycles;
    console.log(
      `gemm 64x64x64: ${r.computeCycles} compute cycles, ${perCycle.toFixed(3)} MAC/cycle, ${r.run.cycles} cycles total`,
    );
    expect(perCycle).toBeGreaterThan(0.5);
  });
  it('random shapes and requantisation constants are bit-exact', () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 20 }),
          n: fc.integer({ min: 1, max: 12 }),
          k: fc.integer({ min: 1, max: 8 }).map((q) => 4 * q),
          mult: fc.integer({ min: 0, max: 255 }),
          shift: fc.integer({ min: 0, max: 31 }),
          add: fc.integer({ min: -128, max: 127 }),
          seed: fc.integer({ min: 0, max: 1e6 }),
        }),
        (g) => {
          const r = runGemm(g);
          expect(Array.from(r.got)).toEqual(Array.from(r.expected));
        },
      ),
      { numRuns: 6 },
    );
  });
});

describe('element-wise kernels (8 cores)', () => {
  it('residual add with requantisation', () => {
    const rng = mulberry(5);
    const len = 1000;
    const a = randInt8(rng, len);
    const b = randInt8(rng, len);
    const c = Cluster.fromElf(elf('residual'), {}, 'residual.elf');
    const rq = { mult: 181, shift: 8, add: -2 };
    c.writeSymbol('residual_args', words(len, rq.mult, rq.shift, rq.add, 0));
    c.writeSymbol('residual_a', a);
    c.writeSymbol('residual_b', b);
    expect(c.run(2_000_000).exitCode).toBe(0);
    const got = new Int8Array(c.readSymbol('residual_out', len).buffer);
    const expected = Int8Array.from(a, (x, i) => requantize(x + b[i]!, rq.mult, rq.shift, rq.add));
    expect(Array.from(got)).toEqual(Array.from(expected));
  });
  it('GELU with requantisation over every int8 input', () => {
    const len = 256;
    const input = Int8Array.from({ length: len }, (_, i) => i - 128);
    // constants of the shape PyITA derives (b < 0, c > 0), requantiser chosen to keep outputs in range
    const g = { b: -367, c: 8412, one: 8412, rqsMul: 119, rqsShift: 20, rqsAdd: 0 };
    const c = Cluster.fromElf(elf('gelu'), {}, 'gelu.elf');
    c.writeSymbol('gelu_args', words(len, g.b, g.c, g.rqsMul, g.rqsShift, g.rqsAdd, 0));
    c.writeSymbol('gelu_in', input);
    expect(c.run(2_000_000).exitCode).toBe(0);
    const got = new Int8Array(c.readSymbol('gelu_out', len).buffer);
    const expected = Int8Array.from(input, (x) =>
      geluRequantized(x, g as Parameters<typeof geluRequantized>[1]),
    );
    expect(Array.from(got)).toEqual(Array.from(expected));
    expect(new Set(expected).size).toBeGreaterThan(10); // the constants exercise the curve
  });
  it('ITAMax softmax, 64 x 64', () => {
    const rows = 64;
    const cols = 64;
    const rng = mulberry(9);
    const x = randInt8(rng, rows * cols);
    const c = Cluster.fromElf(elf('itamax'), {}, 'itamax.elf');
    c.writeSymbol('itamax_args', words(rows, cols, 0));
    c.writeSymbol('itamax_in', x);
    expect(c.run(5_000_000).exitCode).toBe(0);
    const got = c.readSymbol('itamax_out', rows * cols);
    const expected = itaMax(Int32Array.from(x), rows, cols);
    expect(Array.from(got)).toEqual(Array.from(expected));
  });
  it('integer LayerNorm, 64 x 64 (C division semantics, floor square root)', () => {
    const rows = 64;
    const cols = 64;
    const rng = mulberry(11);
    const x = randInt8(rng, rows * cols);
    const w = Int32Array.from({ length: cols }, () => Math.floor(rng() * 2 ** 16) - 2 ** 15);
    const b = Int32Array.from({ length: cols }, () => Math.floor(rng() * 2 ** 12) - 2 ** 11);
    const log2d = 6;
    const c = Cluster.fromElf(elf('layernorm'), {}, 'layernorm.elf');
    c.writeSymbol('layernorm_args', words(rows, cols, 0, log2d, 0));
    c.writeSymbol('layernorm_in', x);
    c.writeSymbol('layernorm_w', w);
    c.writeSymbol('layernorm_b', b);
    expect(c.run(5_000_000).exitCode).toBe(0);
    const got = new Int8Array(c.readSymbol('layernorm_out', rows * cols).buffer);
    // oracle: integer LayerNorm with truncating division, written from its definition
    const expected = new Int8Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * cols, (r + 1) * cols);
      const mean = Math.trunc(row.reduce((a, v) => a + v, 0) / cols);
      const ss = row.reduce((a, v) => a + (v - mean) ** 2, 0);
      const std = Math.floor(Math.sqrt(Math.trunc(ss / cols) + 1));
      for (let j = 0; j < cols; j++) {
        const v = Math.trunc(((row[j]! - mean) * w[j]!) / std) + b[j]!;
        expected[r * cols + j] = ((v >> log2d) << 24) >> 24;
      }
    }
    expect(Array.from(got)).toEqual(Array.from(expected));
  });
  it('iNoNorm (element-wise affine, wrapping to int8)', () => {
    const len = 2000;
    const rng = mulberry(13);
    const x = randInt8(rng, len);
    const w = randInt8(rng, len);
    const b = Int32Array.from({ length: len }, () => Math.floor(rng() * 2 ** 14) - 2 ** 13);
    const mul = 37;
    const log2d = 9;
    const c = Cluster.fromElf(elf('inonorm'), {}, 'inonorm.elf');
    c.writeSymbol('inonorm_args', words(len, mul, log2d, 0));
    c.writeSymbol('inonorm_in', x);
    c.writeSymbol('inonorm_w', w);
    c.writeSymbol('inonorm_b', b);
    expect(c.run(2_000_000).exitCode).toBe(0);
    const got = new Int8Array(c.readSymbol('inonorm_out', len).buffer);
    const expected = Int8Array.from(x, (v, i) => ((((v * w[i]! + b[i]!) * mul) >> log2d) << 24) >> 24);
    expect(Array.from(got)).toEqual(Array.from(expected));
  });
});
