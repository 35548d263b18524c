/**
 * The tiler runtime (sw/bin/tiler.elf) on the cycle-level cluster: every kernel on random data
 * against the TypeScript reference (tiler/kernels.ts), a DMA double-buffered program, ITA linear
 * jobs issued through the interpreter against the untimed ITA reference, a hang, and the checks
 * of the program builder.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../rtl-model/errors.ts';
import { linear } from '../../rtl-model/ref/ita.ts';
import {
  bytesInt32,
  fromT64,
  iSoftmaxTable,
  int32Bytes,
  kernelRows,
  premultiplyNoNorm,
  runKernel,
  squareTable,
  sumTable,
  toT64,
  type KernelMemory,
  type RefKernel,
} from '../../tiler/kernels.ts';
import { Machine } from '../../tiler/machine.ts';
import { DMA_HART, ITA_REG, ITA_STREAM, ProgramBuilder, itaPtr, type Kernel } from '../../tiler/program.ts';

/** Seeded uniform integers (mulberry32). */
function rng(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    return lo + Math.floor(u * (hi - lo + 1));
  };
}

/** A bump allocator over the machine's L1 region. */
function l1Alloc(m: Machine): (bytes: number) => number {
  let next = m.l1Base;
  return (bytes) => {
    const a = next;
    next += Math.ceil(bytes / 64) * 64;
    if (next > m.l1Base + m.l1Size) throw new Error('test data does not fit L1');
    return a;
  };
}

/** A copy of the machine's memory (L1 and what the test wrote to DRAM) for the reference. */
class Snapshot implements KernelMemory {
  private readonly regions: { addr: number; data: Uint8Array }[] = [];
  constructor(m: Machine, ranges: [number, number][]) {
    for (const [addr, bytes] of ranges) this.regions.push({ addr, data: m.read(addr, bytes) });
  }
  private find(addr: number, bytes: number): { r: Uint8Array; o: number } {
    for (const { addr: a, data } of this.regions)
      if (addr >= a && addr + bytes <= a + data.length) return { r: data, o: addr - a };
    throw new Error(`snapshot: no region holds 0x${addr.toString(16)}`);
  }
  read(addr: number, bytes: number): Uint8Array {
    const { r, o } = this.find(addr, bytes);
    return r.slice(o, o + bytes);
  }
  write(addr: number, data: Uint8Array): void {
    const { r, o } = this.find(addr, data.length);
    r.set(data, o);
  }
}

const int8s = (n: number, rnd: (lo: number, hi: number) => number): number[] =>
  Array.from({ length: n }, () => rnd(-128, 127));

/** Compares rows [r0, r1) of the output matrix of `k` in the machine with the reference. */
function expectRows(m: Machine, ref: KernelMemory, k: RefKernel, what: string): void {
  const exp = kernelRows(ref, k);
  const [addr, rows, cols] = k.op === 'gemm' ? [k.c, k.m, k.n] : [k.y, k.rows, k.cols];
  const unsigned = k.op === 'itamax' || k.op === 'isoftmax' || (k.op === 'dgemm' && k.unsigned);
  const got =
    k.op === 'dgemm' && k.partial
      ? bytesInt32(m.read(addr + 4 * k.r0 * cols, 4 * (k.r1 - k.r0) * cols))
      : fromT64(m.read(addr, rows * cols), rows, cols, unsigned, k.r0, k.r1);
  let bad = 0;
  let first = '';
  for (let i = 0; i < exp.length; i++) {
    if (got[i] !== exp[i]) {
      if (!bad)
        first = `row ${k.r0 + Math.floor(i / cols)} col ${i % cols}: got ${got[i]}, expected ${exp[i]}`;
      bad++;
    }
  }
  expect(bad === 0 ? 'equal' : `${what}: ${bad} of ${exp.length} differ, first ${first}`).toBe('equal');
}

/** Splits [0, rows) into `parts` uneven ranges (some empty when rows is small). */
function splits(rows: number, parts: number, rnd: (lo: number, hi: number) => number): [number, number][] {
  const cuts = [0, rows];
  for (let i = 1; i < parts; i++) cuts.push(rnd(0, rows));
  cuts.sort((a, b) => a - b);
  return cuts.slice(0, -1).map((c, i) => [c, cuts[i + 1]!]);
}

