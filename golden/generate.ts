/**
 * The inputs of an ITA test case drawn as PyITA's `testGenerator.py` draws them, so that the same
 * seed gives the same tensors, constants and hence the same files.
 *
 * PyITA's order, after `np.random.seed(seed)`:
 *   1. Requantisation multipliers: seven `randint(64, 127, (1, H), uint8)` calls (Q, K, V, QK, AV,
 *      OW, head sum), then two `randint(64, 127, (1, 1), uint8)` (F1, F2). The right shifts follow
 *      from the multipliers: floor(log2(mult * reach)) - 6 with the step's reach (E*2^9 for the
 *      projections and OW, P*2^8 for QK, S*2^5 for AV, H*2^7 for the head sum, using head 0's
 *      multiplier for every head, E*2^9 / F*2^9 for F1 / F2), products in uint32, stored as uint8.
 *      Adds are zero.
 *   2. GELU constants: fixed (no random draw).
 *   3. Tensors, each `standard_cauchy(shape) * 2^(bits-1) / 4`, clipped to the signed `bits`-bit
 *      range and truncated toward zero: Q, V (K = V), FF (S x E); Wq, Wk, Wv (H x E x P), Wo
 *      (H x P x E); Wff (1 x E x F), Wff2 (1 x F x E), all 8 bits; then, with bias only, Bq, Bk, Bv
 *      (H x P, floor(log2 P) + 8 bits), Bo (H x E, floor(log2 E) + 8), Bff (1 x F,
 *      floor(log2 F) + 8) and Bff2 (1 x E, floor(log2 E) + 8).
 *   4. The activation test input: `randint(-128, 127, (S, F), int8)` (values -128..126).
 *
 * `native` mode draws from a generator of this project instead (xoshiro128**, Cauchy values by the
 * inverse CDF): faster, same distributions and shapes, but NOT the values PyITA gives for a seed.
 */
import type { ItaInputs, ItaOutputs, ItaParams, RequantTable, Tensor, GeluConstants } from './types.ts';
import { ACTIVATIONS } from './types.ts';
import { InputError, SEED_MAX, checkInt } from '../rtl-model/errors.ts';
import { RandomState, clipTrunc } from './numpy-random.ts';
import { I32, ensureMemory, instantiate, op } from '../rtl-model/wasm.ts';
import type { Code, WasmFunction, WasmMemory } from '../rtl-model/wasm.ts';

/** Seed modes: `pyita` reproduces numpy's legacy stream; `native` is this project's own. */
export type SeedMode = 'pyita' | 'native';
export const SEED_MODES: readonly SeedMode[] = ['pyita', 'native'];

/** ITA's tile edge (ITA_M): every dimension is a multiple of it. */
export const DIM_STEP = 64;
/** Largest dimension testGenerator.py accepts (the 26-bit accumulator's reach). */
export const DIM_MAX = 512;
/** Largest head count accepted here (testGenerator.py sets none; this bounds memory and time). */
export const HEADS_MAX = 256;
/** The largest seed numpy's `seed(int)` takes (the same for every command). */
export { SEED_MAX };

/** testGenerator.py's defaults. */
export const DEFAULT_PARAMS: ItaParams = {
  S: 64,
  E: 64,
  P: 64,
  F: 64,
  H: 1,
  activation: 'identity',
  bias: true,
};

/** Checks parameters the way testGenerator.py constrains them; errors name the flag. */
export function validateParams(p: ItaParams): ItaParams {
  for (const k of ['S', 'E', 'P', 'F'] as const) checkInt(`-${k}`, p[k], DIM_STEP, DIM_MAX, DIM_STEP);
  checkInt('-H', p.H, 1, HEADS_MAX);
  if (!ACTIVATIONS.includes(p.activation)) {
    throw new InputError(
      `--activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(p.activation)}`,
    );
  }
  return p;
}

/** Checks a seed (`--seed`): an integer from 0 to 2^32 - 1, as numpy's `seed(int)` requires. */
export function validateSeed(seed: number): number {
  return checkInt('--seed', seed, 0, SEED_MAX);
}

/** The source of random values the generator needs (numpy's RandomState or the native one). */
interface Draws {
  /** `randint(low, high, n)` into int32 values (PyITA: uint8 / int8 dtypes). */
  randint(low: number, high: number, n: number, dtype: 'uint8' | 'int8'): Int32Array;
  /**
   * Standard Cauchy values times `mul` (a power of two), clipped to lo..hi and truncated toward
   * zero (`clipTrunc`), one per element of `out`.
   */
  cauchyClipTrunc(out: Int32Array, mul: number, lo: number, hi: number): Int32Array;
}

