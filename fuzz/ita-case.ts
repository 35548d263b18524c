/**
 * Whole-accelerator fuzz cases: a small configuration, every tensor, the requantisation and GELU
 * constants and a stall pattern, and how to run one through the cycle-level ITA (the standalone
 * testbench on an in-memory PyITA folder) and through the functional reference.
 *
 * Tensors are described, not listed: a distribution, a seed and a density mask. Element (h, r, c)
 * of a tensor is a pure function of its description and its coordinates, so a tensor keeps its
 * values when the shrinker makes the dimensions smaller, and lowering the density only removes
 * non-zero elements (the masks are nested). Shrinking therefore walks towards S = E = P = F = 64,
 * H = 1, all stall probabilities 0 and tensors with a handful of non-zero elements.
 */
import fc from 'fast-check';
import { folderFiles, writeFolder, pyitaCommandLine } from '../golden/folder.ts';
import { geluConstants } from '../golden/generate.ts';
import type { ItaCase, ItaInputs, ItaParams, RequantTable, Tensor } from '../golden/types.ts';
import { computeOutputs } from '../rtl-model/ref/ita.ts';
import { runFolder } from '../rtl-model/ita/run.ts';
import type { RunOptions, RunResult } from '../rtl-model/ita/run.ts';
import type { StallSource } from '../rtl-model/ita/stalls.ts';
import { DISTRIBUTIONS, geluConst, requantConst, requantConstPyIta, stallPattern } from './arbitraries.ts';
import type { Distribution, GeluConst, RequantConst, StallPattern } from './arbitraries.ts';
import { applyInjection } from './inject.ts';

/** Size of the element hash space (16 bits). */
export const DENSITY_FULL = 65536;

/** Half-open intervals of the 16-bit element hash space, sorted and disjoint. */
export type KeepSet = [number, number][];

/** A tensor by description: values from `dist`, kept where the element's hash is in `keep`. */
export interface TensorSpec {
  dist: Distribution;
  seed: number;
  keep: KeepSet;
}

function measure(k: KeepSet): number {
  let n = 0;
  for (const [lo, hi] of k) n += hi - lo;
  return n;
}

/** The part of `k` whose measure lies in [from, to) (measured from the start of `k`). */
function slice(k: KeepSet, from: number, to: number): KeepSet {
  const out: KeepSet = [];
  let pos = 0;
  for (const [lo, hi] of k) {
    const a = Math.max(lo, lo + from - pos);
    const b = Math.min(hi, lo + to - pos);
    if (a < b) out.push([a, b]);
    pos += hi - lo;
  }
  return out;
}

/**
 * The set of kept elements of a tensor. Generated as the whole hash space (dense) half of the time,
 * else a prefix of it (from a few elements to most of them). Shrinks like delta debugging: to
 * nothing, to either half, then to the set without one of its quarters; so a failure that needs a
 * single element of a tensor shrinks to that element in about 16 steps.
 */
class KeepArbitrary extends fc.Arbitrary<KeepSet> {
  generate(mrng: fc.Random): fc.Value<KeepSet> {
    const full = mrng.nextInt(0, 1) === 1;
    const hi = full ? DENSITY_FULL : 2 ** mrng.nextInt(0, 16);
    return new fc.Value<KeepSet>([[0, hi]], undefined);
  }
  canShrinkWithoutContext(v: unknown): v is KeepSet {
    return Array.isArray(v) && v.every((x) => Array.isArray(x) && x.length === 2);
  }
  shrink(k: KeepSet): fc.Stream<fc.Value<KeepSet>> {
    const n = measure(k);
    if (n === 0) return fc.Stream.nil();
    const cands: KeepSet[] = [[]];
    if (n > 1) {
      const h = Math.floor(n / 2);
      cands.push(slice(k, 0, h), slice(k, h, n));
      if (n >= 4) {
        const q = [0, Math.floor(n / 4), h, Math.floor((3 * n) / 4), n];
        for (let i = 0; i < 4; i++) cands.push([...slice(k, 0, q[i]!), ...slice(k, q[i + 1]!, n)]);
      }
    }
    return fc.Stream.of(...cands.map((c) => new fc.Value<KeepSet>(c, undefined)));
  }
}

