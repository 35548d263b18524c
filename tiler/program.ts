/**
 * The program the tiler's cluster runtime (`sw/kernels/tiler.c`, `sw/bin/tiler.elf`) executes: one
 * command stream per hart (harts 0..7 compute, hart 8 the DMA core), cut into steps by cluster
 * barriers that every stream contains the same number of times.
 *
 * Command encoding (little-endian 32-bit words). The first word of a command is its header:
 * bits [7:0] the opcode, bits [31:8] an opcode-specific field `x`. Operand words follow.
 *
 *   op  name       x                                 operand words
 *    0  END        -                                 (end of the stream; appended by build())
 *    1  BARRIER    step index (low 24 bits)          -
 *    2  DMA1D      -                                 dst, src, bytes
 *    3  DMA2D      -                                 dst, src, bytes, dstStride, srcStride, reps
 *    4  DMA_WAIT   -                                 -  (until the DMA is idle)
 *    5  ITA_JOB    mask of job registers [16:0]      one value per set bit: CTRL_STREAM first,
 *                                                    CTRL_ENGINE second (when set), then the others
 *                                                    by ascending index
 *    6  ITA_WAIT   -                                 -
 *    7  GEMM       [0] aUnsigned, [1] biasPerRow,    a, bt, c, bias, m, n, k, r0 | r1 << 16,
 *                  [3:2] act (0 id, 1 relu, 2 gelu)  rq, gelu, actRq
 *                  [4] Deeploy's requantiser         (then rq, gelu = mul, add vector addresses,
 *                                                    actRq = shift | unsigned << 8)
 *                  rq / actRq = mult | shift << 8 | (add & 0xff) << 16; gelu = (b & 0xffff) | c << 16
 *    8  ITAMAX     -                                 x, y, cols, r0 | r1 << 16
 *    9  ADD        -                                 a, b, y, cols, r0 | r1 << 16, mul, add, shift, lut
 *   10  SUM        number of inputs n (1..8)         y, cols, r0 | r1 << 16, mul, add, shift, lut,
 *                                                    x0..x(n-1)
 *   11  LAYERNORM  -                                 x, y, w, b, cols, r0 | r1 << 16, log2d, sq
 *   12  NONORM     [0] premultiplied                 x, y, w, b, cols, r0 | r1 << 16, mul, log2d
 *   13  COPY       -                                 x, y, cols, r0 | r1 << 16
 *   14  ISOFTMAX   -                                 x, y, cols | validCols << 16, r0 | r1 << 16, lut,
 *                                                    scale
 *   15  DGEMM      [0] unsigned out, [1] rq per  a, bt, y, bias, mul, add, n | nv << 16, k,
 *                  row, [2] int32 sum out,           r0 | r1 << 16, alpha, shift
 *                  [3] A unsigned, [4] bt is B (k x n)
 *   16  CONV       number of x blocks nb             geom, y, w, mul, add, bias, r0 | r1 << 16, first
 *                                                    pixel, x0..x(nb-1)
 *   17  POOL       number of x blocks nb             geom, y, r0 | r1 << 16, first pixel, x0..x(nb-1)
 *   18  TRANSPOSE  -                                 x (one tile), y (one tile), r0 | r1 << 16
 *   19  LUT        -                                 x, y, cols, r0 | r1 << 16, lut (256 bytes)
 *   20  PMAX       -                                 x, y, cols | validCols << 16, r0 | r1 << 16, group | num << 16
 *   21  COLMEAN    [0] x unsigned                    x, y, cols, c0 | c1 << 16, rows | log2 rows << 16
 *   22  COLS       [0] clear y's rows first          x, y, x tiles | y tiles << 16, xc | yc << 16,
 *                                                    n, xr | yr << 16, count
 *   23  RMSNORM    -                                 x, y, w, cols | validCols << 16, r0 | r1 << 16, log2 D
 *   24  MUL        [0] a, [1] b unsigned, [2] y      a, b, y, cols, r0 | r1 << 16, mul, add, shift
 *                  unsigned
 *
 * ADD's x: [0] a holds unsigned bytes, [1] b does (then the table is read at a + b + 128 times the
 * number of signed inputs). LAYERNORM's x: [0] x holds unsigned bytes (the table then holds their
 * squares).
 *
 * Rows count in the T64 layout (see the tiler contract): a matrix of R x C int8 values is stored as
 * 64 x 64 tiles, tile (i, j) at byte `(i * C/64 + j) * 4096`, element (r, c) at
 * `(r % 64) * 64 + c % 64` inside it. A kernel command on a hart works on rows [r0, r1) of its
 * output. Integer constants are validated here; the runtime trusts them. Data ranges the kernels
 * assume, as Deeploy's C kernels do: layernorm weights within int16 (so (x - mean) * w fits int32);
 * gemm biases are read as ITA reads them (low 24 bits, sign-extended); nonorm wraps x * w to int16.
 *
 * The 8 compute cores share one multiplier, so two kernels can trade multiplies for memory:
 * add / sum with `lut` (not 0) read the result from a table of the requantisation over every
 * reachable sum (`sumTable`, 255 n + 1 bytes in L1) instead of multiplying; nonorm `premultiplied`
 * takes w * mul and b * mul (`premultiplyNoNorm`, exact only when no int8 x wraps x * w in int16)
 * and multiplies once per element; layernorm with `squares` (`squareTable`, 512 bytes) sums x^2
 * from a table instead of a second pass of multiplies. The kernel's meaning (and the reference) stays the one of mul,
 * add and shift; a wrong table or premultiplied vector shows as a mismatch.
 *
 * ITA_JOB values: when every value fits 16 bits (pointer registers INPUT_PTR..OUTPUT_PTR as
 * multiples of 4 below 256 KiB, stored divided by 4), header bit 31 is set and the values are
 * packed two per word, low half first; otherwise one value per word. Values come in the order
 * `ITA_JOB_ORDER`. The streams live in DRAM and a core has one load in flight (about 22 cycles
 * each), so the packed form keeps a job of 7 registers at 4 words.
 *
 * ITA jobs: `itaJob` acquires a job context, writes the given registers in `ITA_JOB_ORDER`, waits
 * until the HWPE is idle (the previous job has finished) and triggers. Programming thus overlaps
 * the running job; the command returns right after the trigger. The HWPE keeps 4 job contexts used
 * in turn and a register not written keeps the value the context held 4 jobs earlier (initially
 * 0): write every register whose value differs from that. `itaWait` returns once every job
 * triggered so far has finished. Job register values are the HWPE's: pointers as L1 offsets
 * (`itaPtr`). Any hart may issue jobs; one hart issuing them all keeps them in program order.
 *
 * Hazard (observed on the model, which follows the RTL): once a job is done the HWPE's running
 * context is the one being programmed, and the engine reads its controls from there at once. After
 * an output-disabled job (inner tile of a longer sum) the engine still takes its last inner-tile
 * step with the new context's TILES: with a stale TILES it drops back to idle and the next job
 * hangs. The write order (stream and engine control, then TILES, the requantisation, GELU and
 * activation constants, then the pointers) puts these in place about 100 cycles after the acquire,
 * well within a job (about 300 cycles), when the command follows the previous trigger directly. Do
 * not put other commands (DMA starts, kernels) between the jobs of one inner-tile sequence: even
 * one 64-byte DMA command there hangs ITA when the job contexts hold another op's values. The
 * builder refuses any command on a hart whose last command was a job it wrote with OUTPUT_DISABLE
 * in CTRL_STREAM (a job that leaves CTRL_STREAM to its context is not checked).
 *
 * Note on division: the cluster's shared divider gives DIV(-1, 1) = 0 (`snitch_shared_muldiv_serdiv`,
 * see test/cluster/isa.test.ts). The layernorm kernel divides by the standard deviation through an
 * exact reciprocal multiply (for 2 and more) and not at all when it is 1, so it never meets that
 * case; its mean and variance divide by the column count (64 and more).
 */