function numpyDraws(seed: number): Draws {
  const rs = new RandomState(seed);
  return {
    randint: (low, high, n, dtype) => new Int32Array(rs.randint(low, high, n, dtype)),
    cauchyClipTrunc: (out, mul, lo, hi) => rs.standardCauchyClipTrunc(out, mul, lo, hi),
  };
}

/** xoshiro128** seeded through splitmix32; Cauchy values as tan(pi * (u - 1/2)). */
function nativeDraws(seed: number): Draws {
  let x = seed >>> 0;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  const next = (): number => {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return r;
  };
  return {
    randint: (low, high, n) => {
      const out = new Int32Array(n);
      const span = high - low;
      for (let i = 0; i < n; i++) out[i] = low + Math.floor((next() / 4294967296) * span);
      return out;
    },
    cauchyClipTrunc: (out, mul, lo, hi) => {
      for (let i = 0; i < out.length; i++) {
        // u in (0, 1): 32 random bits plus a half step away from both ends.
        const u = (next() + 0.5) / 4294967296;
        out[i] = clipTrunc(Math.tan(Math.PI * (u - 0.5)) * mul, lo, hi);
      }
      return out;
    },
  };
}

function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0;
}

/** floor(log2(v)) of a positive uint32 (numpy: `np.log2(v).astype(np.uint32)`). */
function floorLog2(v: number): number {
  return 31 - Math.clz32(v);
}

/** a * b in uint32 arithmetic (numpy's uint32 array times a Python int). */
function mulU32(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

/** The right shift PyITA derives from a multiplier and a step's reach: log2(mult * reach) - 8 + 2. */
function shiftFor(mult: number, factors: number[]): number {
  let v = mult;
  for (const f of factors) v = mulU32(v, f);
  return (floorLog2(v) - 8 + 2) & 0xff;
}

function requantTables(d: Draws, p: ItaParams): { attn: RequantTable; ffn: RequantTable } {
  const { S, E, P, F, H } = p;
  const reach: number[][] = [
    [E, 2 ** 9],
    [E, 2 ** 9],
    [E, 2 ** 9],
    [P, 2 ** 8],
    [S, 2 ** 5],
    [E, 2 ** 9],
    [H, 2 ** 7],
  ];
  const attn: RequantTable = { mult: [], shift: [], add: [] };
  for (let step = 0; step < 7; step++) {
    const mult = Array.from(d.randint(64, 127, H, 'uint8'));
    attn.mult.push(mult);
    // The head sum shares head 0's shift across all heads.
    const shift =
      step === 6 ? mult.map(() => shiftFor(mult[0]!, reach[6]!)) : mult.map((m) => shiftFor(m, reach[step]!));
    attn.shift.push(shift);
    attn.add.push(new Array<number>(H).fill(0));
  }
  const ffn: RequantTable = { mult: [], shift: [], add: [] };
  for (const r of [E, F]) {
    const m = d.randint(64, 127, 1, 'uint8')[0]!;
    ffn.mult.push([m]);
    ffn.shift.push([shiftFor(m, [r, 2 ** 9])]);
    ffn.add.push([0]);
  }
  return { attn, ffn };
}

/** numpy's float32 machine epsilon, 2^-23 (PyITA adds it before flooring to round half up). */
const F32_EPS = 2 ** -23;

/** PyITA's `round_and_clip(x, bits)` followed by the integer cast. */
function roundClip(x: number, bits: number): number {
  const r = Math.floor(x + 0.5 + F32_EPS);
  return Math.min(Math.max(r, -(2 ** (bits - 1))), 2 ** (bits - 1) - 1);
}

/**
 * The integer GELU constants (i-GELU, a = -0.2888, b = -1.769, c = 1) for PyITA's input scale:
 * 8-bit almost-symmetric quantisation of [-4, 4 * 254/256], and D = 2^20 for the requantisation.
 */
export function geluConstants(): GeluConstants {
  const clipLo = -4;
  const levels = 2 ** 8;
  const clipHi = clipLo * ((-levels + 2) / levels);
  const scale = clipHi / (levels / 2 - 1);
  const a = -0.2888;
  const b = -1.769;
  const c = 1;
  const s2 = scale / Math.sqrt(2);
  const D = 2 ** 20;
  const sOut = (scale * a * s2 ** 2) / 2;
  return {
    one: roundClip(1 / (a * s2 ** 2), 16),
    b: roundClip(b / s2, 16),
    c: roundClip(c / (a * s2 ** 2), 16),
    rqsMul: roundClip((-sOut / scale) * D, 8) & 0xff,
    rqsShift: roundClip(Math.log2(D), 8),
    rqsAdd: 0,
  };
}

function tensor(shape: number[], data: Int32Array): Tensor {
  return { shape, data };
}

/**
 * PyITA's `random_shuffled_tensor(shape, bits)`: scaled Cauchy values, clipped, truncated
 * (`standard_cauchy * 2^(bits-1) / 4`; both factors are powers of two, so their product scales
 * each value exactly as the two multiplications do).
 */
function cauchyTensor(d: Draws, shape: number[], bits: number): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  const scale = 2 ** (bits - 1);
  return tensor(shape, d.cauchyClipTrunc(new Int32Array(n), scale * 0.25, -scale, scale - 1));
}