export function tensorSpec(): fc.Arbitrary<TensorSpec> {
  return fc.record({
    dist: fc.constantFrom<Distribution>(...DISTRIBUTIONS),
    seed: fc.nat(2 ** 31 - 1),
    keep: new KeepArbitrary(),
  });
}

/** A bias tensor: int8-like values scaled by 2^scaleBits plus random low bits (24-bit range). */
export interface BiasSpec {
  t: TensorSpec;
  scaleBits: number;
}

export interface ItaFuzzCase {
  params: ItaParams;
  Q: TensorSpec;
  K: TensorSpec;
  Wq: TensorSpec;
  Wk: TensorSpec;
  Wv: TensorSpec;
  Wo: TensorSpec;
  FF: TensorSpec;
  Wff: TensorSpec;
  Wff2: TensorSpec;
  Bq: BiasSpec;
  Bk: BiasSpec;
  Bv: BiasSpec;
  Bo: BiasSpec;
  Bff: BiasSpec;
  Bff2: BiasSpec;
  /** 7 attention steps x 2 heads, then the 2 feed-forward steps. */
  rqs: RequantConst[];
  /** null: PyITA's GELU constants. */
  gelu: GeluConst | null;
  stalls: StallPattern;
}

export function biasSpec(): fc.Arbitrary<BiasSpec> {
  return fc.record({ t: tensorSpec(), scaleBits: fc.constantFrom(0, 4, 6, 8, 16) });
}

/** 64 most of the time: 64 x 64 x 64 cases dominate and every dimension shrinks to 64. */
const smallDim = (): fc.Arbitrary<number> => fc.constantFrom(64, 64, 64, 128);

/**
 * A whole case: S, E, P, F in {64, 128}, H in {1, 2}, any activation, requantisation constants in
 * PyITA's ranges or (one time in three) over the full hardware ranges, PyITA's or random GELU
 * constants, a stall pattern on the three handshakes.
 */
export interface CaseOptions {
  /** Largest requantisation right shift drawn (255: the whole 8-bit range). */
  maxShift?: number;
}
export function itaFuzzCase(o: CaseOptions = {}): fc.Arbitrary<ItaFuzzCase> {
  const maxShift = o.maxShift ?? 255;
  return fc.record({
    params: fc.record({
      S: smallDim(),
      E: smallDim(),
      P: smallDim(),
      F: smallDim(),
      H: fc.constantFrom(1, 1, 1, 2),
      activation: fc.constantFrom('identity' as const, 'relu' as const, 'gelu' as const),
      bias: fc.boolean(),
    }),
    Q: tensorSpec(),
    K: tensorSpec(),
    Wq: tensorSpec(),
    Wk: tensorSpec(),
    Wv: tensorSpec(),
    Wo: tensorSpec(),
    FF: tensorSpec(),
    Wff: tensorSpec(),
    Wff2: tensorSpec(),
    Bq: biasSpec(),
    Bk: biasSpec(),
    Bv: biasSpec(),
    Bo: biasSpec(),
    Bff: biasSpec(),
    Bff2: biasSpec(),
    rqs: fc.array(
      fc.oneof(
        { weight: 2, arbitrary: requantConstPyIta() },
        { weight: 1, arbitrary: requantConst(maxShift) },
      ),
      { minLength: 16, maxLength: 16 },
    ),
    gelu: fc.option(geluConst(Math.min(40, maxShift)), { freq: 3 }),
    stalls: stallPattern(),
  });
}

// ---------------------------------------------------------------------------------------------
// Materialising a description