import { InputError, checkInt } from '../rtl-model/errors.ts';
import { ITA_REG } from '../rtl-model/hwpe/params.ts';

export const HARTS = 9;
export const DMA_HART = 8;
export const COMPUTE_HARTS = 8;

/** The L1 (TCDM) window and the start of DRAM, as the cluster maps them. */
export const L1_BASE = 0x1000_0000;
export const L1_SIZE = 128 * 1024;
export const DRAM_BASE = 0x8000_0000;

export const OP = {
  END: 0,
  BARRIER: 1,
  DMA1D: 2,
  DMA2D: 3,
  DMA_WAIT: 4,
  ITA_JOB: 5,
  ITA_WAIT: 6,
  GEMM: 7,
  ITAMAX: 8,
  ADD: 9,
  SUM: 10,
  LAYERNORM: 11,
  NONORM: 12,
  COPY: 13,
  ISOFTMAX: 14,
  DGEMM: 15,
  CONV: 16,
  POOL: 17,
  TRANSPOSE: 18,
  LUT: 19,
  PMAX: 20,
  COLMEAN: 21,
  COLS: 22,
  RMSNORM: 23,
  MUL: 24,
} as const;

export type Activation = 'identity' | 'relu' | 'gelu';

/** Rows r0..r1 of two rows x cols matrices a, b combined element by element, requantised into y. */
interface ElementPair {
  a: number;
  b: number;
  y: number;
  rows: number;
  cols: number;
  r0: number;
  r1: number;
  mul: number;
  add: number;
  shift: number;
}

