/**
 * The N dot products of `ita_sumdotp` on 128-bit integer vectors (WebAssembly SIMD), for the
 * evaluation of `ItaSumdotp`. Bytes are widened to 16 bits (the input row signed or unsigned, the
 * weights signed), multiplied and summed in pairs into 32-bit lanes (`i32x4.dot_i16x8_s`): every
 * product and partial sum is exact, since |sum| < 64 * 255 * 128 < 2^21 per 64 columns and the
 * lanes are 32 bits wide (M is limited below so that no sum can overflow them).
 *
 * The kernel is generated for the elaboration's N and M (fully unrolled) into a small module with
 * its own memory: three row buffers (two for the register that holds the input row, one for a
 * row from elsewhere), the N weight rows (row-major, M bytes each) at W and the N sums at OUT. `createDotpSimd` returns null where WebAssembly SIMD is not available; the caller then
 * computes in JavaScript.
 */

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

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    o.push(b);
  } while (n !== 0);
  return o;
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// instruction encodings
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_STORE = 0x36;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;
const VOID = 0x40;
const I32 = 0x7f;
const V128 = 0x7b;
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const LOAD8X8_S = simd(1);
const LOAD8X8_U = simd(2);
const I32X4_EXTRACT_LANE = simd(27);
const I32X4_ADD = simd(174);
const I32X4_DOT_I16X8_S = simd(186);

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

/** The module: `run(signed, row address)` over the fixed layout, and its memory exported as `mem`. */
function moduleBytes(N: number, M: number, L: Layout): Uint8Array {
  const C = M / 8; // 8-byte chunks per row
  // locals: 0 = signed, 1 = row address, 2..C+1 = row chunks, C+2 = sum
  const xl = (c: number): number => 2 + c;
  const acc = C + 2;
  const b: number[] = [];
  // widen the row once: signed or unsigned bytes
  b.push(LOCAL_GET, 0, IF, VOID);
  for (let c = 0; c < C; c++) b.push(LOCAL_GET, 1, ...LOAD8X8_S, 3, ...uleb(8 * c), LOCAL_SET, xl(c));
  b.push(ELSE);
  for (let c = 0; c < C; c++) b.push(LOCAL_GET, 1, ...LOAD8X8_U, 3, ...uleb(8 * c), LOCAL_SET, xl(c));
  b.push(END);
  for (let n = 0; n < N; n++) {
    b.push(I32_CONST, 0); // address of the store below
    for (let c = 0; c < C; c++) {
      b.push(LOCAL_GET, xl(c), I32_CONST, 0, ...LOAD8X8_S, 3, ...uleb(L.W + n * M + 8 * c));
      b.push(...I32X4_DOT_I16X8_S);
      if (c > 0) b.push(...I32X4_ADD);
    }
    // the four lanes' sum
    b.push(LOCAL_TEE, acc, ...I32X4_EXTRACT_LANE, 0);
    for (let l = 1; l < 4; l++) b.push(LOCAL_GET, acc, ...I32X4_EXTRACT_LANE, l, I32_ADD);
    b.push(I32_STORE, 2, ...uleb(L.OUT + 4 * n));
  }
  b.push(END);
  const body = [...vector([[...uleb(C + 1), V128]]), ...b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, ...vector([[I32], [I32]]), ...vector([])]])), // (i32, i32) -> ()
    ...section(3, vector([[0]])), // one function of type 0
    ...section(5, vector([[0x01, ...uleb(L.pages), ...uleb(L.pages)]])), // memory, fixed size
    ...section(
      7,
      vector([
        [...name('run'), 0x00, 0],
        [...name('mem'), 0x02, 0],
      ]),
    ),
    ...section(10, vector([[...uleb(body.length), ...body]])),
  ]);
}

/** The part of the WebAssembly API used here (the TypeScript setup declares no DOM library). */
interface WasmModule {
  readonly brand?: 'wasm-module';
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (
    mod: WasmModule,
    imports: object,
  ) => { exports: { run: (signed: number, x: number) => void; mem: { buffer: ArrayBuffer } } };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const modules = new Map<string, WasmModule | null>();

/** A SIMD evaluator of N dot products of length M, or null when WebAssembly SIMD is not there. */
export function createDotpSimd(N: number, M: number): DotpSimd | null {
  if (wasm === undefined || M % 8 !== 0 || M > MAX_M) return null;
  const L = layout(N, M);
  const key = `${N}x${M}`;
  let mod = modules.get(key);
  if (mod === undefined) {
    const bytes = moduleBytes(N, M, L);
    mod = wasm.validate(bytes) ? new wasm.Module(bytes) : null;
    modules.set(key, mod);
  }
  if (mod === null) return null;
  const { exports } = new wasm.Instance(mod, {});
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
