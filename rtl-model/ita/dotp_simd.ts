/**
 * The N dot products of `ita_sumdotp` on 128-bit integer vectors (WebAssembly SIMD), for the
 * evaluation of `ItaSumdotp`. Bytes are widened to 16 bits (the input row signed or unsigned, the
 * weights signed), multiplied and summed in pairs into 32-bit lanes (`i32x4.dot_i16x8_s`): every
 * product and partial sum is exact, since |sum| < 64 * 255 * 128 < 2^21 per 64 columns and the
 * lanes are 32 bits wide (M is limited below so that no sum can overflow them).
 *
 * The kernel is generated for the elaboration's N and M (fully unrolled) into a small module with
 * its own memory: three row buffers (two for the register that holds the input row, one for a
 * row from elsewhere), the N weight rows (row-major, M bytes each) at W and the N sums at OUT.
 * `createDotpSimd` returns null where WebAssembly SIMD is not available; the caller then computes
 * in JavaScript.
 */

import { I32, V128, compile, instanceOf, op } from '../wasm.ts';
import type { Code, WasmFunction, WasmModule } from '../wasm.ts';

/** Largest M for which N sums of M products of 8-bit values cannot leave 32 bits. */
const MAX_M = 1 << 14;

export interface DotpSimd {
  /** Two row buffers (M bytes each) in the kernel's memory, for the register holding the row. */
  readonly rows: [Int8Array, Int8Array];
  /** The weight rows (N x M bytes, row-major), read by `run`. */
  readonly w: Int8Array;
  /** The N sums, written by `run`. */
  readonly out: Int32Array;
  /** Computes `out` from row `x` and `w`; `signed` = 0 reads the row's bytes as unsigned. */
  run(x: Int8Array, signed: number): void;
}

interface Layout {
  /** Row buffers 0 and 1, and the one rows from elsewhere are copied into. */
  X: [number, number, number];
  OUT: number;
  W: number;
  pages: number;
}

function layout(N: number, M: number): Layout {
  const R = (M + 15) & ~15;
  const X: [number, number, number] = [0, R, 2 * R];
  const OUT = 3 * R;
  const W = (OUT + 4 * N + 15) & ~15;
  return { X, OUT, W, pages: Math.ceil((W + N * M) / 65536) };
}

/** The kernel: `run(signed, row address)` over the fixed layout. */
function kernelCode(N: number, M: number, L: Layout): WasmFunction {
  const C = M / 8; // 8-byte chunks per row
  // locals: 0 = signed, 1 = row address, 2..C+1 = row chunks, C+2 = sum
  const xl = (c: number): number => 2 + c;
  const acc = C + 2;
  const chunks = Array.from({ length: C }, (_, c) => c);
  // the row's chunk c widened to 16 bits, signed or unsigned
  const widen = (load: (offset: number, align: number) => number[]): Code[] =>
    chunks.map((c) => [op.get(1), load(8 * c, 3), op.set(xl(c))]);
  const code: Code[] = [op.get(0), op.if, widen(op.load8x8S), op.else, widen(op.load8x8U), op.end];
  for (let n = 0; n < N; n++) {
    code.push(op.i32(0)); // address of the store below
    // unit n: the row against weight row n, in 32-bit lanes of pairwise sums
    code.push(
      chunks.map((c) => [
        op.get(xl(c)),
        op.i32(0),
        op.load8x8S(L.W + n * M + 8 * c, 3),
        op.i32x4DotI16x8S,
        c > 0 ? op.i32x4Add : [],
      ]),
    );
    // the four lanes' sum
    code.push([op.tee(acc), op.i32x4ExtractLane(0)]);
    for (let l = 1; l < 4; l++) code.push([op.get(acc), op.i32x4ExtractLane(l), op.i32Add]);
    code.push(op.i32Store(L.OUT + 4 * n, 2));
  }
  return { name: 'run', params: [I32, I32], results: [], locals: [[V128, C + 1]], code };
}

/** Compiled kernels by N x M (null: the engine rejected the module, having no SIMD). */
const modules = new Map<string, WasmModule | null>();

/** A SIMD evaluator of N dot products of length M, or null when WebAssembly SIMD is not there. */
export function createDotpSimd(N: number, M: number): DotpSimd | null {
  if (M % 8 !== 0 || M > MAX_M) return null;
  const L = layout(N, M);
  const key = `${N}x${M}`;
  let mod = modules.get(key);
  if (mod === undefined) {
    // a memory of fixed size: the arrays below stay views of it
    mod = compile([kernelCode(N, M, L)], [L.pages, L.pages]);
    modules.set(key, mod);
  }
  if (mod === null) return null;
  const exports = instanceOf<{ run: (signed: number, x: number) => void }>(mod);
  const mem = exports.mem.buffer;
  const kernel = exports.run;
  const spare = new Int8Array(mem, L.X[2], M);
  return {
    rows: [new Int8Array(mem, L.X[0], M), new Int8Array(mem, L.X[1], M)],
    w: new Int8Array(mem, L.W, N * M),
    out: new Int32Array(mem, L.OUT, N),
    run(x: Int8Array, signed: number): void {
      // a row held in the kernel's memory is read in place; another one is copied first
      if (x.buffer === mem) kernel(signed, x.byteOffset);
      else {
        spare.set(x);
        kernel(signed, L.X[2]);
      }
    },
  };
}