export type Kernel =
  | {
      op: 'gemm';
      a: number;
      bt: number;
      c: number;
      /** int32[N] (or int32[M] with biasPerRow) address, 0 = none */
      bias: number;
      m: number;
      n: number;
      k: number;
      r0: number;
      r1: number;
      aUnsigned: boolean;
      biasPerRow: boolean;
      mult: number;
      shift: number;
      add: number;
      act: Activation;
      geluB?: number;
      geluC?: number;
      actMult?: number;
      actShift?: number;
      actAdd?: number;
      /**
       * Deeploy's RequantShift of the exact int32 sum instead of ITA's (26-bit wrap, ITA
       * requantiser, activation): int32 mul and add vectors (one per column), shift, unsigned
       * output. mult, shift, add and act are then not used (act must be identity).
       */
      deeploy?: { mul: number; add: number; shift: number; unsigned: boolean };
      /** Columns computed (the rest of c is padding, not written); n when absent. */
      validN?: number;
    }
  | { op: 'itamax'; x: number; y: number; rows: number; cols: number; r0: number; r1: number }
  | (ElementPair & {
      op: 'add';
      /** Address of `sumTable(2, mul, add, shift)` in L1, or 0 (none: the cores multiply). */
      lut?: number;
      /** a / b hold unsigned bytes (then `lut` is required: `sumTable` over their sums). */
      aUnsigned?: boolean;
      bUnsigned?: boolean;
    })
  | {
      op: 'sum';
      xs: number[];
      y: number;
      rows: number;
      cols: number;
      r0: number;
      r1: number;
      mul: number;
      add: number;
      shift: number;
      /** Address of `sumTable(xs.length, mul, add, shift)` in L1, or 0 (none). */
      lut?: number;
    }
  | {
      op: 'layernorm';
      x: number;
      y: number;
      w: number;
      b: number;
      rows: number;
      cols: number;
      r0: number;
      r1: number;
      log2d: number;
      /** Address of `squareTable()` in L1, or 0 (none: a second pass multiplies). */
      squares?: number;
      /** x holds unsigned bytes (`squares` then holds `squareTable(true)`). */
      unsigned?: boolean;
    }
  | {
      op: 'nonorm';
      x: number;
      y: number;
      w: number;
      b: number;
      rows: number;
      cols: number;
      r0: number;
      r1: number;
      mul: number;
      log2d: number;
      /** w and b hold `premultiplyNoNorm(w, b, mul)`: the runtime then ignores mul. */
      premultiplied?: boolean;
    }
  | { op: 'copy'; x: number; y: number; rows: number; cols: number; r0: number; r1: number }
  | {
      /** Deeploy's iSoftmax (int8 rows -> uint8 rows); the meaning is that of the coefficients. */
      op: 'isoftmax';
      x: number;
      y: number;
      rows: number;
      cols: number;
      r0: number;
      r1: number;
      coeffA: number;
      coeffB: number;
      coeffC: number;
      log2: number;
      /** Address of `iSoftmaxTable(coefficients)` in L1 (256 uint32: the exponent of max - x). */
      lut: number;
      /** The row's own columns (the softmax runs over these; the padding after is left alone). */
      validCols?: number;
    }
  | {
      /**
       * Deeploy's Gemm / MatMul + RequantShift in int32: y = clip(((alpha * a.bt + bias) * mul +
       * add + round) >> shift), rows x cols output, k inner (all multiples of 64).
       */
      op: 'dgemm';
      a: number;
      bt: number;
      y: number;
      /** int32[rows][cols] row-major, one per output element, or 0 (none). */
      bias: number;
      /** int32 vectors, one per row (perRow) or per column. */
      mul: number;
      add: number;
      rows: number;
      cols: number;
      /** Columns computed (the first validCols; the rest of each row is left as it is). */
      validCols: number;
      k: number;
      r0: number;
      r1: number;
      alpha: number;
      shift: number;
      perRow: boolean;
      /** Output clipped to 0..255 (its byte stored) instead of int8. */
      unsigned: boolean;
      /**
       * Write the int32 sum (before requantisation) to y as int32[rows][cols], row-major, the
       * layout of `bias`: one chunk of K, whose sum the next chunk takes as its bias.
       */
      partial?: boolean;
      /** A holds unsigned bytes. */
      aUnsigned?: boolean;
      /** bt is B as it is (k x cols, T64): a product of two activations. */
      bDirect?: boolean;
    }
  | {
      /** Conv + RequantShift per channel (`convGeometry` words at geom), output pixels as rows. */
      op: 'conv';
      geom: number;
      /** The 64-row blocks of the input image ((C H) x W, T64). */
      xs: number[];
      xBytes: number;
      y: number;
      rows: number;
      cols: number;
      w: number;
      wBytes: number;
      mul: number;
      add: number;
      bias: number;
      r0: number;
      r1: number;
      /** Output pixel of row 0 of this block. */
      p0: number;
    }
  | {
      /** MaxPool over pixel rows (`poolGeometry` words at geom). */
      op: 'pool';
      geom: number;
      xs: number[];
      xBytes: number;
      y: number;
      rows: number;
      cols: number;
      r0: number;
      r1: number;
      p0: number;
    }
  | { op: 'transpose'; x: number; y: number; r0: number; r1: number }
  | {
      op: 'rmsnorm';
      x: number;
      y: number;
      /** int32 weight per column */
      w: number;
      rows: number;
      cols: number;
      validCols: number;
      r0: number;
      r1: number;
      log2d: number;
    }
  | (ElementPair & {
      op: 'mul';
      aUnsigned: boolean;
      bUnsigned: boolean;
      unsigned: boolean;
    })
  | {
      /**
       * For i < count: with `zero` row yr + i of y is cleared, then (n > 0) its columns
       * [yc, yc + n) take columns [xc, xc + n) of row xr + i of x (rows within 64-row blocks).
       */
      op: 'cols';
      x: number;
      y: number;
      xCols: number;
      yCols: number;
      xc: number;
      yc: number;
      n: number;
      xr: number;
      yr: number;
      count: number;
      zero: boolean;
    }
  | { op: 'lut'; x: number; y: number; rows: number; cols: number; r0: number; r1: number; lut: number }
  | {
      /**
       * Deeploy's ITAPartialMax over the first validCols columns of each row; the inverse is
       * numerator / sum (127 x 256; ITAMax: 255 x 256 with one group).
       */
      op: 'pmax';
      x: number;
      y: number;
      rows: number;
      cols: number;
      validCols: number;
      r0: number;
      r1: number;
      group: number;
      numerator: number;
    }
  | {
      /** IntegerMean over the first `count` rows (a power of two), columns [c0, c1), into row 0. */
      op: 'colmean';
      x: number;
      y: number;
      cols: number;
      c0: number;
      c1: number;
      count: number;
      unsigned: boolean;
    };