/** A 32-bit mix of four integers (murmur3-style finaliser). */
function mix(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ d, 0x165667b1);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The int8 value a distribution gives element (h, r, c), before the mask. */
function value8(s: TensorSpec, h: number, r: number, c: number): number {
  const u = mix(s.seed, h, r, c);
  switch (s.dist) {
    case 'uniform':
    case 'sparse':
      return (u & 0xff) - 128;
    case 'cauchy': {
      const x = (u / 4294967296 - 0.5) * Math.PI * 0.999999;
      return Math.trunc(Math.max(-128, Math.min(127, Math.tan(x) * 32)));
    }
    case 'constant-rows':
      return (mix(s.seed, h, r, -1) & 0xff) - 128;
    case 'all-min':
      return -128;
    case 'all-max':
      return 127;
    case 'saturating':
      return u & 1 ? 127 : -128;
    case 'one-hot': {
      const k = mix(s.seed, h, -2, -2);
      if (r !== (k & 63) || c !== ((k >>> 6) & 63)) return 0;
      const v = ((k >>> 12) & 0xff) - 128;
      return v === 0 ? 1 : v;
    }
  }
}

function kept(s: TensorSpec, h: number, r: number, c: number): boolean {
  if (s.dist === 'one-hot') return s.keep.length > 0;
  const x = mix(~s.seed, h, r, c) & 0xffff;
  // 'sparse': about 8 elements in 4096 at most
  if (s.dist === 'sparse' && x >= 128) return false;
  for (const [lo, hi] of s.keep) if (x >= lo && x < hi) return true;
  return false;
}

/** Materialises an int8 tensor of shape [heads, rows, cols] (or [rows, cols] with heads 0). */
export function int8Of(s: TensorSpec, shape: number[]): Tensor {
  const [H, R, C] = shape.length === 3 ? (shape as [number, number, number]) : [1, shape[0]!, shape[1]!];
  const data = new Int32Array(H * R * C);
  let k = 0;
  for (let h = 0; h < H; h++)
    for (let r = 0; r < R; r++)
      for (let c = 0; c < C; c++, k++) data[k] = kept(s, h, r, c) ? value8(s, h, r, c) : 0;
  return { shape, data };
}

/** Materialises a bias tensor [heads, len]: 24-bit values. */
export function biasOf(b: BiasSpec, shape: [number, number], enabled: boolean): Tensor {
  const [H, L] = shape;
  const data = new Int32Array(H * L);
  if (!enabled) return { shape, data };
  const low = 2 ** b.scaleBits - 1;
  let k = 0;
  for (let h = 0; h < H; h++)
    for (let c = 0; c < L; c++, k++) {
      if (!kept(b.t, h, 0, c)) continue;
      const v = value8(b.t, h, 0, c) * 2 ** b.scaleBits + (mix(b.t.seed, h, 7, c) & low);
      data[k] = Math.max(-(2 ** 23), Math.min(2 ** 23 - 1, v));
    }
  return { shape, data };
}

function table(
  rows: RequantConst[],
  steps: number,
  heads: number,
  from: number,
  stride: number,
): RequantTable {
  const t: RequantTable = { mult: [], shift: [], add: [] };
  for (let s = 0; s < steps; s++) {
    const m: number[] = [];
    const sh: number[] = [];
    const a: number[] = [];
    for (let h = 0; h < heads; h++) {
      const q = rows[from + s * stride + Math.min(h, stride - 1)]!;
      m.push(q.mult);
      sh.push(q.shift);
      a.push(q.add);
    }
    t.mult.push(m);
    t.shift.push(sh);
    t.add.push(a);
  }
  return t;
}

/** The reference's inputs of a case. */
export function inputsOf(fc_: ItaFuzzCase): ItaInputs {
  const p = fc_.params;
  const { S, E, P, F, H } = p;
  const K = int8Of(fc_.K, [S, E]);
  const g = fc_.gelu;
  return {
    params: { ...p },
    Q: int8Of(fc_.Q, [S, E]),
    K,
    Wq: int8Of(fc_.Wq, [H, E, P]),
    Wk: int8Of(fc_.Wk, [H, E, P]),
    Wv: int8Of(fc_.Wv, [H, E, P]),
    Wo: int8Of(fc_.Wo, [H, P, E]),
    Bq: biasOf(fc_.Bq, [H, P], p.bias),
    Bk: biasOf(fc_.Bk, [H, P], p.bias),
    Bv: biasOf(fc_.Bv, [H, P], p.bias),
    Bo: biasOf(fc_.Bo, [H, E], p.bias),
    FF: int8Of(fc_.FF, [S, E]),
    Wff: int8Of(fc_.Wff, [1, E, F]),
    Wff2: int8Of(fc_.Wff2, [1, F, E]),
    Bff: biasOf(fc_.Bff, [1, F], p.bias),
    Bff2: biasOf(fc_.Bff2, [1, E], p.bias),
    preactivation: { shape: [S, F], data: new Int32Array(S * F) },
    rqsAttn: table(fc_.rqs, 7, H, 0, 2),
    rqsFfn: table(fc_.rqs, 2, 1, 14, 1),
    gelu: g
      ? { one: g.c, b: g.b, c: g.c, rqsMul: g.rqsMul, rqsShift: g.rqsShift, rqsAdd: g.rqsAdd }
      : geluConstants(),
  };
}

