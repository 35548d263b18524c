/**
 * Fast reading and writing of the decimal and hexadecimal text files of a PyITA folder: an ASCII
 * byte sink that grows as needed, and a whitespace-separated integer scanner that reports the line
 * of a malformed value.
 */
import { InputError } from '../rtl-model/errors.ts';
import { I32, ensureMemory, instantiate, op } from '../rtl-model/wasm.ts';
import type { WasmFunction, WasmMemory } from '../rtl-model/wasm.ts';

const enc = new TextEncoder();
/**
 * ASCII of the decimal numbers -32768..65535, the range of almost every value written, as one flat
 * table: value v's digits are SMALL_DIG[8 * (v - SMALL_MIN) ..] of length SMALL_LEN[v - SMALL_MIN].
 * An entry is filled when its value is first written (length 0: not yet), so a start does not pay
 * for the whole range.
 */
const SMALL_MIN = -32768;
const SMALL_END = 65536;
const SMALL_DIG = new Uint8Array(8 * (SMALL_END - SMALL_MIN));
const SMALL_LEN = new Uint8Array(SMALL_END - SMALL_MIN);

/** Fills table entry i (value i + SMALL_MIN) and returns its length. */
function smallEntry(i: number): number {
  let v = i + SMALL_MIN;
  const neg = v < 0;
  if (neg) v = -v;
  const digits = v >= 10000 ? 5 : v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1;
  const len = digits + (neg ? 1 : 0);
  let o = 8 * i + len;
  do {
    SMALL_DIG[--o] = 48 + (v % 10);
    v = (v / 10) | 0;
  } while (v > 0);
  if (neg) SMALL_DIG[8 * i] = 45;
  SMALL_LEN[i] = len;
  return len;
}
/** The int8 range as one flat table: value v's digits are DIG8[8 * (v + 128) ..] of length LEN8[v + 128]. */
const DIG8 = new Uint8Array(256 * 8);
const LEN8 = new Uint8Array(256);
for (let v = -128; v < 128; v++) {
  const d = enc.encode(String(v));
  DIG8.set(d, 8 * (v + 128));
  LEN8[v + 128] = d.length;
}
const HEX = enc.encode('0123456789abcdef');
/** The int8 range followed by a newline: value v's text is DIG8NL[8 * (v + 128) ..] of length LEN8[v + 128] + 1. */
const DIG8NL = new Uint8Array(256 * 8);
for (let v = -128; v < 128; v++) {
  DIG8NL.set(DIG8.subarray(8 * (v + 128), 8 * (v + 128) + LEN8[v + 128]!), 8 * (v + 128));
  DIG8NL[8 * (v + 128) + LEN8[v + 128]!] = 10;
}
/** Two lowercase hex digits of every byte, as one 16-bit unit each (first digit first). */
const HEX2 = new Uint16Array(256);
for (let b = 0; b < 256; b++) HEX2[b] = HEX[b >>> 4]! | (HEX[b & 15]! << 8);
/** int8 values right-aligned in `width` characters, per width (built when first used). */
const PADDED8 = new Map<number, Uint8Array>();
function padded8(width: number): Uint8Array {
  let t = PADDED8.get(width);
  if (!t) {
    t = new Uint8Array(256 * width).fill(32);
    for (let v = -128; v < 128; v++) {
      const k = LEN8[v + 128]!;
      // Values wider than `width` cannot occur in a list padded to `width`.
      if (k <= width) t.set(DIG8.subarray(8 * (v + 128), 8 * (v + 128) + k), (v + 128) * width + width - k);
    }
    PADDED8.set(width, t);
  }
  return t;
}

/** A growable ASCII buffer. */
export class TextSink {
  private buf: Uint8Array;
  private n = 0;