export interface BuiltProgram {
  streams: Uint32Array[];
  steps: number;
  labels: string[];
}

/** Job register indices (`ITA_REG_*` of sw/runtime/ita.h), as the HWPE model numbers them. */
export { ITA_REG };
export const ITA_REGS = 17;

/**
 * The order in which the runtime writes job registers: stream and engine control, then what the
 * engine reads while it runs, then the pointers (see the header).
 */
export const ITA_JOB_ORDER: readonly number[] = [
  ITA_REG.CTRL_STREAM,
  ITA_REG.CTRL_ENGINE,
  ITA_REG.TILES,
  ITA_REG.EPS_MULT0,
  ITA_REG.EPS_MULT1,
  ITA_REG.RIGHT_SHIFT0,
  ITA_REG.RIGHT_SHIFT1,
  ITA_REG.ADD0,
  ITA_REG.ADD1,
  ITA_REG.GELU_B_C,
  ITA_REG.ACTIVATION_REQUANT,
  ITA_REG.SEQ_LENGTH,
  ITA_REG.INPUT_PTR,
  ITA_REG.WEIGHT_PTR0,
  ITA_REG.WEIGHT_PTR1,
  ITA_REG.BIAS_PTR,
  ITA_REG.OUTPUT_PTR,
];

/** CTRL_STREAM bits (`ITA_STREAM_*` of sw/runtime/ita.h). */
export const ITA_STREAM = {
  PRELOAD: 1,
  NEXTLOAD: 2,
  BIAS_DISABLE: 4,
  BIAS_DIR: 8,
  OUTPUT_DISABLE: 16,
} as const;

/** Largest number of inputs of a `sum` kernel. */
export const MAX_SUM_INPUTS = 8;

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** The HWPE's view of an L1 address (its register value). */
export function itaPtr(addr: number): number {
  if (!Number.isInteger(addr) || addr < L1_BASE || addr >= L1_BASE + L1_SIZE)
    throw new InputError(
      `itaPtr: address ${hex(addr)} is outside L1 (${hex(L1_BASE)}..${hex(L1_BASE + L1_SIZE - 1)})`,
    );
  return addr - L1_BASE;
}

function checkHart(name: string, hart: number, lo = 0): void {
  checkInt(`${name}: hart`, hart, lo, HARTS - 1);
}

/** An address range [addr, addr + bytes) in L1 or DRAM, `align`-byte aligned. */
function checkRegion(name: string, addr: number, bytes: number, align: number): void {
  if (!Number.isInteger(addr) || addr < 0 || addr > 0xffff_ffff)
    throw new InputError(`${name} must be a 32-bit address, got ${addr}`);
  if (addr % align !== 0) throw new InputError(`${name} ${hex(addr)} must be ${align}-byte aligned`);
  const inL1 = addr >= L1_BASE && addr + bytes <= L1_BASE + L1_SIZE;
  const inDram = addr >= DRAM_BASE && addr + bytes <= 0x1_0000_0000;
  if (!inL1 && !inDram)
    throw new InputError(
      `${name} ${hex(addr)}..${hex(addr + bytes - 1)} must lie in L1 (${hex(L1_BASE)}..${hex(L1_BASE + L1_SIZE - 1)}) or DRAM (from ${hex(DRAM_BASE)})`,
    );
}

function checkDims(what: string, rows: number, cols: number, r0: number, r1: number): void {
  checkInt(`${what}: rows`, rows, 64, 0xffc0, 64);
  checkInt(`${what}: cols`, cols, 64, 0xffc0, 64);
  checkInt(`${what}: r0`, r0, 0, rows);
  checkInt(`${what}: r1`, r1, r0, rows);
}

const u8 = (v: number): number => v & 0xff;
const rows16 = (r0: number, r1: number): number => (r0 | (r1 << 16)) >>> 0;

/** Packs one ITA requantiser (mult 0..255, shift 0..255, add -128..127). */
function packRq(what: string, mult: number, shift: number, add: number): number {
  checkInt(`${what}: mult`, mult, 0, 255);
  checkInt(`${what}: shift`, shift, 0, 255);
  checkInt(`${what}: add`, add, -128, 127);
  return (mult | (shift << 8) | (u8(add) << 16)) >>> 0;
}

const ACT_CODE: Record<Activation, number> = { identity: 0, relu: 1, gelu: 2 };

