/**
 * A small WebAssembly assembler for the model's inner loops (the reference's kernels, the golden
 * generator's, the cycle-level ITA's dot products): instructions as byte-producing helpers, and
 * `instantiate` (or `compile` and `instanceOf`), which lay out a module with one memory (exported
 * as `mem`) and the given functions (each exported under its name). Modules built here need no
 * build step and run at full speed from their first call, which matters in a process that runs
 * each loop once.
 */

/** Unsigned LEB128. */
export function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit values). */
export function sleb(v: number): number[] {
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

/** Value types. */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export const V128 = 0x7b;

/**
 * A memory access instruction with its opcode bytes `opcode`: it reads or writes at the address
 * on the stack plus the constant `offset`. `align` is a hint, the log2 of a power of two the
 * address is a multiple of (0: none promised); the access is correct at any address whatever it
 * says.
 */
function access(...opcode: number[]): (offset?: number, align?: number) => number[] {
  return (offset = 0, align = 0) => [...opcode, align, ...uleb(offset)];
}

/** Instructions (those the kernels use). */
export const op = {
  get: (i: number) => (i < 128 ? [0x20, i] : [0x20, ...uleb(i)]),
  set: (i: number) => (i < 128 ? [0x21, i] : [0x21, ...uleb(i)]),
  tee: (i: number) => (i < 128 ? [0x22, i] : [0x22, ...uleb(i)]),
  i32: (v: number) => (v >= -64 && v < 64 ? [0x41, v & 0x7f] : [0x41, ...sleb(v)]),
  f64: (v: number) => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)],
  call: (f: number) => [0x10, ...uleb(f)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  /** `if` without a result. */
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  return: [0x0f],
  select: [0x1b],
  drop: [0x1a],
  /** Memory access (`access`). */
  i32Load: access(0x28),
  i64Load: access(0x29),
  i32Load8U: access(0x2d),
  i32Load8S: access(0x2c),
  i32Load16U: access(0x2f),
  i32Store: access(0x36),
  i64Store: access(0x37),
  i32Store8: access(0x3a),
  i32Store16: access(0x3b),
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32Ne: [0x47],
  i32LtS: [0x48],
  i32LtU: [0x49],
  i32GtS: [0x4a],
  i32GtU: [0x4b],
  i32LeS: [0x4c],
  i32GeS: [0x4e],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32DivU: [0x6e],
  i32RemU: [0x70],
  i32And: [0x71],
  i32Or: [0x72],
  i32Xor: [0x73],
  i32Shl: [0x74],
  i32ShrS: [0x75],
  i32ShrU: [0x76],
  f64Load: access(0x2b),
  f64Store: access(0x39),
  f64Eq: [0x61],
  f64Lt: [0x63],
  f64Gt: [0x64],
  f64Ge: [0x66],
  f64Floor: [0x9c],
  f64Trunc: [0x9d],
  f64Sqrt: [0x9f],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  i32TruncF64S: [0xaa],
  f64ConvertI32S: [0xb7],
  f64ConvertI32U: [0xb8],
  // SIMD (prefix 0xfd); memory access as above.
  /** Eight bytes widened to eight 16-bit lanes (sign- or zero-extended). */
  load8x8S: access(0xfd, 1),
  load8x8U: access(0xfd, 2),
  v128Load: access(0xfd, 0),
  v128Store: access(0xfd, 11),
  v128Zero: [0xfd, 12, ...new Array<number>(16).fill(0)],
  /** i8x16.shuffle picking the 32-bit lanes `lanes` of two operands (0..3 first, 4..7 second). */
  shuffle32: (lanes: number[]) => [
    0xfd,
    13,
    ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
  ],
  i32x4ExtractLane: (lane: number) => [0xfd, 27, lane],
  i32x4Add: [0xfd, ...uleb(174)],
  i32x4DotI16x8S: [0xfd, ...uleb(186)],
};

/**
 * Instruction bytes, nested as convenient: a kernel writes its code as arrays of instructions
 * (themselves byte arrays), flattened once when the module is laid out (nesting instead of
 * spreading keeps the assembly cheap in a process that runs it once).
 */
export type Code = number | readonly Code[];

/** The bytes of nested code, in order (Array.prototype.flat, without its deep type). */
function flatten(code: readonly Code[]): number[] {
  return (code as unknown as { flat(depth: number): number[] }).flat(Infinity);
}