  /** `capacity`: expected size in bytes (the buffer grows beyond it as needed). */
  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
  }

  /**
   * Appends the values as a stream of decimal numbers: a newline after every `perLine` values, a
   * space between the others. `pos` counts the values of the stream written so far (across
   * calls); the new count is returned.
   */
  ints(values: Int32Array, perLine: number, pos: number): number {
    const count = values.length;
    // At most 11 bytes a value (sign, 10 digits) and its separator.
    this.room(count * 12);
    let b = this.buf;
    let n = this.n;
    let col = pos % perLine;
    for (let i = 0; i < count; i++, pos++) {
      if (pos > 0) {
        if (col === 0) b[n++] = 10;
        else b[n++] = 32;
      }
      if (++col === perLine) col = 0;
      const v = values[i]!;
      if (v >= -128 && v < 128) {
        const o = 8 * (v + 128);
        const k = LEN8[v + 128]!;
        for (let j = 0; j < k; j++) b[n++] = DIG8[o + j]!;
      } else {
        this.n = n;
        this.int(v);
        b = this.buf;
        n = this.n;
      }
    }
    this.n = n;
    return pos;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.n;
  }

  /** Forgets the content, keeping the buffer for the next file. */
  clear(): this {
    this.n = 0;
    return this;
  }

  /**
   * Hands over the content without copying it (a view of the current buffer, which the sink
   * no longer touches) and carries on, empty, in `next`.
   */
  take(next: Uint8Array): Uint8Array {
    const content = this.buf.subarray(0, this.n);
    this.buf = next.length >= 16 ? next : new Uint8Array(16);
    this.n = 0;
    return content;
  }

  /** The content without copying it (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }

  /** Appends a copy of bytes `start..end` written earlier. */
  again(start: number, end: number): this {
    this.room(end - start);
    this.buf.copyWithin(this.n, start, end);
    this.n += end - start;
    return this;
  }

  /** Appends `data[start + i * stride]` for i = 0..count-1, each as a decimal number and a newline. */
  column(data: Int32Array, start: number, stride: number, count: number): this {
    this.room(count * 5);
    let b = this.buf;
    let n = this.n;
    for (let i = 0, j = start; i < count; i++, j += stride) {
      const v = data[j]!;
      if (v >= -128 && v < 128) {
        const o = 8 * (v + 128);
        const end = o + LEN8[v + 128]!;
        for (let k = o; k <= end; k++) b[n++] = DIG8NL[k]!;
      } else {
        this.n = n;
        this.int(v).byte(10);
        this.room((count - i) * 5);
        b = this.buf;
        n = this.n;
      }
    }
    this.n = n;
    return this;
  }

  /** Appends each word as 8 lowercase hex digits and a newline (the low 32 bits of each value). */
  hexLines(words: ArrayLike<number>): this {
    const count = words.length;
    this.room(count * 9);
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < count; i++) {
      const u = words[i]! >>> 0;
      for (let sh = 24; sh >= 0; sh -= 8) {
        const h = HEX2[(u >>> sh) & 0xff]!;
        b[n++] = h & 0xff;
        b[n++] = h >>> 8;
      }
      b[n++] = 10;
    }
    this.n = n;
    return this;
  }

  /**
   * Appends the values joined by ',' and each right-aligned in `width` characters (numpy's
   * array2string of a flat array). `int8`: the caller knows every value is in -128..127.
   */
  paddedList(v: ArrayLike<number>, width: number, int8?: boolean): this {
    const count = v.length;
    if (int8 === undefined) {
      int8 = true;
      for (let i = 0; i < count && int8; i++) int8 = v[i]! >= -128 && v[i]! < 128;
    }
    if (!int8) {
      for (let i = 0; i < count; i++) {
        if (i > 0) this.byte(44);
        this.intPadded(v[i]!, width);
      }
      return this;
    }
    const t = padded8(width);
    this.room(count * (width + 1));
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < count; i++) {
      if (i > 0) b[n++] = 44;
      const o = (v[i]! + 128) * width;
      for (let j = 0; j < width; j++) b[n++] = t[o + j]!;
    }
    this.n = n;
    return this;
  }

  /** Appends a decimal integer. */
  int(v: number): this {
    if (!(v >= SMALL_MIN && v < SMALL_END)) return this.raw(enc.encode(String(v)));
    const i = v - SMALL_MIN;
    const k = SMALL_LEN[i] || smallEntry(i);
    if (this.n + k > this.buf.length) this.room(k);
    const b = this.buf;
    let n = this.n;
    for (let j = 8 * i, end = j + k; j < end; j++) b[n++] = SMALL_DIG[j]!;
    this.n = n;
    return this;
  }

  /** Appends a decimal integer right-aligned in `width` characters (numpy's array2string). */
  intPadded(v: number, width: number): this {
    const k =
      v >= SMALL_MIN && v < SMALL_END
        ? SMALL_LEN[v - SMALL_MIN] || smallEntry(v - SMALL_MIN)
        : String(v).length;
    for (let i = k; i < width; i++) this.byte(32);
    return this.int(v);
  }

  /** Appends the low 32 bits of `v` as 8 lowercase hex digits. */
  hex32(v: number): this {
    this.room(8);
    const u = v >>> 0; // ToUint32 keeps the low 32 bits of any safe integer
    const b = this.buf;
    let n = this.n;
    for (let sh = 28; sh >= 0; sh -= 4) b[n++] = HEX[(u >>> sh) & 15]!;
    this.n = n;
    return this;
  }

  byte(b: number): this {
    if (this.n === this.buf.length) this.room(1);
    this.buf[this.n++] = b;
    return this;
  }

  /** Appends bytes as they are. */
  raw(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }

  str(s: string): this {
    const b = enc.encode(s);
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }

  nl(): this {
    return this.byte(10);
  }

  /** Removes the last byte (PyITA truncates the final newline of its decimal files). */
  dropLast(): this {
    if (this.n > 0) this.n--;
    return this;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

// ---------------------------------------------------------------------------------------------
// Decimal lines and hex words on WebAssembly. The kernel's memory holds, from address 0, each
// int8 value's text with its newline (8 bytes a value, stored whole: the next value overwrites
// what follows), their lengths at LINE_LEN, the two hex digits of every byte at HEX_PAIRS, the
// matrix being written at MATRIX and the text after it.

const LINE_LEN = 2048;
const HEX_PAIRS = 2304;
const MATRIX = 4096;

/**
 * `lines(src, rowStep, colStep, h, w, dst)`: the values at src + r * rowStep + c * colStep
 * (bytes), r < h, c < w, row by row, each as decimal text and a newline from dst on; returns the
 * end. `big(v, dst)`: one value of any size. `hex8` / `hex24` (same parameters, w a multiple of
 * 4): the values packed as `packWords` packs them, 4 per word (8-bit) or 4 per 3 words (24-bit),
 * each word as 8 lowercase hex digits and a newline.
 */
function lineFunctions(): WasmFunction[] {
  const { get, set, tee } = op;
  const next = (v: number, limit: number) => [
    get(v),
    op.i32(1),
    op.i32Add,
    tee(v),
    get(limit),
    op.i32LtU,
    op.brIf(0),
  ];
  // lines: src 0, rowStep 1, colStep 2, h 3, w 4, dst 5; r 6, c 7, p 8, v 9
  const lines = [
    [op.i32(0), set(6)],
    op.loop,
    [get(0), get(6), get(1), op.i32Mul, op.i32Add, set(8), op.i32(0), set(7)],
    op.loop,
    [get(8), op.i32Load(), op.i32(128), op.i32Add, tee(9), op.i32(256), op.i32LtU],
    op.if,
    [get(5), get(9), op.i32(3), op.i32Shl, op.i64Load(), op.i64Store()],
    [get(5), get(9), op.i32Load8U(LINE_LEN), op.i32Add, set(5)],
    op.else,
    [get(9), op.i32(128), op.i32Sub, get(5), op.call(1), set(5)],
    op.end,
    [get(8), get(2), op.i32Add, set(8)],
    next(7, 4),
    op.end,
    next(6, 3),
    op.end,
    get(5),
  ];
  // big: v 0, dst 1; digits 2, t 3. A negative value is written as '-' and its magnitude, read
  // unsigned (so that -2^31 works too).
  const big = [
    [get(0), op.i32(0), op.i32LtS],
    op.if,
    [get(1), op.i32(45), op.i32Store8(), get(1), op.i32(1), op.i32Add, set(1)],
    [op.i32(0), get(0), op.i32Sub, set(0)],
    op.end,
    [get(0), set(3), op.i32(1), set(2)],
    op.block,
    op.loop,
    [get(3), op.i32(10), op.i32LtU, op.brIf(1)],
    [get(3), op.i32(10), op.i32DivU, set(3), get(2), op.i32(1), op.i32Add, set(2)],
    op.br(0),
    op.end,
    op.end,
    [get(1), get(2), op.i32Add, tee(3), op.i32(10), op.i32Store8()],
    op.loop,
    [get(3), op.i32(1), op.i32Sub, tee(3)],
    [get(0), op.i32(10), op.i32RemU, op.i32(48), op.i32Add, op.i32Store8()],
    [get(0), op.i32(10), op.i32DivU, tee(0), op.brIf(0)],
    op.end,
    [get(1), get(2), op.i32Add, op.i32(1), op.i32Add],
  ];
  // hex8 / hex24: src 0, rowStep 1, colStep 2, h 3, w 4, dst 5; r 6, c 7, p 8, a 9, b 10, c 11,
  // d 12, word 13
  const value = (k: number, mask: number) => [
    get(8),
    k > 0 ? [get(2), op.i32(k), op.i32Mul, op.i32Add] : [],
    op.i32Load(),
    op.i32(mask),
    op.i32And,
  ];
  // The word on the stack as 8 hex digits and a newline at dst; dst advances by 9.
  const word = [
    set(13),
    [24, 16, 8, 0].flatMap((sh, i) => [
      get(5),
      get(13),
      op.i32(sh),
      op.i32ShrU,
      op.i32(255),
      op.i32And,
      op.i32(1),
      op.i32Shl,
      op.i32Load16U(HEX_PAIRS),
      op.i32Store16(2 * i),
    ]),
    [get(5), op.i32(10), op.i32Store8(8), get(5), op.i32(9), op.i32Add, set(5)],
  ];
  const packed = (bits24: boolean) => [
    [op.i32(0), set(6)],
    op.loop,
    [get(0), get(6), get(1), op.i32Mul, op.i32Add, set(8), op.i32(0), set(7)],
    op.loop,
    bits24
      ? [
          [value(0, 0xffffff), set(9), value(1, 0xffffff), set(10)],
          [value(2, 0xffffff), set(11), value(3, 0xffffff), set(12)],
          // a | b << 24, b >>> 8 | c << 16, c >>> 16 | d << 8 (low 32 bits of each)
          [get(9), get(10), op.i32(24), op.i32Shl, op.i32Or, word],
          [get(10), op.i32(8), op.i32ShrU, get(11), op.i32(16), op.i32Shl, op.i32Or],
          word,
          [get(11), op.i32(16), op.i32ShrU, get(12), op.i32(8), op.i32Shl, op.i32Or],
          word,
        ]
      : [
          [value(0, 255), value(1, 255), op.i32(8), op.i32Shl, op.i32Or],
          [value(2, 255), op.i32(16), op.i32Shl, op.i32Or],
          [value(3, 255), op.i32(24), op.i32Shl, op.i32Or],
          word,
        ],
    [get(8), get(2), op.i32(4), op.i32Mul, op.i32Add, set(8)],
    [get(7), op.i32(4), op.i32Add, tee(7), get(4), op.i32LtU, op.brIf(0)],
    op.end,
    next(6, 3),
    op.end,
    get(5),
  ];
  return [
    {
      name: 'lines',
      params: [I32, I32, I32, I32, I32, I32],
      results: [I32],
      locals: [[I32, 4]],
      code: lines,
    },
    { name: 'big', params: [I32, I32], results: [I32], locals: [[I32, 2]], code: big },
    {
      name: 'hex8',
      params: [I32, I32, I32, I32, I32, I32],
      results: [I32],
      locals: [[I32, 8]],
      code: packed(false),
    },
    {
      name: 'hex24',
      params: [I32, I32, I32, I32, I32, I32],
      results: [I32],
      locals: [[I32, 8]],
      code: packed(true),
    },
  ];
}

type RectFn = (src: number, rowStep: number, colStep: number, h: number, w: number, dst: number) => number;

interface LineKernel {
  lines: RectFn;
  hex8: RectFn;
  hex24: RectFn;
  mem: WasmMemory;
}

/** The kernel (undefined until first used; null where WebAssembly is missing). */
let lineKernel: LineKernel | null | undefined;

function getLineKernel(): LineKernel | null {
  if (lineKernel === undefined) {
    lineKernel = instantiate<LineKernel>(lineFunctions());
    if (lineKernel) {
      const m = new Uint8Array(lineKernel.mem.buffer);
      m.set(DIG8NL, 0);
      for (let v = 0; v < 256; v++) m[LINE_LEN + v] = LEN8[v]! + 1;
      new Uint16Array(lineKernel.mem.buffer, HEX_PAIRS, 256).set(HEX2);
    }
  }
  return lineKernel;
}

/** A matrix whose rectangles can be appended to a sink (see `loadMatrix`). */
export interface MatrixText {
  /**
   * Appends the values at `first + r * rowStep + c * colStep` (indices into the matrix), r < h,
   * c < w, row by row, each as a decimal number and a newline.
   */
  lines(s: TextSink, first: number, rowStep: number, colStep: number, h: number, w: number): void;
  /**
   * Appends the same values packed into words (`packWords`: 8-bit values 4 a word, 24-bit values
   * 4 per 3 words), each as 8 hex digits and a newline. `w` must be a multiple of 4, so that
   * every word takes values of one row.
   */
  hex(s: TextSink, first: number, rowStep: number, colStep: number, h: number, w: number, bits: 8 | 24): void;
}

/**
 * `data` ready for `MatrixText`, copied into the WebAssembly kernel's memory (valid until the next
 * `loadMatrix`); null where WebAssembly is not available.
 */
export function loadMatrix(data: Int32Array): MatrixText | null {
  const k = getLineKernel();
  if (!k) return null;
  const text = (MATRIX + 4 * data.length + 15) & ~15;
  ensureMemory(k.mem, text);
  new Int32Array(k.mem.buffer, MATRIX, data.length).set(data);
  const run = (
    s: TextSink,
    f: RectFn,
    first: number,
    rowStep: number,
    colStep: number,
    h: number,
    w: number,
  ) => {
    // At most 11 characters and a newline a value (9 per word: fewer), and 8 bytes of slack.
    ensureMemory(k.mem, text + 12 * h * w + 8);
    const end = f(MATRIX + 4 * first, 4 * rowStep, 4 * colStep, h, w, text);
    s.raw(new Uint8Array(k.mem.buffer, text, end - text));
  };
  return {
    lines(s, first, rowStep, colStep, h, w) {
      run(s, k.lines, first, rowStep, colStep, h, w);
    },
    hex(s, first, rowStep, colStep, h, w, bits) {
      if (w % 4 !== 0) throw new RangeError(`MatrixText.hex: width ${w} is not a multiple of 4`);
      run(s, bits === 8 ? k.hex8 : k.hex24, first, rowStep, colStep, h, w);
    },
  };
}

/** Decimal integers of a whitespace-separated text file; `file` names it in errors. */
export function parseInts(data: Uint8Array, file: string): Int32Array {
  let out = new Int32Array(Math.max(16, data.length >> 1));
  let n = 0;
  let line = 1;
  let i = 0;
  const len = data.length;
  while (i < len) {
    const ch = data[i]!;
    if (ch === 10) {
      line++;
      i++;
      continue;
    }
    if (ch === 32 || ch === 13 || ch === 9) {
      i++;
      continue;
    }
    let neg = false;
    const start = i;
    if (ch === 45) {
      neg = true;
      i++;
    }
    let v = 0;
    let digits = 0;
    while (i < len && data[i]! >= 48 && data[i]! <= 57) {
      v = v * 10 + (data[i]! - 48);
      digits++;
      i++;
    }
    if (digits === 0 || (i < len && data[i] !== 10 && data[i] !== 32 && data[i] !== 13 && data[i] !== 9)) {
      let end = start;
      while (end < len && data[end] !== 10 && data[end] !== 32) end++;
      const tok = new TextDecoder().decode(data.subarray(start, Math.min(end, start + 20)));
      throw new InputError(`${file}: line ${line}: '${tok}' is not an integer`);
    }
    if (digits > 9) throw new InputError(`${file}: line ${line}: value out of range`);
    if (n === out.length) {
      const b = new Int32Array(out.length * 2);
      b.set(out);
      out = b;
    }
    out[n++] = neg ? -v : v;
  }
  return out.slice(0, n);
}

/** 32-bit words of a file of 8-digit hex words, one per line. */
export function parseHexWords(data: Uint8Array, file: string): Uint32Array {
  const text = new TextDecoder().decode(data);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out = new Uint32Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!/^[0-9a-fA-F]{8}$/.test(l))
      throw new InputError(`${file}: line ${i + 1}: '${l.slice(0, 20)}' is not an 8-digit hex word`);
    out[i] = parseInt(l, 16);
  }
  return out;
}