/** Encodes one kernel command (validated). */
export function encodeKernel(k: Kernel): number[] {
  const what = `kernel ${k.op}`;
  switch (k.op) {
    case 'gemm': {
      checkInt(`${what}: m`, k.m, 64, 0xffc0, 64);
      checkInt(`${what}: n`, k.n, 64, 0xffc0, 64);
      checkInt(`${what}: k`, k.k, 64, 0xffc0, 64);
      checkInt(`${what}: r0`, k.r0, 0, k.m);
      checkInt(`${what}: r1`, k.r1, k.r0, k.m);
      checkRegion(`${what}: a`, k.a, k.m * k.k, 4);
      checkRegion(`${what}: bt`, k.bt, k.n * k.k, 4);
      checkRegion(`${what}: c`, k.c, k.m * k.n, 4);
      if (k.bias !== 0) checkRegion(`${what}: bias`, k.bias, 4 * (k.biasPerRow ? k.m : k.n), 4);
      checkInt(`${what}: validN`, k.validN ?? k.n, 1, k.n);
      // n with the computed columns in the high half when they are fewer
      const nWord = k.validN === undefined || k.validN === k.n ? k.n : (k.n | (k.validN << 16)) >>> 0;
      if (!(k.act in ACT_CODE))
        throw new InputError(`${what}: act must be identity, relu or gelu, got ${String(k.act)}`);
      if (k.deeploy) {
        if (k.act !== 'identity') throw new InputError(`${what}: Deeploy's requantiser takes no activation`);
        if (k.bias !== 0) throw new InputError(`${what}: Deeploy's requantiser takes no bias here`);
        checkRegion(`${what}: mul`, k.deeploy.mul, 4 * k.n, 4);
        checkRegion(`${what}: add`, k.deeploy.add, 4 * k.n, 4);
        checkInt(`${what}: shift`, k.deeploy.shift, 0, 31);
        const f = (k.aUnsigned ? 1 : 0) | 16;
        return [
          OP.GEMM | (f << 8),
          k.a,
          k.bt,
          k.c,
          0,
          k.m,
          nWord,
          k.k,
          rows16(k.r0, k.r1),
          k.deeploy.mul,
          k.deeploy.add,
          (k.deeploy.shift | (k.deeploy.unsigned ? 256 : 0)) >>> 0,
        ];
      }
      const rq = packRq(what, k.mult, k.shift, k.add);
      let gelu = 0;
      let actRq = 0;
      if (k.act !== 'identity') {
        actRq = packRq(`${what}: activation`, k.actMult ?? -1, k.actShift ?? -1, k.actAdd ?? -1000);
        if (k.act === 'gelu') {
          checkInt(`${what}: geluB`, k.geluB ?? NaN, -32768, 32767);
          checkInt(`${what}: geluC`, k.geluC ?? NaN, -32768, 32767);
          gelu = ((k.geluB! & 0xffff) | ((k.geluC! & 0xffff) << 16)) >>> 0;
        }
      }
      const flags = (k.aUnsigned ? 1 : 0) | (k.biasPerRow ? 2 : 0) | (ACT_CODE[k.act] << 2);
      return [
        OP.GEMM | (flags << 8),
        k.a,
        k.bt,
        k.c,
        k.bias,
        k.m,
        nWord,
        k.k,
        rows16(k.r0, k.r1),
        rq,
        gelu,
        actRq,
      ];
    }
    case 'itamax':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      return [OP.ITAMAX, k.x, k.y, k.cols, rows16(k.r0, k.r1)];
    case 'add':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: a`, k.a, k.rows * k.cols, 4);
      checkRegion(`${what}: b`, k.b, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkRequantShift(what, k.mul, k.add, k.shift);
      if (k.lut) checkRegion(`${what}: lut`, k.lut, 2 * 255 + 1, 1);
      if ((k.aUnsigned || k.bUnsigned) && !k.lut)
        throw new InputError(`${what}: unsigned inputs need the table (lut)`);
      return [
        OP.ADD | (((k.aUnsigned ? 1 : 0) | (k.bUnsigned ? 2 : 0)) << 8),
        k.a,
        k.b,
        k.y,
        k.cols,
        rows16(k.r0, k.r1),
        k.mul >>> 0,
        k.add >>> 0,
        k.shift,
        k.lut ?? 0,
      ];
    case 'sum': {
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      if (!Array.isArray(k.xs) || k.xs.length < 1 || k.xs.length > MAX_SUM_INPUTS)
        throw new InputError(`${what}: xs must hold 1 to ${MAX_SUM_INPUTS} addresses, got ${k.xs?.length}`);
      k.xs.forEach((x, i) => checkRegion(`${what}: xs[${i}]`, x, k.rows * k.cols, 4));
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkRequantShift(what, k.mul, k.add, k.shift);
      if (k.lut) checkRegion(`${what}: lut`, k.lut, k.xs.length * 255 + 1, 1);
      return [
        OP.SUM | (k.xs.length << 8),
        k.y,
        k.cols,
        rows16(k.r0, k.r1),
        k.mul >>> 0,
        k.add >>> 0,
        k.shift,
        k.lut ?? 0,
        ...k.xs,
      ];
    }
    case 'layernorm':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkRegion(`${what}: w`, k.w, 4 * k.cols, 4);
      checkRegion(`${what}: b`, k.b, 4 * k.cols, 4);
      checkInt(`${what}: log2d`, k.log2d, 0, 31);
      if (k.squares) checkRegion(`${what}: squares`, k.squares, 512, 2);
      return [
        OP.LAYERNORM | ((k.unsigned ? 1 : 0) << 8),
        k.x,
        k.y,
        k.w,
        k.b,
        k.cols,
        rows16(k.r0, k.r1),
        k.log2d,
        k.squares ?? 0,
      ];
    case 'nonorm':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkRegion(`${what}: w`, k.w, 4 * k.cols, 4);
      checkRegion(`${what}: b`, k.b, 4 * k.cols, 4);
      checkInt(`${what}: mul`, k.mul, -(2 ** 31), 2 ** 31 - 1);
      checkInt(`${what}: log2d`, k.log2d, 0, 31);
      return [
        OP.NONORM | (k.premultiplied ? 1 << 8 : 0),
        k.x,
        k.y,
        k.w,
        k.b,
        k.cols,
        rows16(k.r0, k.r1),
        k.mul >>> 0,
        k.log2d,
      ];
    case 'copy':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      return [OP.COPY, k.x, k.y, k.cols, rows16(k.r0, k.r1)];
    case 'isoftmax':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkRegion(`${what}: lut`, k.lut, 4 * 256, 4);
      checkInt(`${what}: validCols`, k.validCols ?? k.cols, 1, k.cols);
      return [
        OP.ISOFTMAX,
        k.x,
        k.y,
        (k.cols | ((k.validCols ?? k.cols) << 16)) >>> 0,
        rows16(k.r0, k.r1),
        k.lut,
        255,
      ];
    case 'dgemm': {
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkInt(`${what}: k`, k.k, 64, 0xffc0, 64);
      checkRegion(`${what}: a`, k.a, k.rows * k.k, 4);
      checkRegion(`${what}: bt`, k.bt, k.cols * k.k, 4);
      checkRegion(`${what}: y`, k.y, (k.partial ? 4 : 1) * k.rows * k.cols, 4);
      if (k.bias !== 0) checkRegion(`${what}: bias`, k.bias, 4 * k.rows * k.cols, 4);
      const q = k.perRow ? k.rows : k.cols;
      checkRegion(`${what}: mul`, k.mul, 4 * q, 4);
      checkRegion(`${what}: add`, k.add, 4 * q, 4);
      checkInt(`${what}: validCols`, k.validCols, 1, k.cols);
      checkInt(`${what}: alpha`, k.alpha, -(2 ** 31), 2 ** 31 - 1);
      checkInt(`${what}: shift`, k.shift, 0, 31);
      const flags =
        (k.unsigned ? 1 : 0) |
        (k.perRow ? 2 : 0) |
        (k.partial ? 4 : 0) |
        (k.aUnsigned ? 8 : 0) |
        (k.bDirect ? 16 : 0);
      return [
        OP.DGEMM | (flags << 8),
        k.a,
        k.bt,
        k.y,
        k.bias,
        k.mul,
        k.add,
        (k.cols | (k.validCols << 16)) >>> 0,
        k.k,
        rows16(k.r0, k.r1),
        k.alpha >>> 0,
        k.shift,
      ];
    }
    case 'conv':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: geom`, k.geom, 4 * CONV_GEOMETRY_WORDS, 4);
      checkBlocks(what, k.xs, k.xBytes);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkRegion(`${what}: w`, k.w, k.wBytes, 4);
      for (const [nm, a] of [
        ['mul', k.mul],
        ['add', k.add],
        ['bias', k.bias],
      ] as const)
        checkRegion(`${what}: ${nm}`, a, 4 * k.cols, 4);
      checkInt(`${what}: p0`, k.p0, 0, 0xffff_ffff);
      return [
        OP.CONV | (k.xs.length << 8),
        k.geom,
        k.y,
        k.w,
        k.mul,
        k.add,
        k.bias,
        rows16(k.r0, k.r1),
        k.p0,
        ...k.xs,
      ];
    case 'pool':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: geom`, k.geom, 4 * POOL_GEOMETRY_WORDS, 4);
      checkBlocks(what, k.xs, k.xBytes);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkInt(`${what}: p0`, k.p0, 0, 0xffff_ffff);
      return [OP.POOL | (k.xs.length << 8), k.geom, k.y, rows16(k.r0, k.r1), k.p0, ...k.xs];
    case 'transpose':
      checkDims(what, 64, 64, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, 4096, 4);
      checkRegion(`${what}: y`, k.y, 4096, 4);
      return [OP.TRANSPOSE, k.x, k.y, rows16(k.r0, k.r1)];
    case 'rmsnorm':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkRegion(`${what}: w`, k.w, 4 * k.cols, 4);
      checkInt(`${what}: validCols`, k.validCols, 1, k.cols);
      checkInt(`${what}: log2d`, k.log2d, 0, 31);
      return [OP.RMSNORM, k.x, k.y, k.w, (k.cols | (k.validCols << 16)) >>> 0, rows16(k.r0, k.r1), k.log2d];
    case 'mul':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: a`, k.a, k.rows * k.cols, 4);
      checkRegion(`${what}: b`, k.b, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkInt(`${what}: mul`, k.mul, -(2 ** 31), 2 ** 31 - 1);
      checkInt(`${what}: add`, k.add, -(2 ** 31), 2 ** 31 - 1);
      checkInt(`${what}: shift`, k.shift, 0, 31);
      return [
        OP.MUL | (((k.aUnsigned ? 1 : 0) | (k.bUnsigned ? 2 : 0) | (k.unsigned ? 4 : 0)) << 8),
        k.a,
        k.b,
        k.y,
        k.cols,
        rows16(k.r0, k.r1),
        k.mul >>> 0,
        k.add >>> 0,
        k.shift,
      ];
    case 'cols':
      checkDims(what, 64, k.yCols, 0, 64);
      checkInt(`${what}: xCols`, k.xCols, 64, 0xffc0, 64);
      checkInt(`${what}: n`, k.n, 0, Math.min(k.xCols, k.yCols));
      checkInt(`${what}: xc`, k.xc, 0, k.xCols - k.n);
      checkInt(`${what}: yc`, k.yc, 0, k.yCols - k.n);
      checkInt(`${what}: count`, k.count, 1, 64);
      checkInt(`${what}: xr`, k.xr, 0, 64 - k.count);
      checkInt(`${what}: yr`, k.yr, 0, 64 - k.count);
      if (k.n > 0) checkRegion(`${what}: x`, k.x, 64 * k.xCols, 4);
      checkRegion(`${what}: y`, k.y, 64 * k.yCols, 4);
      return [
        OP.COLS | ((k.zero ? 1 : 0) << 8),
        k.x,
        k.y,
        ((k.xCols >> 6) | ((k.yCols >> 6) << 16)) >>> 0,
        (k.xc | (k.yc << 16)) >>> 0,
        k.n,
        (k.xr | (k.yr << 16)) >>> 0,
        k.count,
      ];
    case 'lut':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkRegion(`${what}: lut`, k.lut, 256, 1);
      return [OP.LUT, k.x, k.y, k.cols, rows16(k.r0, k.r1), k.lut];
    case 'pmax':
      checkDims(what, k.rows, k.cols, k.r0, k.r1);
      checkRegion(`${what}: x`, k.x, k.rows * k.cols, 4);
      checkRegion(`${what}: y`, k.y, k.rows * k.cols, 4);
      checkInt(`${what}: validCols`, k.validCols, 1, k.cols);
      checkInt(`${what}: group`, k.group, 1, k.validCols);
      if (k.validCols % k.group !== 0)
        throw new InputError(`${what}: group ${k.group} must divide validCols ${k.validCols}`);
      if (k.numerator !== 127 * 256 && k.numerator !== 255 * 256)
        throw new InputError(`${what}: numerator must be 32512 or 65280, got ${k.numerator}`);
      return [
        OP.PMAX,
        k.x,
        k.y,
        (k.cols | (k.validCols << 16)) >>> 0,
        rows16(k.r0, k.r1),
        (k.group | (k.numerator << 16)) >>> 0,
      ];
    case 'colmean': {
      checkDims(what, 64, k.cols, 0, 64);
      checkInt(`${what}: c0`, k.c0, 0, k.cols);
      checkInt(`${what}: c1`, k.c1, k.c0, k.cols);
      checkInt(`${what}: count`, k.count, 1, 64);
      const log2 = Math.log2(k.count);
      if (!Number.isInteger(log2)) throw new InputError(`${what}: count ${k.count} must be a power of two`);
      checkRegion(`${what}: x`, k.x, 64 * k.cols, 4);
      checkRegion(`${what}: y`, k.y, 64 * k.cols, 4);
      return [
        OP.COLMEAN | ((k.unsigned ? 1 : 0) << 8),
        k.x,
        k.y,
        k.cols,
        rows16(k.c0, k.c1),
        (k.count | (log2 << 16)) >>> 0,
      ];
    }
    default:
      throw new InputError(
        `kernel op must be one of gemm, itamax, add, sum, layernorm, nonorm, copy, isoftmax, dgemm, conv, pool, transpose, cols, rmsnorm, mul, lut, pmax, colmean, got ${String((k as { op: unknown }).op)}`,
      );
  }
}