/** The inputs PyITA's testGenerator.py makes for `params` and `seed`. */
export function generateInputs(params: ItaParams, seed: number, mode: SeedMode = 'pyita'): ItaInputs {
  const p = validateParams({ ...params });
  validateSeed(seed);
  const { S, E, P, F, H } = p;
  const d = mode === 'native' ? nativeDraws(seed) : numpyDraws(seed);

  const rq = requantTables(d, p);
  const gelu = geluConstants();

  const Q = cauchyTensor(d, [S, E], 8);
  const V = cauchyTensor(d, [S, E], 8);
  const FF = cauchyTensor(d, [S, E], 8);
  const Wq = cauchyTensor(d, [H, E, P], 8);
  const Wk = cauchyTensor(d, [H, E, P], 8);
  const Wv = cauchyTensor(d, [H, E, P], 8);
  const Wo = cauchyTensor(d, [H, P, E], 8);
  const Wff = cauchyTensor(d, [1, E, F], 8);
  const Wff2 = cauchyTensor(d, [1, F, E], 8);
  const bias = (shape: number[], dim: number): Tensor =>
    p.bias
      ? cauchyTensor(d, shape, floorLog2(dim) + 8)
      : tensor(shape, new Int32Array(shape.reduce((x, y) => x * y, 1)));
  const Bq = bias([H, P], P);
  const Bk = bias([H, P], P);
  const Bv = bias([H, P], P);
  const Bo = bias([H, E], E);
  const Bff = bias([1, F], F);
  const Bff2 = bias([1, E], E);
  const preactivation = tensor([S, F], d.randint(-128, 127, S * F, 'int8'));

  return {
    params: p,
    Q,
    K: tensor([S, E], V.data.slice()),
    Wq,
    Wk,
    Wv,
    Wo,
    Bq,
    Bk,
    Bv,
    Bo,
    FF,
    Wff,
    Wff2,
    Bff,
    Bff2,
    preactivation,
    rqsAttn: rq.attn,
    rqsFfn: rq.ffn,
    gelu,
  };
}

/**
 * PyITA's check that no output is constant (testGenerator.py fails unless
 * `--skip-vector-validation`): for Qp, Kp, Vp, A, A_soft, O_soft, Out_soft and Out_soft_sum, the
 * mean absolute difference between neighbours along rows and along columns must both be at least
 * 0.1. Differences wrap in the tensor's own type as numpy's `np.diff` does (int8; uint8 for A_soft),
 * and the absolute value of an int8 -128 stays -128. Returns the name of the first constant tensor,
 * or undefined.
 */
export function findConstantOutput(o: ItaOutputs): string | undefined {
  const checks: [string, Tensor, boolean][] = [
    ['Qp', o.Qp, false],
    ['Kp', o.Kp, false],
    ['Vp', o.Vp, false],
    ['A', o.A, false],
    ['A_soft', o.A_soft, true],
    ['O_soft', o.O_soft, false],
    ['Out_soft', o.Out_soft, false],
    ['Out_soft_sum', o.Out_soft_sum, false],
  ];
  for (const [name, t, unsigned] of checks) {
    const [rowMean, colMean] = neighbourDiffMeans(t, unsigned);
    if (rowMean < 0.1 || colMean < 0.1) return name;
  }
  return undefined;
}

/** |np.diff| of two values by (b - a) & 0xff: int8 differences (|-128| stays -128), or uint8 ones. */
const ABS_DIFF_S8 = new Int32Array(256);
const ABS_DIFF_U8 = new Int32Array(256);
for (let d = 0; d < 256; d++) {
  const s = d >= 128 ? d - 256 : d;
  ABS_DIFF_S8[d] = s === -128 ? -128 : Math.abs(s);
  ABS_DIFF_U8[d] = d;
}