/** A function of a module: parameter and result types, extra locals (type, count) and code. */
export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  locals: [type: number, count: number][];
  /** The instructions, without the final `end`. */
  code: Code[];
}

/**
 * A function the module imports from JavaScript (as `env.<name>`). Imports take the first
 * function indices: a module's own function i is called as `op.call(imports.length + i)`.
 */
export interface WasmImport {
  name: string;
  params: number[];
  results: number[];
  fn: (...args: number[]) => number | void;
}

/** A compiled module, from which any number of instances (each with its own memory) are made. */
export interface WasmModule {
  readonly brand?: 'wasm-module';
}

/** The parts of the WebAssembly API used here (this project's type set has no DOM declarations). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports?: object) => { exports: unknown };
}

/** The WebAssembly API, or undefined where the engine has none. */
function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

/** A module's memory as the exports show it. */
export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** Bytes of a memory page. */
export const PAGE = 65536;

/**
 * The size of a module's memory in pages: its initial size (it may grow without bound), or its
 * initial and largest sizes (equal for a memory that never grows).
 */
export type Pages = number | readonly [initial: number, maximum: number];

/** The bytes of a module with `imports`, one memory of `pages` pages and `functions`, each exported. */
export function moduleBytes(
  functions: WasmFunction[],
  pages: Pages = 1,
  imports: WasmImport[] = [],
): Uint8Array {
  const signature = (f: { params: number[]; results: number[] }) => [
    0x60,
    ...vec(f.params.map((t) => [t])),
    ...vec(f.results.map((t) => [t])),
  ];
  const types = [...imports.map(signature), ...functions.map(signature)];
  const bodies = functions.map((f) => {
    const body = [...vec(f.locals.map(([t, n]) => [...uleb(n), t])), ...flatten(f.code), ...op.end];
    return [...uleb(body.length), ...body];
  });
  const n = imports.length;
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...(n ? section(2, vec(imports.map((f, i) => [...name('env'), ...name(f.name), 0x00, ...uleb(i)]))) : []),
    ...section(3, vec(functions.map((_, i) => uleb(n + i)))),
    ...section(
      5,
      vec([
        typeof pages === 'number' ? [0x00, ...uleb(pages)] : [0x01, ...uleb(pages[0]), ...uleb(pages[1])],
      ]),
    ),
    ...section(
      7,
      vec([...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(n + i)]), [...name('mem'), 0x02, 0]]),
    ),
    ...section(10, vec(bodies)),
  ]);
}

/**
 * Compiles and instantiates a module of `functions` (and `imports`); its exports (the functions
 * by name, the memory as `mem`), or null where WebAssembly is not available. A module that does
 * not compile is an error in its code here and throws.
 */
export function instantiate<T>(
  functions: WasmFunction[],
  pages: Pages = 1,
  imports: WasmImport[] = [],
): (T & { mem: WasmMemory }) | null {
  const wasm = wasmApi();
  if (!wasm) return null;
  return instanceOf<T>(new wasm.Module(moduleBytes(functions, pages, imports)), imports);
}

/**
 * Compiles a module of `functions` (and `imports`) to instantiate later (`instanceOf`), or null
 * where WebAssembly is not available or the engine rejects the module: one without SIMD, for a
 * module that uses it.
 */
export function compile(
  functions: WasmFunction[],
  pages: Pages = 1,
  imports: WasmImport[] = [],
): WasmModule | null {
  const wasm = wasmApi();
  if (!wasm) return null;
  const bytes = moduleBytes(functions, pages, imports);
  return wasm.validate(bytes) ? new wasm.Module(bytes) : null;
}

/** A new instance of `module` (compiled with these `imports`): its exports, as for `instantiate`. */
export function instanceOf<T>(module: WasmModule, imports: WasmImport[] = []): T & { mem: WasmMemory } {
  const env = Object.fromEntries(imports.map((f) => [f.name, f.fn]));
  return new (wasmApi() as WasmApi).Instance(module, { env }).exports as T & { mem: WasmMemory };
}

/** Grows `mem` to at least `bytes` bytes. */
export function ensureMemory(mem: WasmMemory, bytes: number): void {
  const have = mem.buffer.byteLength;
  if (have < bytes) mem.grow(Math.ceil((bytes - have) / PAGE));
}