/** Words of the conv and pool kernels' geometry blocks (see sw/kernels/tiler.c). */
export const CONV_GEOMETRY_WORDS = 17;
export const POOL_GEOMETRY_WORDS = 14;

/** The 64-row blocks of a matrix a kernel reads (1 to 255 blocks of `bytes` each). */
function checkBlocks(what: string, xs: number[], bytes: number): void {
  if (!Array.isArray(xs) || xs.length < 1 || xs.length > 255)
    throw new InputError(`${what}: xs must hold 1 to 255 block addresses, got ${xs?.length}`);
  xs.forEach((x, i) => checkRegion(`${what}: xs[${i}]`, x, bytes, 4));
}

/** Deeploy's RequantShift constants: int32 mul and add, shift 0..31. */
function checkRequantShift(what: string, mul: number, add: number, shift: number): void {
  checkInt(`${what}: mul`, mul, -(2 ** 31), 2 ** 31 - 1);
  checkInt(`${what}: add`, add, -(2 ** 31), 2 ** 31 - 1);
  checkInt(`${what}: shift`, shift, 0, 31);
}

export class ProgramBuilder {
  private readonly streams: number[][] = Array.from({ length: HARTS }, () => []);
  /** Per hart: whether it has commands after the last barrier. */
  private readonly pending: boolean[] = new Array<boolean>(HARTS).fill(false);
  private readonly labels: string[] = [];
  /** Per hart: the ITA job just issued there had its output disabled (an inner tile). */
  private readonly innerTile: boolean[] = new Array<boolean>(HARTS).fill(false);