/** Mean |np.diff| along the second-to-last and the last axis, in numpy's 8-bit arithmetic. */
export function neighbourDiffMeans(t: Tensor, unsigned: boolean): [number, number] {
  const cols = t.shape[t.shape.length - 1]!;
  const rows = t.shape[t.shape.length - 2]!;
  const mats = t.data.length / (rows * cols);
  const abs = unsigned ? ABS_DIFF_U8 : ABS_DIFF_S8;
  // The sums are integers well below 2^53: exact in any order.
  let sumRow = 0;
  let sumCol = 0;
  const x = t.data;
  const k = getDiffKernel();
  for (let m = 0; m < mats; m++) {
    const base = m * rows * cols;
    if (k) {
      const [r, c] = diffSumsOnKernel(k, x.subarray(base, base + rows * cols), rows, cols, unsigned);
      sumRow += r;
      sumCol += c;
      continue;
    }
    for (let r = 0; r < rows; r++) {
      const o = base + r * cols;
      if (r + 1 < rows) for (let c = 0; c < cols; c++) sumRow += abs[(x[o + c + cols]! - x[o + c]!) & 0xff]!;
      for (let c = 0; c + 1 < cols; c++) sumCol += abs[(x[o + c + 1]! - x[o + c]!) & 0xff]!;
    }
  }
  return [sumRow / (mats * (rows - 1) * cols), sumCol / (mats * rows * (cols - 1))];
}

// The sums of neighbourDiffMeans for one matrix on WebAssembly (it runs once, over every output
// value, mostly before JavaScript would have optimised it). Memory: ABS_DIFF_S8 at 0, ABS_DIFF_U8
// at 1024 (int32 each), the two sums at SUMS, the matrix from MATRIX.

const SUMS = 2048;
const MATRIX = 4096;

/**
 * `diff(src, rows, cols, table)`: over the rows x cols int32 matrix at src, the sums of
 * table[(next - value) & 255] for each value's neighbour below (into SUMS) and to its right (SUMS +
 * 4); int32 sums, at most 512 * 512 * 255.
 */
function diffFunction(): WasmFunction {
  const { get, set, tee } = op;
  // src 0, rows 1, cols 2, table 3; p 4, end 5, lastRow 6, c 7, sumRow 8, sumCol 9, x 10
  const term = (offset: Code, sum: number) => [
    get(sum),
    get(3),
    get(4),
    offset,
    op.i32Load(),
    get(10),
    op.i32Sub,
    op.i32(255),
    op.i32And,
    op.i32(2),
    op.i32Shl,
    op.i32Add,
    op.i32Load(),
    op.i32Add,
    set(sum),
  ];
  const code = [
    [get(0), set(4), get(1), get(2), op.i32Mul, op.i32(2), op.i32Shl, get(0)],
    [op.i32Add, tee(5), get(2), op.i32(2), op.i32Shl, op.i32Sub, set(6)],
    [op.i32(0), set(7), op.i32(0), set(8), op.i32(0), set(9)],
    op.block,
    op.loop,
    [get(4), get(5), op.i32GeU, op.brIf(1)],
    [get(4), op.i32Load(), set(10)],
    [get(4), get(6), op.i32LtU, op.if],
    term([get(2), op.i32(2), op.i32Shl, op.i32Add], 8),
    op.end,
    [get(7), op.i32(1), op.i32Add, tee(7), get(2), op.i32LtU],
    op.if,
    term([op.i32(4), op.i32Add], 9),
    op.else,
    [op.i32(0), set(7)],
    op.end,
    [get(4), op.i32(4), op.i32Add, set(4), op.br(0)],
    op.end,
    op.end,
    [op.i32(SUMS), get(8), op.i32Store(), op.i32(SUMS), get(9), op.i32Store(4)],
  ];
  return { name: 'diff', params: [I32, I32, I32, I32], results: [], locals: [[I32, 7]], code };
}

interface DiffKernel {
  diff(src: number, rows: number, cols: number, table: number): void;
  mem: WasmMemory;
}

/** The kernel (undefined until first used; null where WebAssembly is missing). */
let diffKernel: DiffKernel | null | undefined;

function getDiffKernel(): DiffKernel | null {
  if (diffKernel === undefined) {
    diffKernel = instantiate<DiffKernel>([diffFunction()]);
    if (diffKernel) {
      new Int32Array(diffKernel.mem.buffer, 0, 256).set(ABS_DIFF_S8);
      new Int32Array(diffKernel.mem.buffer, 1024, 256).set(ABS_DIFF_U8);
    }
  }
  return diffKernel;
}

/** The row and column sums of one matrix (see `diffFunction`). */
function diffSumsOnKernel(
  k: DiffKernel,
  m: Int32Array,
  rows: number,
  cols: number,
  unsigned: boolean,
): [number, number] {
  ensureMemory(k.mem, MATRIX + 4 * m.length);
  new Int32Array(k.mem.buffer, MATRIX, m.length).set(m);
  k.diff(MATRIX, rows, cols, unsigned ? 1024 : 0);
  const sums = new Int32Array(k.mem.buffer, SUMS, 2);
  return [sums[0]!, sums[1]!];
}