/** PyITA's folder name of a case (what the testbench reads the dimensions from). */
export function folderName(p: ItaParams): string {
  return `S${p.S}_E${p.E}_P${p.P}_F${p.F}_H${p.H}_B${p.bias ? 1 : 0}_${p.activation}_fuzz`;
}

/** The files the standalone testbench reads (root constants and `standalone/`), in memory. */
export function standaloneFolder(c: ItaCase): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const [path, data] of folderFiles(c, { commandLine: '', exportSnitchCluster: false })) {
    if (path.startsWith('hwpe/')) break; // root and standalone files come first
    files.set(path, data);
  }
  return files;
}

/** Writes the full PyITA folder of a case (reproducer). */
export function writeCaseFolder(dir: string, c: ItaCase): void {
  writeFolder(dir, c, { commandLine: pyitaCommandLine(c.inputs.params, 0), exportSnitchCluster: true });
}

/** Independent coins per handshake with the pattern's probabilities (xorshift32 per stream). */
export function stallSource(s: StallPattern): StallSource {
  const gen = (k: number, p: number): ((cycle: number) => number) => {
    if (p === 0) return () => 1;
    let x = mix(s.seed, k, 0, 0) || 1;
    return () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 4294967296 < p ? 0 : 1;
    };
  };
  return { inp: gen(1, s.inputStall), weight: gen(2, s.weightStall), ready: gen(3, s.outputStall) };
}

export const NO_STALL_PATTERN: StallPattern = { inputStall: 0, weightStall: 0, outputStall: 0, seed: 0 };

/**
 * Runs every head of a case through the cycle-level ITA (standalone testbench, both layers) with
 * the given stall pattern and fault injection; the testbench compares every output word with the
 * reference's. `vcd` (head 0 only) writes a waveform.
 */
export function runCase(
  c: ItaCase,
  stalls: StallPattern,
  inject: string | undefined,
  opts: { vcd?: string; heads?: number } = {},
): RunResult[] {
  const files = standaloneFolder(c);
  const name = folderName(c.inputs.params);
  const heads = opts.heads ?? c.inputs.params.H;
  const out: RunResult[] = [];
  for (let h = 0; h < heads; h++) {
    let patched = false;
    const ro: RunOptions = {
      stalls: stallSource(stalls),
      hangCycles: 20_000,
      observe: inject
        ? (_cycle, dut) => {
            if (!patched) {
              applyInjection(dut, inject);
              patched = true;
            }
          }
        : undefined,
    };
    if (opts.vcd && h === 0) ro.vcd = opts.vcd;
    out.push(runFolder(files, name, h, ro));
  }
  return out;
}

/** The reference's case (inputs and outputs). */
export function referenceCase(f: ItaFuzzCase): ItaCase {
  const inputs = inputsOf(f);
  return { inputs, outputs: computeOutputs(inputs) };
}

/** Number of non-zero elements of every tensor of a case (for reports). */
export function nonZeros(inputs: ItaInputs): Record<string, number> {
  const out: Record<string, number> = {};
  const names = [
    'Q',
    'K',
    'Wq',
    'Wk',
    'Wv',
    'Wo',
    'FF',
    'Wff',
    'Wff2',
    'Bq',
    'Bk',
    'Bv',
    'Bo',
    'Bff',
    'Bff2',
  ] as const;
  for (const n of names) {
    const d = inputs[n].data;
    let k = 0;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) k++;
    out[n] = k;
  }
  return out;
}