  /**
   * Refuses a command on `hart` between an output-disabled ITA job and the next job of its
   * sequence: it would delay that job's registers, which the engine reads as soon as the inner
   * tile is done (the job-context hazard above; ITA hangs on a stale TILES).
   */
  private checkSequence(hart: number, what: string): void {
    if (this.innerTile[hart])
      throw new InputError(
        `${what} on hart ${hart}: the ITA job just issued there computes an inner tile (output disabled); ` +
          `the next job of its sequence must follow directly (see the job-context hazard in tiler/program.ts)`,
      );
  }

  private push(hart: number, words: number[]): void {
    const s = this.streams[hart]!;
    for (const w of words) s.push(w >>> 0);
    this.pending[hart] = true;
  }

  /** A barrier in every hart's stream; closes the current step and returns its index. */
  barrier(label: string): number {
    if (typeof label !== 'string')
      throw new InputError(`barrier: label must be a string, got ${String(label)}`);
    const step = this.labels.length;
    if (step >= 1 << 24) throw new InputError(`barrier: more than ${(1 << 24) - 1} steps`);
    for (let h = 0; h < HARTS; h++) this.checkSequence(h, `barrier '${label}'`);
    for (let h = 0; h < HARTS; h++) {
      this.streams[h]!.push((OP.BARRIER | (step << 8)) >>> 0);
      this.pending[h] = false;
    }
    this.labels.push(label);
    return step;
  }