describe('tiler runtime kernels', () => {
  it('gemm (identity, ReLU, GELU; signed / unsigned A; bias per column / row / none; edge constants) is bit-exact', () => {
    const rnd = rng(7);
    const m = new Machine({ ita: false });
    const alloc = l1Alloc(m);
    const ranges: [number, number][] = [];
    const mat = (rows: number, cols: number, unsigned = false): number => {
      const a = alloc(rows * cols);
      const v = Array.from({ length: rows * cols }, () => (unsigned ? rnd(0, 255) : rnd(-128, 127)));
      m.write(a, toT64(v, rows, cols));
      ranges.push([a, rows * cols]);
      return a;
    };
    const vec = (n: number, lo: number, hi: number): number => {
      const a = alloc(4 * n);
      const v = Array.from({ length: n }, () => rnd(-(2 ** 12), 2 ** 12));
      v[0] = lo;
      v[n - 1] = hi;
      m.write(a, int32Bytes(v));
      ranges.push([a, 4 * n]);
      return a;
    };
    const out = (rows: number, cols: number): number => {
      const a = alloc(rows * cols);
      ranges.push([a, rows * cols]);
      return a;
    };
    const gelu = { geluB: -80, geluC: -7091, actMult: 74, actShift: 20, actAdd: 0 };
    const base = { aUnsigned: false, biasPerRow: false, act: 'identity' as const };
    const configs: { k: Omit<Kernel & { op: 'gemm' }, 'r0' | 'r1'>; harts: number[] }[] = [
      {
        // 128 x 64 x 64 (rows in two tiles), bias per column with values beyond 24 bits (ITA
        // reads 24 of them)
        k: {
          op: 'gemm',
          ...base,
          m: 128,
          n: 64,
          k: 64,
          a: mat(128, 64),
          bt: mat(64, 64),
          bias: vec(64, -(2 ** 25), 2 ** 25),
          c: out(128, 64),
          mult: 90,
          shift: 17,
          add: -3,
        },
        harts: [0, 1, 2],
      },
      {
        // softmax-like uint8 A, ReLU, two tiles of K and of N
        k: {
          op: 'gemm',
          ...base,
          aUnsigned: true,
          act: 'relu',
          m: 64,
          n: 128,
          k: 128,
          a: mat(64, 128, true),
          bt: mat(128, 128),
          bias: vec(128, -50000, 50000),
          c: out(64, 128),
          mult: 61,
          shift: 18,
          add: 5,
          actMult: 200,
          actShift: 8,
          actAdd: -7,
        },
        harts: [3, 4, 5],
      },
      {
        // GELU, bias per row (ITA's bias direction)
        k: {
          op: 'gemm',
          ...base,
          act: 'gelu',
          ...gelu,
          biasPerRow: true,
          m: 64,
          n: 64,
          k: 64,
          a: mat(64, 64),
          bt: mat(64, 64),
          bias: vec(64, -(2 ** 23), 2 ** 23 - 1),
          c: out(64, 64),
          mult: 69,
          shift: 15,
          add: 0,
        },
        harts: [6, 8],
      },
      {
        // no bias; shift past the product's 35 bits (no rounding bit), saturating add
        k: {
          op: 'gemm',
          ...base,
          m: 64,
          n: 64,
          k: 64,
          a: mat(64, 64),
          bt: mat(64, 64),
          bias: 0,
          c: out(64, 64),
          mult: 255,
          shift: 40,
          add: 127,
        },
        harts: [7],
      },
      {
        // shift 0, mult 0 / 1 style extremes: every value saturates or passes through
        k: {
          op: 'gemm',
          ...base,
          aUnsigned: true,
          biasPerRow: true,
          act: 'gelu',
          ...gelu,
          actShift: 0,
          actMult: 1,
          m: 64,
          n: 64,
          k: 64,
          a: mat(64, 64, true),
          bt: mat(64, 64),
          bias: vec(64, -100, 100),
          c: out(64, 64),
          mult: 1,
          shift: 0,
          add: -128,
        },
        harts: [7],
      },
    ];
    const ref = new Snapshot(m, ranges);
    const p = new ProgramBuilder();
    const kernels: Kernel[] = [];
    for (const { k, harts } of configs) {
      const rows = k.m;
      const parts = splits(rows, harts.length, rnd);
      harts.forEach((h, i) => {
        // cut one hart's range short so a row of the reference computes no output on the machine
        const kk = { ...k, r0: parts[i]![0], r1: parts[i]![1] } as Kernel;
        p.kernel(h, kk);
        kernels.push(kk);
      });
    }
    p.barrier('gemm');
    const run = m.run(p.build(), { maxCycles: 20_000_000 });
    expect(run.finished).toBe(true);
    expect(run.steps.map((s) => s.label)).toEqual(['gemm']);
    expect(run.steps[0]!.cores).toBeGreaterThan(0);
    for (const k of kernels) expectRows(m, ref, k as RefKernel, `gemm rows ${(k as { r0: number }).r0}..`);
    // the reference's output is not trivially constant
    const first = kernelRows(ref, kernels[0]! as RefKernel);
    expect(new Set(first).size).toBeGreaterThan(20);
  }, 180_000);

  type Maker = {
    mat: (rows: number, cols: number, lo?: number, hi?: number) => number;
    vec: (n: number, lo: number, hi: number) => number;
    out: (rows: number, cols: number) => number;
    /** Bytes placed in L1 as they are. */
    bytes: (data: Uint8Array) => number;
    /** int32 values placed in L1. */
    ints: (v: ArrayLike<number>) => number;
    /** A matrix whose row r holds values within +-(1 + r * 127 / rows): every spread in one. */
    spread: (rows: number, cols: number) => number;
  };
  /**
   * Runs the kernels `make` lays out in one machine, rows split over the 9 harts; bit-exact. A pair
   * [run, ref] runs `run` and expects the output of `ref` (same output matrix, other operands).
   */
  const kernelGroup = (seed: number, make: (m: Maker) => (Kernel | [Kernel, Kernel])[]): void => {
    const rnd = rng(seed);
    const m = new Machine({ ita: false });
    const alloc = l1Alloc(m);
    const ranges: [number, number][] = [];
    const mk: Maker = {
      mat: (rows, cols, lo = -128, hi = 127) => {
        const a = alloc(rows * cols);
        const v = Array.from({ length: rows * cols }, () => rnd(lo, hi));
        // extremes in the first row
        for (let c = 0; c < Math.min(cols, 8); c++) v[c] = c % 2 ? lo : hi;
        m.write(a, toT64(v, rows, cols));
        ranges.push([a, rows * cols]);
        return a;
      },
      vec: (n, lo, hi) => {
        const a = alloc(4 * n);
        m.write(a, int32Bytes(Array.from({ length: n }, () => rnd(lo, hi))));
        ranges.push([a, 4 * n]);
        return a;
      },
      out: (rows, cols) => {
        const a = alloc(rows * cols);
        ranges.push([a, rows * cols]);
        return a;
      },
      bytes: (data) => {
        const a = alloc(data.length);
        m.write(a, data);
        ranges.push([a, data.length]);
        return a;
      },
      ints: (v) => {
        const a = alloc(4 * v.length);
        m.write(a, int32Bytes(v));
        ranges.push([a, 4 * v.length]);
        return a;
      },
      spread: (rows, cols) => {
        const a = alloc(rows * cols);
        const v = Array.from({ length: rows * cols }, (_, i) => {
          const k = 1 + Math.floor((Math.floor(i / cols) * 127) / rows);
          return rnd(-k, k);
        });
        m.write(a, toT64(v, rows, cols));
        ranges.push([a, rows * cols]);
        return a;
      },
    };
    const made = make(mk);
    const list = made.map((e) => (Array.isArray(e) ? e[0] : e));
    const refs = made.map((e) => (Array.isArray(e) ? e[1] : e));
    const ref = new Snapshot(m, ranges);
    const p = new ProgramBuilder();
    let pieces = 0;
    list.forEach((k, i) => {
      const rows = (k as { rows: number }).rows;
      // row ranges over all 9 harts, a different cut per kernel
      for (const [h, [r0, r1]] of splits(rows, 9, rnd).entries()) {
        if (r0 === r1 && h % 2) continue; // some harts skip empty ranges, others run them
        p.kernel(h, { ...k, r0, r1 } as Kernel);
        pieces++;
      }
      if (i % 3 === 2) p.barrier(`kernels ${i}`);
    });
    p.barrier('last');
    const run = m.run(p.build(), { maxCycles: 20_000_000 });
    expect(run.finished).toBe(true);
    expect(run.steps.length).toBe(Math.floor(list.length / 3) + 1);
    expect(pieces).toBeGreaterThan(list.length * 4);
    refs.forEach((k, i) => expectRows(m, ref, k as RefKernel, `${list[i]!.op} ${i}`));
  };

  it('itamax, add, nonorm and copy are bit-exact, rows split across harts', () => {
    kernelGroup(11, ({ mat, vec, out }) => [
      // ITAMax: 64 x 128 and a narrow range (many equal maxima)
      { op: 'itamax', x: mat(64, 128), y: out(64, 128), rows: 64, cols: 128, r0: 0, r1: 64 },
      { op: 'itamax', x: mat(64, 64, -3, 2), y: out(64, 64), rows: 64, cols: 64, r0: 0, r1: 64 },
      // residual add: typical, then shift 0 with int32 wrap-around, and shift 31
      {
        op: 'add',
        a: mat(64, 128),
        b: mat(64, 128),
        y: out(64, 128),
        rows: 64,
        cols: 128,
        r0: 0,
        r1: 64,
        mul: 37,
        add: 100,
        shift: 6,
      },
      {
        op: 'add',
        a: mat(64, 64),
        b: mat(64, 64),
        y: out(64, 64),
        rows: 64,
        cols: 64,
        r0: 0,
        r1: 64,
        mul: 2 ** 30 + 3,
        add: -(2 ** 31),
        shift: 0,
      },
      {
        op: 'add',
        a: mat(64, 64),
        b: mat(64, 64),
        y: out(64, 64),
        rows: 64,
        cols: 64,
        r0: 0,
        r1: 64,
        mul: -5,
        add: 7,
        shift: 31,
      },
      { op: 'copy', x: mat(128, 64), y: out(128, 64), rows: 128, cols: 64, r0: 0, r1: 128 },
      // nonorm: the int16 product wraps for large weights; a negative multiplier and shift 31
      {
        op: 'nonorm',
        x: mat(64, 64),
        y: out(64, 64),
        w: vec(64, -128, 127),
        b: vec(64, -100, 100),
        rows: 64,
        cols: 64,
        r0: 0,
        r1: 64,
        mul: -(2 ** 20),
        log2d: 31,
      },
    ]);
  }, 180_000);

  it('sum, layernorm and nonorm are bit-exact, rows split across harts', () => {
    kernelGroup(12, ({ mat, vec, out }) => [
      // head sum of 1, 3 and 8 inputs
      ...[1, 3, 8].map((n): Kernel => ({
        op: 'sum',
        xs: Array.from({ length: n }, () => mat(64, 64)),
        y: out(64, 64),
        rows: 64,
        cols: 64,
        r0: 0,
        r1: 64,
        mul: 11,
        add: -40,
        shift: 5,
      })),
      // layernorm: weights in int16, bias int32
      {
        op: 'layernorm',
        x: mat(64, 192),
        y: out(64, 192),
        w: vec(192, -32768, 32767),
        b: vec(192, -(2 ** 20), 2 ** 20),
        rows: 64,
        cols: 192,
        r0: 0,
        r1: 64,
        log2d: 9,
      },
      {
        op: 'layernorm',
        x: mat(64, 64, -2, 2),
        y: out(64, 64),
        w: vec(64, -300, 300),
        b: vec(64, -1000, 1000),
        rows: 64,
        cols: 64,
        r0: 0,
        r1: 64,
        log2d: 0,
      },
      {
        op: 'nonorm',
        x: mat(64, 128),
        y: out(64, 128),
        w: vec(128, -2000, 2000),
        b: vec(128, -(2 ** 16), 2 ** 16),
        rows: 64,
        cols: 128,
        r0: 0,
        r1: 64,
        mul: 13,
        log2d: 7,
      },
    ]);
  }, 180_000);

  it('add through its requantisation table and premultiplied nonorm are bit-exact', () => {
    kernelGroup(13, ({ mat, out, bytes, ints }) => {
      const x = mat(64, 128);
      return [
        // adds through the table of their requantisation (the reference does not read it)
        ...(
          [
            [37, 100, 6],
            [2 ** 30 + 3, -(2 ** 31), 0],
            [-5, 7, 31],
          ] as const
        ).map(([mul, add, shift]): Kernel => ({
          op: 'add',
          a: mat(64, 128),
          b: mat(64, 128),
          y: out(64, 128),
          rows: 64,
          cols: 128,
          r0: 0,
          r1: 64,
          mul,
          add,
          shift,
          lut: bytes(sumTable(2, mul, add, shift)),
        })),
        // premultiplied nonorm against plain nonorm, weights over the whole exact range [-255, 256]
        ...(
          [
            [-(2 ** 20) + 7, 13],
            [3, 0],
            [2 ** 31 - 1, 31],
          ] as const
        ).map(([mul, log2d]): [Kernel, Kernel] => {
          const w = Array.from({ length: 128 }, (_, i) =>
            i === 0 ? -255 : i === 1 ? 256 : ((i * 37) % 512) - 255,
          );
          const b = Array.from({ length: 128 }, (_, i) => i * 1000 - 60000);
          const pre = premultiplyNoNorm(w, b, mul)!;
          const y = out(64, 128);
          const k = { op: 'nonorm', x, y, rows: 64, cols: 128, r0: 0, r1: 64, mul, log2d } as const;
          return [
            { ...k, w: ints(pre.w), b: ints(pre.b), premultiplied: true },
            { ...k, w: ints(w), b: ints(b) },
          ];
        }),
      ];
    });
  }, 180_000);

  it('layernorm summing x^2 from its table of squares is bit-exact', () => {
    kernelGroup(15, ({ mat, out, bytes, spread, vec }) => [
      // layernorm summing x^2 from the table of squares, rows of every spread, int16 weights
      {
        op: 'layernorm',
        x: spread(64, 128),
        y: out(64, 128),
        w: vec(128, -32768, 32767),
        b: vec(128, -(2 ** 20), 2 ** 20),
        rows: 64,
        cols: 128,
        r0: 0,
        r1: 64,
        log2d: 8,
        squares: bytes(squareTable()),
      },
      {
        op: 'layernorm',
        x: mat(64, 192),
        y: out(64, 192),
        w: vec(192, -32768, 32767),
        b: vec(192, -(2 ** 20), 2 ** 20),
        rows: 64,
        cols: 192,
        r0: 0,
        r1: 64,
        log2d: 9,
        squares: bytes(squareTable()),
      },
    ]);
  }, 180_000);

  it("isoftmax (Deeploy's iSoftmax through its exponent table, rows with padding after them) is bit-exact, rows split across harts", () => {
    // Deeploy's coefficients (as its Softmax tests have them), and a steeper exponent (log2 = 40,
    // so z reaches its clamp of 31 within a row)
    const deeploy = { coeffA: 1, coeffB: 345, coeffC: 62395, log2: 255 };
    const steep = { coeffA: 3, coeffB: 60, coeffC: 9000, log2: 40 };
    kernelGroup(16, ({ mat, out, bytes }) =>
      (
        [
          [deeploy, 64, 128, -128, 127, 128],
          [deeploy, 64, 64, -3, 2, 64],
          [steep, 64, 256, -128, 127, 256],
          // rows of 8 and of 100 values, the rest of the tile padding
          [deeploy, 64, 64, -128, 127, 8],
          [steep, 64, 128, -128, 127, 100],
        ] as const
      ).map(([c, rows, cols, lo, hi, validCols]) => ({
        op: 'isoftmax' as const,
        x: mat(rows, cols, lo, hi),
        y: out(rows, cols),
        rows,
        cols,
        r0: 0,
        r1: rows,
        ...c,
        lut: bytes(iSoftmaxTable(c)),
        validCols,
      })),
    );
  }, 60_000);

  it("dgemm (Deeploy's Gemm + RequantShift in int32) is bit-exact, rows split across harts", () => {
    const rnd = rng(17);
    const vals = (n: number, lo: number, hi: number): number[] =>
      Array.from({ length: n }, () => rnd(lo, hi));
    kernelGroup(17, ({ mat, out, ints }) => [
      // a bias per element, alpha 2, requantisation per column, signed
      {
        op: 'dgemm',
        a: mat(64, 128),
        bt: mat(128, 128),
        y: out(64, 128),
        bias: ints(vals(64 * 128, -50000, 50000)),
        mul: ints(vals(128, 1, 120)),
        add: ints(vals(128, -(2 ** 20), 2 ** 20)),
        rows: 64,
        cols: 128,
        validCols: 128,
        k: 128,
        r0: 0,
        r1: 64,
        alpha: 2,
        shift: 16,
        perRow: false,
        unsigned: false,
      },
      // no bias, requantisation per row, unsigned output, only the first 10 columns computed
      {
        op: 'dgemm',
        a: mat(64, 64),
        bt: mat(64, 64),
        y: out(64, 64),
        bias: 0,
        mul: ints(vals(64, 1, 60)),
        add: ints(vals(64, -5000, 90000)),
        rows: 64,
        cols: 64,
        validCols: 10,
        k: 64,
        r0: 0,
        r1: 64,
        alpha: 1,
        shift: 12,
        perRow: true,
        unsigned: true,
      },
      // alpha large enough that alpha * dot wraps in int32, shift 0
      {
        op: 'dgemm',
        a: mat(64, 64),
        bt: mat(64, 64),
        y: out(64, 64),
        bias: 0,
        mul: ints(vals(64, -3, 3)),
        add: ints(vals(64, -100, 100)),
        rows: 64,
        cols: 64,
        validCols: 64,
        k: 64,
        r0: 0,
        r1: 64,
        alpha: 70001,
        shift: 0,
        perRow: false,
        unsigned: false,
      },
    ]);
  }, 120_000);

  it("dgemm writes the int32 sum of one chunk of K (the next chunk's bias), bit-exact", () => {
    const rnd = rng(18);
    const vals = (n: number, lo: number, hi: number): number[] =>
      Array.from({ length: n }, () => rnd(lo, hi));
    kernelGroup(18, ({ mat, ints }) => [
      // the int32 sum of one chunk of K (bias per element in, int32 per element out)
      {
        op: 'dgemm',
        a: mat(64, 128),
        bt: mat(64, 128),
        y: ints(vals(64 * 64, -5, 5)),
        bias: ints(vals(64 * 64, -(2 ** 30), 2 ** 30)),
        mul: ints(vals(64, 1, 60)),
        add: ints(vals(64, 0, 0)),
        rows: 64,
        cols: 64,
        validCols: 40,
        k: 128,
        r0: 0,
        r1: 64,
        alpha: 3,
        shift: 0,
        perRow: false,
        unsigned: false,
        partial: true,
      },
    ]);
  }, 120_000);

  it('head sums through their requantisation table, and layernorm over rows of every spread, are bit-exact', () => {
    kernelGroup(14, ({ mat, out, bytes, spread, vec }) => [
      // layernorm divides by each row's standard deviation (1 to about 73 here) through its reciprocal
      {
        op: 'layernorm',
        x: spread(128, 128),
        y: out(128, 128),
        w: vec(128, -32768, 32767),
        b: vec(128, -(2 ** 20), 2 ** 20),
        rows: 128,
        cols: 128,
        r0: 0,
        r1: 128,
        log2d: 8,
      },
      // head sums of 1, 3 and 8 inputs
      ...[1, 3, 8].map((n): Kernel => ({
        op: 'sum',
        xs: Array.from({ length: n }, () => mat(64, 64)),
        y: out(64, 64),
        rows: 64,
        cols: 64,
        r0: 0,
        r1: 64,
        mul: -9,
        add: 300,
        shift: 4,
        lut: bytes(sumTable(n, -9, 300, 4)),
      })),
    ]);
  }, 180_000);
});

