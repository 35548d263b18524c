/**
 * Integer matrix products on WebAssembly SIMD, for the reference's matmuls of 8-bit operands.
 *
 * `X Wt^T` with X rows x inner and Wt cols x inner (the weight already transposed), both int8
 * (X may instead be uint8: the AV step's softmax input), accumulated in wrapping int32 lanes:
 * each `i32x4.dot_i16x8_s` multiplies eight sign- or zero-extended 8-bit pairs and adds them in
 * pairs into four int32 lanes. The sums are therefore exact modulo 2^32, which is all the 26-bit
 * accumulator keeps (the same residues as the plain int32 loop).
 *
 * The module is assembled here from its instructions (no build step): one function per X
 * signedness, `mm_s` / `mm_u` (x, w, out, rows, inner, cols) with byte addresses into its memory;
 * it computes four output columns at a time, `inner` a multiple of 8 and `cols` of 4.
 */

/** Unsigned LEB128. */
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (small values). */
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A length-prefixed vector of byte strings. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

// Instructions used.
const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32Const = (v: number) => [0x41, ...sleb(v)];
const I32_ADD = [0x6a];
const I32_LT_U = [0x49];
const LOOP = [0x03, 0x40];
const END = [0x0b];
const BR_IF_0 = [0x0d, 0x00];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const LOAD8X8_S = simd(1, 0, 0);
const LOAD8X8_U = simd(2, 0, 0);
const V128_STORE = simd(11, 0, 0);
const V128_ZERO = simd(12, ...new Array<number>(16).fill(0));
/** i8x16.shuffle picking the 32-bit lanes `lanes` of the two operands (0..3 first, 4..7 second). */
const shuffle32 = (lanes: number[]) =>
  simd(13, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
const I32X4_ADD = simd(174);
const I32X4_DOT = simd(186);

// Parameters and locals of the function.
const X = 0;
const W = 1;
const OUT = 2;
const ROWS = 3;
const INNER = 4;
const COLS = 5;
const R = 6;
const C = 7;
const K = 8;
const XP = 9;
const W0 = 10;
const W1 = 11;
const W2 = 12;
const W3 = 13;
const OP = 14;
const A = [15, 16, 17, 18];
const XV = 19;

/** The body of `mm_s` or `mm_u`: rows >= 1, cols >= 4 a multiple of 4, inner >= 8 a multiple of 8. */
function matmulBody(unsignedX: boolean): number[] {
  const loadX = unsignedX ? LOAD8X8_U : LOAD8X8_S;
  // a_j += dot(xv, w_j[k .. k+7])
  const mac = (j: number) => [
    ...get(A[j]!),
    ...get(XV),
    ...get(W0 + j),
    ...get(K),
    ...I32_ADD,
    ...LOAD8X8_S,
    ...I32X4_DOT,
    ...I32X4_ADD,
    ...set(A[j]!),
  ];
  // Pairwise lane sums of two accumulators: [a0+a2 of p, of q, a1+a3 of p, of q].
  const pairSums = (p: number, q: number) => [
    ...get(p),
    ...get(q),
    ...shuffle32([0, 4, 1, 5]),
    ...get(p),
    ...get(q),
    ...shuffle32([2, 6, 3, 7]),
    ...I32X4_ADD,
  ];
  const code = [
    ...get(OUT),
    ...set(OP),
    ...get(X),
    ...set(XP),
    ...i32Const(0),
    ...set(R),
    ...LOOP,
    /**/ ...get(W),
    /**/ ...set(W0),
    /**/ ...i32Const(0),
    /**/ ...set(C),
    /**/ ...LOOP,
    /*    */ ...get(W0),
    /*    */ ...get(INNER),
    /*    */ ...I32_ADD,
    /*    */ ...tee(W1),
    /*    */ ...get(INNER),
    /*    */ ...I32_ADD,
    /*    */ ...tee(W2),
    /*    */ ...get(INNER),
    /*    */ ...I32_ADD,
    /*    */ ...set(W3),
    /*    */ ...A.flatMap((a) => [...V128_ZERO, ...set(a)]),
    /*    */ ...i32Const(0),
    /*    */ ...set(K),
    /*    */ ...LOOP,
    /*        */ ...get(XP),
    /*        */ ...get(K),
    /*        */ ...I32_ADD,
    /*        */ ...loadX,
    /*        */ ...set(XV),
    /*        */ ...mac(0),
    /*        */ ...mac(1),
    /*        */ ...mac(2),
    /*        */ ...mac(3),
    /*        */ ...get(K),
    /*        */ ...i32Const(8),
    /*        */ ...I32_ADD,
    /*        */ ...tee(K),
    /*        */ ...get(INNER),
    /*        */ ...I32_LT_U,
    /*        */ ...BR_IF_0,
    /*    */ ...END,
    /*    */ ...pairSums(A[0]!, A[1]!),
    /*    */ ...set(A[0]!),
    /*    */ ...pairSums(A[2]!, A[3]!),
    /*    */ ...set(A[2]!),
    /*    */ ...get(OP),
    /*    */ ...get(A[0]!),
    /*    */ ...get(A[2]!),
    /*    */ ...shuffle32([0, 1, 4, 5]),
    /*    */ ...get(A[0]!),
    /*    */ ...get(A[2]!),
    /*    */ ...shuffle32([2, 3, 6, 7]),
    /*    */ ...I32X4_ADD,
    /*    */ ...V128_STORE,
    /*    */ ...get(OP),
    /*    */ ...i32Const(16),
    /*    */ ...I32_ADD,
    /*    */ ...set(OP),
    /*    */ ...get(W3),
    /*    */ ...get(INNER),
    /*    */ ...I32_ADD,
    /*    */ ...set(W0),
    /*    */ ...get(C),
    /*    */ ...i32Const(4),
    /*    */ ...I32_ADD,
    /*    */ ...tee(C),
    /*    */ ...get(COLS),
    /*    */ ...I32_LT_U,
    /*    */ ...BR_IF_0,
    /**/ ...END,
    /**/ ...get(XP),
    /**/ ...get(INNER),
    /**/ ...I32_ADD,
    /**/ ...set(XP),
    /**/ ...get(R),
    /**/ ...i32Const(1),
    /**/ ...I32_ADD,
    /**/ ...tee(R),
    /**/ ...get(ROWS),
    /**/ ...I32_LT_U,
    /**/ ...BR_IF_0,
    ...END,
    ...END,
  ];
  const locals = vec([
    [...uleb(XV - R - A.length), I32],
    [...uleb(A.length + 1), V128],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/** The module's bytes. */
function moduleBytes(): Uint8Array {
  const type = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([type])),
    ...section(3, vec([[0], [0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...name('mm_s'), 0x00, 0],
        [...name('mm_u'), 0x00, 1],
        [...name('mem'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([matmulBody(false), matmulBody(true)])),
  ]);
}

/** The parts of the WebAssembly API used here (this project's type set has no DOM declarations). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface Kernel {
  mem: { buffer: ArrayBuffer; grow(pages: number): number };
  mm_s: (x: number, w: number, out: number, rows: number, inner: number, cols: number) => void;
  mm_u: (x: number, w: number, out: number, rows: number, inner: number, cols: number) => void;
}

/** The instantiated module (undefined until first use; null where WebAssembly SIMD is missing). */
let kernel: Kernel | null | undefined;

function getKernel(): Kernel | null {
  if (kernel === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      kernel = new wasm.Instance(new wasm.Module(moduleBytes())).exports as Kernel;
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

const PAGE = 65536;

/**
 * X Wt^T into `out` (rows x cols, int32, wrapping sums) when the SIMD kernel applies: every x a
 * signed (or, with `unsignedX`, unsigned) 8-bit value, every w a signed 8-bit value, `inner` a
 * multiple of 8 and `cols` of 4. Returns false, leaving `out` alone, otherwise.
 */
export function productsSimd(
  x: Int32Array,
  wT: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  out: Int32Array,
  unsignedX: boolean,
): boolean {
  if (rows < 1 || inner < 8 || inner % 8 !== 0 || cols < 4 || cols % 4 !== 0) return false;
  const xn = rows * inner;
  const wn = cols * inner;
  for (let i = 0; i < xn; i++) {
    const v = x[i]!;
    if (unsignedX ? v < 0 || v > 255 : v < -128 || v > 127) return false;
  }
  for (let i = 0; i < wn; i++) {
    const v = wT[i]!;
    if (v < -128 || v > 127) return false;
  }
  const k = getKernel();
  if (!k) return false;
  const wAt = xn;
  const outAt = (wAt + wn + 15) & ~15;
  const need = outAt + 4 * rows * cols;
  if (k.mem.buffer.byteLength < need) k.mem.grow(Math.ceil((need - k.mem.buffer.byteLength) / PAGE));
  const buf = k.mem.buffer;
  // Int8Array.set stores each value modulo 2^8: the low byte, as the loads expect.
  new Int8Array(buf, 0, xn).set(x);
  new Int8Array(buf, wAt, wn).set(wT);
  (unsignedX ? k.mm_u : k.mm_s)(0, wAt, outAt, rows, inner, cols);
  out.set(new Int32Array(buf, outAt, rows * cols));
  return true;
}