  /** DMA hart: copies `bytes` bytes from `src` to `dst` (either in L1 or DRAM). */
  dma1d(dst: number, src: number, bytes: number): void {
    checkInt('dma1d: bytes', bytes, 1, 2 ** 31);
    checkRegion('dma1d: dst', dst, bytes, 1);
    checkRegion('dma1d: src', src, bytes, 1);
    this.checkSequence(DMA_HART, 'dma1d');
    this.push(DMA_HART, [OP.DMA1D, dst, src, bytes]);
  }

  /** DMA hart: `reps` rows of `bytes` bytes, row i from `src + i * srcStride` to `dst + i * dstStride`. */
  dma2d(dst: number, src: number, bytes: number, dstStride: number, srcStride: number, reps: number): void {
    checkInt('dma2d: bytes', bytes, 1, 2 ** 31);
    checkInt('dma2d: reps', reps, 1, 2 ** 31);
    checkInt('dma2d: dstStride', dstStride, 0, 2 ** 31);
    checkInt('dma2d: srcStride', srcStride, 0, 2 ** 31);
    checkRegion('dma2d: dst', dst, (reps - 1) * dstStride + bytes, 1);
    checkRegion('dma2d: src', src, (reps - 1) * srcStride + bytes, 1);
    this.checkSequence(DMA_HART, 'dma2d');
    this.push(DMA_HART, [OP.DMA2D, dst, src, bytes, dstStride, srcStride, reps]);
  }

  /** DMA hart: waits until every transfer started so far has completed. */
  dmaWait(): void {
    this.checkSequence(DMA_HART, 'dmaWait');
    this.push(DMA_HART, [OP.DMA_WAIT]);
  }

  /**
   * On `hart`: acquire a job context, write the given job registers (index -> value; CTRL_STREAM
   * and CTRL_ENGINE first), wait for the previous job to finish, trigger.
   */
  itaJob(hart: number, regs: ReadonlyMap<number, number>): void {
    checkHart('itaJob', hart);
    if (!(regs instanceof Map))
      throw new InputError('itaJob: regs must be a Map from register index to value');
    if (regs.size === 0) throw new InputError('itaJob: regs must hold at least one register');
    let mask = 0;
    let short = true;
    for (const [k, v] of regs) {
      checkInt('itaJob: register index', k, 0, ITA_REGS - 1);
      checkInt(`itaJob: value of register ${k}`, v, -(2 ** 31), 2 ** 32 - 1);
      mask |= 1 << k;
      const u = v >>> 0;
      if (k <= ITA_REG.OUTPUT_PTR ? u % 4 !== 0 || u >= 4 * 65536 : u >= 65536) short = false;
    }
    const vals = ITA_JOB_ORDER.filter((k) => regs.has(k)).map((k) => regs.get(k)! >>> 0);
    const words = [(OP.ITA_JOB | (mask << 8) | (short ? 1 << 31 : 0)) >>> 0];
    if (short) {
      const halves = vals.map((v, i) =>
        ITA_JOB_ORDER.filter((k) => regs.has(k))[i]! <= ITA_REG.OUTPUT_PTR ? v >>> 2 : v,
      );
      for (let i = 0; i < halves.length; i += 2)
        words.push((halves[i]! | ((halves[i + 1] ?? 0) << 16)) >>> 0);
    } else words.push(...vals);
    this.push(hart, words);
    this.innerTile[hart] = ((regs.get(ITA_REG.CTRL_STREAM) ?? 0) & ITA_STREAM.OUTPUT_DISABLE) !== 0;
  }

  /** On `hart`: wait until ITA has finished every triggered job. */
  itaWait(hart: number): void {
    checkHart('itaWait', hart);
    this.checkSequence(hart, 'itaWait');
    this.push(hart, [OP.ITA_WAIT]);
  }

  /** On `hart` (0..8): run one kernel over its row range. */
  kernel(hart: number, k: Kernel): void {
    checkHart('kernel', hart);
    if (typeof k !== 'object' || k === null) throw new InputError('kernel: k must be a kernel object');
    this.checkSequence(hart, 'kernel');
    this.push(hart, encodeKernel(k));
  }

  /** Words in the stream of `hart` so far (for sizing the program area). */
  words(hart: number): number {
    return this.streams[hart]!.length;
  }

  build(): BuiltProgram {
    const late = this.pending.findIndex((p) => p);
    if (late >= 0)
      throw new InputError(
        `build: hart ${late} has commands after the last barrier (end the program with barrier(label))`,
      );
    return {
      streams: this.streams.map((s) => Uint32Array.from([...s, OP.END])),
      steps: this.labels.length,
      labels: [...this.labels],
    };
  }
}