describe('tiler runtime programs', () => {
  it('a DMA double-buffered program streams a matrix through L1 (1-D and 2-D transfers)', () => {
    const rnd = rng(3);
    const m = new Machine({ ita: false });
    const rows = 512;
    const cols = 128;
    const chunk = 64; // rows per chunk: one tile row, 8 KiB
    const bytes = chunk * cols;
    const x = int8s(rows * cols, rnd);
    const dX = m.dramAlloc(rows * cols);
    const dY = m.dramAlloc(rows * cols);
    m.write(dX, toT64(x, rows, cols));
    const alloc = l1Alloc(m);
    const inBuf = [alloc(bytes), alloc(bytes)];
    const outBuf = [alloc(bytes), alloc(bytes)];
    const w = alloc(4 * cols);
    const b = alloc(4 * cols);
    const wv = Array.from({ length: cols }, () => rnd(-128, 127));
    const bv = Array.from({ length: cols }, () => rnd(-5000, 5000));
    m.write(w, int32Bytes(wv));
    m.write(b, int32Bytes(bv));
    const n = rows / chunk;
    const p = new ProgramBuilder();
    const load = (i: number): void => {
      // 2-D for odd chunks: the two tiles of the chunk as 128 rows of 64 bytes
      if (i % 2) p.dma2d(inBuf[i % 2]!, dX + i * bytes, 64, 64, 64, bytes / 64);
      else p.dma1d(inBuf[i % 2]!, dX + i * bytes, bytes);
    };
    load(0);
    p.dmaWait();
    p.barrier('load 0');
    for (let i = 0; i < n; i++) {
      if (i + 1 < n) load(i + 1);
      if (i > 0) p.dma1d(dY + (i - 1) * bytes, outBuf[(i - 1) % 2]!, bytes);
      for (let h = 0; h < 8; h++)
        p.kernel(h, {
          op: 'nonorm',
          x: inBuf[i % 2]!,
          y: outBuf[i % 2]!,
          w,
          b,
          rows: chunk,
          cols,
          r0: h * 8,
          r1: h * 8 + 8,
          mul: 3,
          log2d: 4,
        });
      p.dmaWait();
      p.barrier(`chunk ${i}`);
    }
    p.dma1d(dY + (n - 1) * bytes, outBuf[(n - 1) % 2]!, bytes);
    p.dmaWait();
    p.barrier('store');
    const progress: number[] = [];
    const run = m.run(p.build(), { maxCycles: 5_000_000, onProgress: (s) => progress.push(s) });
    expect(run.steps.length).toBe(n + 2);
    expect(progress).toEqual(Array.from({ length: n + 2 }, (_, i) => i + 1));
    // DMA and compute overlap in the middle steps
    const mid = run.steps[3]!;
    expect(mid.dma).toBeGreaterThan(0);
    expect(mid.cores).toBeGreaterThan(0);
    expect(run.dmaBusy).toBe(run.steps.reduce((s, t) => s + t.dma, 0));
    for (let i = 1; i < run.steps.length; i++) expect(run.steps[i]!.start).toBe(run.steps[i - 1]!.end);
    // expected: the same kernel on the whole matrix (rows of T64 chunks are independent)
    const ref = new Snapshot(m, [
      [dX, rows * cols],
      [w, 4 * cols],
      [b, 4 * cols],
    ]);
    const exp = kernelRows(ref, {
      op: 'nonorm',
      x: dX,
      y: 0,
      w,
      b,
      rows,
      cols,
      r0: 0,
      r1: rows,
      mul: 3,
      log2d: 4,
    });
    const got = fromT64(m.read(dY, rows * cols), rows, cols);
    expect(Array.from(got)).toEqual(Array.from(exp));
  }, 180_000);

  it('ITA linear jobs issued by the interpreter equal the ITA reference and the gemm kernel', () => {
    const rnd = rng(5);
    const m = new Machine({ ita: true });
    const M = 128;
    const K = 128;
    const N = 64;
    const alloc = l1Alloc(m);
    const x = int8s(M * K, rnd);
    const wt = int8s(N * K, rnd); // transposed weights, N x K
    const bias = Array.from({ length: N }, () => rnd(-(2 ** 15), 2 ** 15));
    const lx = alloc(M * K);
    const lw = alloc(N * K);
    const lb = alloc(3 * N);
    const lb32 = alloc(4 * N);
    const ly = alloc(M * N);
    const lg = alloc(M * N);
    m.write(lx, toT64(x, M, K));
    m.write(lw, toT64(wt, N, K));
    const b24 = new Uint8Array(3 * N);
    bias.forEach((v, i) => {
      b24[3 * i] = v & 0xff;
      b24[3 * i + 1] = (v >> 8) & 0xff;
      b24[3 * i + 2] = (v >> 16) & 0xff;
    });
    m.write(lb, b24);
    m.write(lb32, int32Bytes(bias));
    const rq = { mult: 70, shift: 16, add: 2 };
    const act = {
      activation: 'gelu' as const,
      gelu: { one: 0, b: -80, c: -7091, rqsMul: 74, rqsShift: 20, rqsAdd: 0 },
    };
    const [ts, te, tp] = [M / 64, K / 64, N / 64];
    const p = new ProgramBuilder();
    const tile = 4096;
    let job = 0;
    const jobs = ts * tp * te;
    for (let ty = 0; ty < ts; ty++)
      for (let tx = 0; tx < tp; tx++)
        for (let ti = 0; ti < te; ti++, job++) {
          const last = job === jobs - 1;
          let stream = (job === 0 ? ITA_STREAM.PRELOAD : 0) | (last ? 0 : ITA_STREAM.NEXTLOAD);
          if (ti !== te - 1) stream |= ITA_STREAM.OUTPUT_DISABLE;
          const wIdx = (t: number): number => {
            const tx2 = Math.floor((t % (tp * te)) / te);
            const ti2 = t % te;
            return lw + (tx2 * te + ti2) * tile;
          };
          const regs = new Map<number, number>([
            [ITA_REG.CTRL_STREAM, stream],
            [ITA_REG.CTRL_ENGINE, 2 | (1 << 2)], // linear, GELU
            [ITA_REG.INPUT_PTR, itaPtr(lx + (ty * te + ti) * tile)],
            [ITA_REG.WEIGHT_PTR0, itaPtr(wIdx(job))],
            [ITA_REG.BIAS_PTR, itaPtr(lb + tx * 64 * 3)],
            [ITA_REG.OUTPUT_PTR, itaPtr(ly + (ty * tp + tx) * tile)],
          ]);
          if (!last) regs.set(ITA_REG.WEIGHT_PTR1, itaPtr(wIdx(job + 1)));
          if (job < 4) {
            regs.set(ITA_REG.TILES, ts | (te << 4) | (tp << 8) | (1 << 12));
            regs.set(ITA_REG.EPS_MULT0, rq.mult);
            regs.set(ITA_REG.RIGHT_SHIFT0, rq.shift);
            regs.set(ITA_REG.ADD0, rq.add & 0xff);
            regs.set(ITA_REG.GELU_B_C, ((act.gelu.b & 0xffff) | ((act.gelu.c & 0xffff) << 16)) >>> 0);
            regs.set(
              ITA_REG.ACTIVATION_REQUANT,
              act.gelu.rqsMul | (act.gelu.rqsShift << 8) | (act.gelu.rqsAdd << 16),
            );
          }
          p.itaJob(0, regs);
        }
    p.itaWait(0);
    const g: Kernel = {
      op: 'gemm',
      a: lx,
      bt: lw,
      c: lg,
      bias: lb32,
      m: M,
      n: N,
      k: K,
      r0: 0,
      r1: 0,
      aUnsigned: false,
      biasPerRow: false,
      ...rq,
      act: 'gelu',
      geluB: act.gelu.b,
      geluC: act.gelu.c,
      actMult: act.gelu.rqsMul,
      actShift: act.gelu.rqsShift,
      actAdd: act.gelu.rqsAdd,
    };
    // the same linear on the cores (harts 1..8), rows 32..96 (across the two row tiles)
    for (let h = 1; h <= 8; h++) p.kernel(h, { ...g, r0: 24 + 8 * h, r1: 32 + 8 * h });
    p.barrier('linear');
    const run = m.run(p.build(), { maxCycles: 20_000_000 });
    expect(run.finished).toBe(true);
    const exp = linear(Int32Array.from(x), transposeRows(wt, N, K), Int32Array.from(bias), M, K, N, rq, act);
    const got = fromT64(m.read(ly, M * N), M, N);
    expect(Array.from(got)).toEqual(Array.from(exp));
    expect(Array.from(fromT64(m.read(lg, M * N), M, N, false, 32, 96))).toEqual(
      Array.from(exp.slice(32 * N, 96 * N)),
    );
    expect(new Set(exp).size).toBeGreaterThan(10);
    // ITA worked for every job: about 320 cycles of busy per 64 x 64 x 64 job
    expect(run.steps[0]!.ita).toBeGreaterThan(jobs * 250);
    const busy = m.ita!.intervals(run.cycles);
    expect(busy.length).toBe(jobs);
  }, 180_000);

  it('writes a VCD of ITA busy, DMA busy, the cores and the step', () => {
    const m = new Machine({ ita: false });
    const dir = mkdtempSync(join(tmpdir(), 'itasim-tiler-'));
    try {
      const path = join(dir, 'run.vcd');
      const p = new ProgramBuilder();
      p.dma1d(m.l1Base, m.dramAlloc(4096), 4096);
      p.dmaWait();
      p.barrier('load');
      p.kernel(3, { op: 'copy', x: m.l1Base, y: m.l1Base + 4096, rows: 64, cols: 64, r0: 0, r1: 64 });
      p.barrier('copy');
      const run = m.run(p.build(), { vcd: path });
      const text = readFileSync(path, 'utf8');
      for (const v of ['step', 'ita_busy', 'dma_busy', 'core0_active', 'core7_active'])
        expect(text).toContain(` ${v} $end`);
      // the step counter reaches 2 and core 3 works in step 1 only
      expect(text).toMatch(/\nb10 /);
      expect(run.steps[1]!.cores).toBeGreaterThan(64 * 16);
      expect(run.steps[0]!.dma).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a program that hangs stops at maxCycles with an error naming the step', () => {
    const m = new Machine({ ita: false });
    const p = new ProgramBuilder();
    p.barrier('first');
    p.kernel(0, { op: 'copy', x: m.l1Base, y: m.l1Base + 8192, rows: 64, cols: 64, r0: 0, r1: 64 });
    p.barrier('second');
    p.barrier('third');
    const prog = p.build();
    // hart 5 misses its second barrier
    const s = Array.from(prog.streams[5]!);
    s.splice(1, 1);
    prog.streams[5] = Uint32Array.from(s);
    expect(() => m.run(prog, { maxCycles: 20_000 })).toThrow(InputError);
    const m2 = new Machine({ ita: false });
    // without maxCycles: the deadlock (every hart waiting, nothing busy) ends the run
    const m3 = new Machine({ ita: false });
    expect(() => m3.run(prog)).toThrow(/hung in step 2 'third': every hart has waited for 20000 cycles/);
    expect(() => m2.run(prog, { maxCycles: 20_000, deadlockCycles: 1e9 })).toThrow(
      /hung in step 2 'third'.*harts not there: \[5\]/,
    );
  });
});

/** N x K rows -> K x N (ref linear takes W as inner x cols). */
function transposeRows(wt: number[], n: number, k: number): Int32Array {
  const out = new Int32Array(n * k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) out[c * n + r] = wt[r * k + c]!;
  return out;
}

describe('program builder', () => {
  const l1 = 0x1000_0000;
  const gemm: Kernel = {
    op: 'gemm',
    a: l1,
    bt: l1 + 4096,
    c: l1 + 8192,
    bias: 0,
    m: 64,
    n: 64,
    k: 64,
    r0: 0,
    r1: 64,
    aUnsigned: false,
    biasPerRow: false,
    mult: 1,
    shift: 0,
    add: 0,
    act: 'identity',
  };
  const bad = (f: (p: ProgramBuilder) => void, msg: RegExp): void => {
    const p = new ProgramBuilder();
    expect(() => f(p)).toThrow(InputError);
    expect(() => f(new ProgramBuilder())).toThrow(msg);
  };

  it('rejects bad arguments with an InputError naming the parameter', () => {
    bad((p) => p.kernel(9, gemm), /kernel: hart must be an integer from 0 to 8, got 9/);
    bad((p) => p.itaJob(-1, new Map([[0, 0]])), /itaJob: hart/);
    bad((p) => p.itaWait(1.5), /itaWait: hart/);
    bad((p) => p.kernel(0, { ...gemm, r1: 65 }), /kernel gemm: r1 must be an integer from 0 to 64/);
    bad((p) => p.kernel(0, { ...gemm, r0: 10, r1: 5 }), /kernel gemm: r1 must be an integer from 10 to 64/);
    bad((p) => p.kernel(0, { ...gemm, k: 96 }), /kernel gemm: k must be .* a multiple of 64, got 96/);
    bad((p) => p.kernel(0, { ...gemm, a: l1 + 2 }), /kernel gemm: a 0x10000002 must be 4-byte aligned/);
    bad((p) => p.kernel(0, { ...gemm, c: l1 + 128 * 1024 - 64 }), /kernel gemm: c .* must lie in L1/);
    bad((p) => p.kernel(0, { ...gemm, mult: 256 }), /kernel gemm: mult must be an integer from 0 to 255/);
    bad((p) => p.kernel(0, { ...gemm, act: 'gelu' }), /kernel gemm: activation: mult/);
    bad((p) => p.kernel(0, { ...gemm, act: 'gelu', actMult: 1, actShift: 1, actAdd: 0 }), /geluB/);
    bad(
      (p) =>
        p.kernel(0, {
          op: 'sum',
          xs: Array<number>(9).fill(l1),
          y: l1,
          rows: 64,
          cols: 64,
          r0: 0,
          r1: 64,
          mul: 1,
          add: 0,
          shift: 0,
        }),
      /kernel sum: xs must hold 1 to 8 addresses, got 9/,
    );
    bad(
      (p) => p.kernel(0, { op: 'itamax', x: l1, y: l1, rows: 64, cols: 100, r0: 0, r1: 64 }),
      /kernel itamax: cols must be .* multiple of 64, got 100/,
    );
    bad(
      (p) =>
        p.kernel(0, {
          op: 'add',
          a: l1,
          b: l1,
          y: l1,
          rows: 64,
          cols: 64,
          r0: 0,
          r1: 64,
          mul: 1,
          add: 0,
          shift: 32,
        }),
      /kernel add: shift must be an integer from 0 to 31, got 32/,
    );
    bad((p) => p.dma1d(l1, 0x8000_0000, 0), /dma1d: bytes must be an integer from 1/);
    bad((p) => p.dma1d(0x2000_0000, 0x8000_0000, 64), /dma1d: dst 0x20000000/);
    bad((p) => p.dma2d(l1, 0x8000_0000, 64, 64, 64, 0), /dma2d: reps/);
    bad(
      (p) => p.itaJob(0, new Map([[17, 0]])),
      /itaJob: register index must be an integer from 0 to 16, got 17/,
    );
    bad((p) => p.itaJob(0, new Map()), /itaJob: regs must hold at least one register/);
    expect(() => itaPtr(0x8000_0000)).toThrow(/itaPtr: address 0x80000000 is outside L1/);
    expect(itaPtr(l1 + 0x40)).toBe(0x40);
    const p = new ProgramBuilder();
    p.barrier('a');
    p.dmaWait();
    expect(() => p.build()).toThrow(/build: hart 8 has commands after the last barrier/);
    expect(() => new Machine({ ita: false, dramBytes: 1000 })).toThrow(
      /dramBytes must be an integer from 1 MiB/,
    );
  });

  it('refuses commands between an inner-tile ITA job and the next job of its sequence', () => {
    const inner = new Map([[ITA_REG.CTRL_STREAM, ITA_STREAM.OUTPUT_DISABLE]]);
    const last = new Map([[ITA_REG.CTRL_STREAM, 0]]);
    const tries: [string, (p: ProgramBuilder) => void][] = [
      ['dma1d', (p) => p.dma1d(l1, 0x8000_0000, 64)],
      ['dma2d', (p) => p.dma2d(l1, 0x8000_0000, 64, 64, 64, 2)],
      ['dmaWait', (p) => p.dmaWait()],
      ['itaWait', (p) => p.itaWait(DMA_HART)],
      [
        'kernel',
        (p) => p.kernel(DMA_HART, { op: 'copy', x: l1, y: l1 + 4096, rows: 64, cols: 64, r0: 0, r1: 64 }),
      ],
      ["barrier 'b'", (p) => p.barrier('b')],
    ];
    for (const [what, f] of tries) {
      const p = new ProgramBuilder();
      p.itaJob(DMA_HART, inner);
      expect(() => f(p)).toThrow(
        new RegExp(`^${what} on hart 8: the ITA job just issued there computes an inner tile`),
      );
    }
    // other harts are free, and the next job of the sequence closes it
    const p = new ProgramBuilder();
    p.itaJob(DMA_HART, inner);
    p.kernel(0, { op: 'copy', x: l1, y: l1 + 4096, rows: 64, cols: 64, r0: 0, r1: 64 });
    p.itaJob(DMA_HART, last);
    p.dma1d(l1, 0x8000_0000, 64);
    p.itaWait(DMA_HART);
    p.barrier('end');
    expect(p.build().steps).toBe(1);
  });

  it('premultiplies iNoNorm exactly where no int8 x wraps x * w in int16, and only there', () => {
    const mul = -(2 ** 20) + 7;
    const b = 12345;
    const wrap16 = (v: number): number => (v << 16) >> 16;
    for (let w = -300; w <= 300; w++) {
      const pre = premultiplyNoNorm([w], [b], mul);
      let exact = true;
      for (let x = -128; x <= 127; x++) {
        const plain = Math.imul(wrap16(x * w) + b, mul);
        if (((Math.imul(x, Math.imul(w, mul)) + Math.imul(b, mul)) | 0) !== plain) exact = false;
      }
      expect([w, pre !== undefined]).toEqual([w, exact]);
    }
  });

  it('tabulates the requantisation of every sum n int8 values reach', () => {
    const t = sumTable(3, 11, -40, 5);
    expect(t.length).toBe(3 * 255 + 1);
    // entry s + 384 = clip((11 s - 40 + 16) >> 5)
    for (const s of [-384, -1, 0, 1, 381])
      expect((t[s + 384]! << 24) >> 24).toBe(Math.max(-128, Math.min(127, (11 * s - 40 + 16) >> 5)));
  });

  it('encodes the command words as documented', () => {
    const p = new ProgramBuilder();
    p.itaJob(
      2,
      new Map([
        [ITA_REG.INPUT_PTR, 0x100],
        [ITA_REG.CTRL_ENGINE, 2],
        [ITA_REG.CTRL_STREAM, 1],
        [ITA_REG.TILES, 0x11],
      ]),
    );
    p.dma1d(l1, 0x8000_0040, 64);
    expect(p.barrier('x')).toBe(0);
    expect(p.barrier('y')).toBe(1);
    const b = p.build();
    expect(b.steps).toBe(2);
    expect(b.labels).toEqual(['x', 'y']);
    const mask = (1 << 0) | (1 << 6) | (1 << 13) | (1 << 14);
    // 16-bit values in the write order (stream, engine, tiles, input pointer / 4), two per word
    expect(Array.from(b.streams[2]!)).toEqual([
      (5 | (mask << 8) | (1 << 31)) >>> 0,
      1 | (2 << 16),
      0x11 | ((0x100 >> 2) << 16),
      1,
      1 | (1 << 8),
      0,
    ]);
    // a value beyond 16 bits: full words
    const q = new ProgramBuilder();
    q.itaJob(
      0,
      new Map([
        [ITA_REG.EPS_MULT0, 0x01020304],
        [ITA_REG.OUTPUT_PTR, 0x1_0000],
        [ITA_REG.CTRL_STREAM, ITA_STREAM.BIAS_DIR],
      ]),
    );
    q.barrier('z');
    const m2 = (1 << 4) | (1 << 7) | (1 << 14);
    expect(Array.from(q.build().streams[0]!)).toEqual([5 | (m2 << 8), 8, 0x01020304, 0x1_0000, 1, 0]);
    expect(Array.from(b.streams[DMA_HART]!)).toEqual([2, l1, 0x8000_0040, 64, 1, 1 | (1 << 8), 0]);
    // element-wise kernels: add and sum carry their table address (0: none), nonorm a flag
    const e = new ProgramBuilder();
    const mat = { rows: 64, cols: 64, r0: 0, r1: 64 };
    e.kernel(1, {
      op: 'add',
      a: l1,
      b: l1 + 4096,
      y: l1 + 8192,
      ...mat,
      mul: -3,
      add: 5,
      shift: 2,
      lut: l1 + 12288,
    });
    e.kernel(1, { op: 'sum', xs: [l1, l1 + 4096], y: l1 + 8192, ...mat, mul: 7, add: 0, shift: 1 });
    e.kernel(1, {
      op: 'nonorm',
      x: l1,
      y: l1 + 4096,
      w: l1 + 8192,
      b: l1 + 8448,
      ...mat,
      mul: 9,
      log2d: 3,
      premultiplied: true,
    });
    e.barrier('e');
    expect(Array.from(e.build().streams[1]!)).toEqual([
      ...[9, l1, l1 + 4096, l1 + 8192, 64, 64 << 16, 0xffff_fffd, 5, 2, l1 + 12288],
      ...[10 | (2 << 8), l1 + 8192, 64, 64 << 16, 7, 0, 1, 0, l1, l1 + 4096],
      ...[12 | (1 << 8), l1, l1 + 4096, l1 + 8192, l1 + 8448, 64, 64 << 16, 9, 3],
      1,
      0,
    ]);
    expect(Array.from(b.streams[0]!)).toEqual([1, 1 | (1 << 8), 0]);
  });

  it('the reference writes only the rows it is given', () => {
    const mem = new Snapshot({ read: (_a: number, n: number) => new Uint8Array(n) } as unknown as Machine, [
      [l1, 3 * 4096],
    ]);
    mem.write(
      l1,
      toT64(
        Array.from({ length: 4096 }, (_, i) => (i % 7) - 3),
        64,
        64,
      ),
    );
    runKernel(mem, { op: 'copy', x: l1, y: l1 + 4096, rows: 64, cols: 64, r0: 3, r1: 5 });
    const y = fromT64(mem.read(l1 + 4096, 4096), 64, 64);
    expect(y.slice(0, 3 * 64).every((v) => v === 0)).toBe(true);
    expect(Array.from(y.slice(3 * 64, 5 * 64))).toEqual(
      Array.from({ length: 128 }, (_, i) => ((i + 192) % 7) - 3),
    );
    expect(y.slice(5 * 64).every((v) => v === 0)).toBe(true);
  });
});
