/**
 * Reading and writing a complete PyITA folder: root constants, `standalone/` streams, `hwpe/`
 * memory images, `mha.npz` and `snitch-cluster/mem_snitch_cluster.h`, byte for byte as PyITA's
 * `ITA.py` writes them (with the H > 1 fix of the standalone tilers: per-head biases, and the
 * feed-forward files for its single "head" only). `mempool/` is not written (PyITA leaves it empty).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFile,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../rtl-model/errors.ts';
import { linear, requantOf, activate } from '../rtl-model/ref/ita.ts';
import type { FileMap } from './archive.ts';
import { writeFolderAtomic } from './atomic.ts';
import { readNpz, writeNpz } from './npz.ts';
import type { NpyArray, NpyDtype } from './npz.ts';
import { headerArrays, hwpeFiles, segmentIndices, standaloneFiles, tensorDims } from './spec.ts';
import type { HeaderArray, Segment, TensorName } from './spec.ts';
import { loadMatrix, parseInts, TextSink } from './text.ts';
import { ACTIVATIONS } from './types.ts';
import type { Activation, ItaCase, ItaInputs, ItaOutputs, ItaParams, RequantTable, Tensor } from './types.ts';
import { blockOrder } from './layout.ts';

export interface FolderOptions {
  /** The command line quoted in the first line of the C header. */
  commandLine: string;
  /** Write `snitch-cluster/mem_snitch_cluster.h` (PyITA's --export-snitch-cluster). */
  exportSnitchCluster: boolean;
  /** Called after each file is written (for progress bars). */
  onFile?: (path: string) => void;
}

/** Number of files of a folder (what `writeFolder` reports through `onFile`). */
export function folderFileCount(p: ItaParams, exportSnitchCluster: boolean): number {
  return (
    ROOT_FILES.length + standaloneFiles(p).length + hwpeFiles(p).length + 1 + (exportSnitchCluster ? 1 : 0)
  );
}

/** Root constant files, in the order PyITA writes them. */
export const ROOT_FILES = [
  'RQS_ATTN_MUL.txt',
  'RQS_ATTN_SHIFT.txt',
  'RQS_ATTN_ADD.txt',
  'RQS_FFN_MUL.txt',
  'RQS_FFN_SHIFT.txt',
  'RQS_FFN_ADD.txt',
  'GELU_ONE.txt',
  'GELU_B.txt',
  'GELU_C.txt',
  'activation_requant_mult.txt',
  'activation_requant_shift.txt',
  'activation_requant_add.txt',
] as const;

export const HEADER_PATH = 'snitch-cluster/mem_snitch_cluster.h';
export const NPZ_PATH = 'mha.npz';

// ---------------------------------------------------------------------------------------------
// Tensors of a case by name

/** Every tensor of a case under its `spec.ts` name. */
export function caseTensors(c: ItaCase): Record<TensorName, Tensor> {
  const i = c.inputs;
  const o = c.outputs;
  return {
    Q: i.Q,
    K: i.K,
    Wq: i.Wq,
    Wk: i.Wk,
    Wv: i.Wv,
    Wo: i.Wo,
    Bq: i.Bq,
    Bk: i.Bk,
    Bv: i.Bv,
    Bo: i.Bo,
    FF: i.FF,
    Wff: i.Wff,
    Wff2: i.Wff2,
    Bff: i.Bff,
    Bff2: i.Bff2,
    preactivation: i.preactivation,
    Qp: o.Qp,
    Kp: o.Kp,
    Vp: o.Vp,
    A: o.A,
    A_soft: o.A_soft,
    O_soft: o.O_soft,
    Out_soft: o.Out_soft,
    Out_soft_sum: o.Out_soft_sum,
    FFp: o.FFp,
    FF2p: o.FF2p,
    gelu: o.gelu,
    relu: o.relu,
  };
}

/**
 * Where the view of a segment lies in its tensor's data: view element (r, c) is
 * `data[base + r * rowStep + c * colStep]` (the `tensorIndex` of each view).
 */
function viewSteps(p: ItaParams, seg: Segment): { base: number; rowStep: number; colStep: number } {
  const [, R, C] = tensorDims(p, seg.tensor);
  const base = seg.head * R * C;
  switch (seg.view) {
    case 'mat':
      return { base, rowStep: C, colStep: 1 };
    case 'matT':
      return { base, rowStep: 1, colStep: C };
    case 'bcast':
      return { base, rowStep: 0, colStep: 1 };
    case 'bcastT':
      return { base, rowStep: 1, colStep: 0 };
  }
}

/** Values of a segment in stream order. */
function segmentValues(p: ItaParams, seg: Segment, t: Tensor): Int32Array {
  const { base, rowStep, colStep } = viewSteps(p, seg);
  const out = new Int32Array(seg.length);
  const d = t.data;
  const w = seg.walk;
  let k = 0;
  for (let i = 0; i < w.length; i += 4) {
    const r0 = w[i]!;
    const c0 = w[i + 1]!;
    const h = w[i + 2]!;
    const wd = w[i + 3]!;
    for (let r = 0; r < h; r++) {
      let j = base + (r0 + r) * rowStep + c0 * colStep;
      for (let c = 0; c < wd; c++, j += colStep) out[k++] = d[j]!;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** numpy's `savetxt` rows of a matrix, space separated, without the final newline. */
function matrixText(rows: number[][]): Uint8Array {
  const s = new TextSink();
  rows.forEach((row, r) => {
    if (r > 0) s.nl();
    row.forEach((v, i) => {
      if (i > 0) s.byte(32);
      s.int(v);
    });
  });
  return s.bytes();
}

function rootFiles(inp: ItaInputs): [string, Uint8Array][] {
  const H = inp.params.H;
  const perHead = (t: number[][]) => Array.from({ length: H }, (_, h) => t.map((step) => step[h]!));
  const ffn = (t: number[][]) => [t.map((step) => step[0]!)];
  const g = inp.gelu;
  return [
    ['RQS_ATTN_MUL.txt', matrixText(perHead(inp.rqsAttn.mult))],
    ['RQS_ATTN_SHIFT.txt', matrixText(perHead(inp.rqsAttn.shift))],
    ['RQS_ATTN_ADD.txt', matrixText(perHead(inp.rqsAttn.add))],
    ['RQS_FFN_MUL.txt', matrixText(ffn(inp.rqsFfn.mult))],
    ['RQS_FFN_SHIFT.txt', matrixText(ffn(inp.rqsFfn.shift))],
    ['RQS_FFN_ADD.txt', matrixText(ffn(inp.rqsFfn.add))],
    ['GELU_ONE.txt', matrixText([[g.one]])],
    ['GELU_B.txt', matrixText([[g.b]])],
    ['GELU_C.txt', matrixText([[g.c]])],
    ['activation_requant_mult.txt', matrixText([[g.rqsMul]])],
    ['activation_requant_shift.txt', matrixText([[g.rqsShift]])],
    ['activation_requant_add.txt', matrixText([[g.rqsAdd]])],
  ];
}

/**
 * Appends a decimal stream file to `s`. With one value a line, a rectangle of the stream order
 * that covers the same elements as an earlier one of its segment (operands re-sent per output
 * tile, broadcast biases) is copied as text, and so is every row of a broadcast rectangle after
 * its first.
 */
function streamInto(
  s: TextSink,
  p: ItaParams,
  segments: Segment[],
  perLine: number,
  tensors: Record<TensorName, Tensor>,
): void {
  if (perLine !== 1) {
    let pos = 0;
    for (const seg of segments) pos = s.ints(segmentValues(p, seg, tensors[seg.tensor]), perLine, pos);
    return;
  }
  const start = s.length;
  for (const seg of segments) {
    const { base, rowStep, colStep } = viewSteps(p, seg);
    const [, R, C] = tensorDims(p, seg.tensor);
    const data = tensors[seg.tensor].data.subarray(base, base + R * C);
    const matrix = loadMatrix(data);
    const lines = (first: number, rowStep: number, h: number, w: number): void => {
      if (matrix) matrix.lines(s, first, rowStep, colStep, h, w);
      else for (let r = 0; r < h; r++) s.column(data, first + r * rowStep, colStep, w);
    };
    const w = seg.walk;
    // Text (start, end) of the rectangles written so far, by first element, height and width.
    const seen = new Map<number, [number, number]>();
    for (let i = 0; i < w.length; i += 4) {
      const h = w[i + 2]!;
      const wd = w[i + 3]!;
      const first = w[i]! * rowStep + w[i + 1]! * colStep;
      const key = (first * 1024 + h) * 1024 + wd; // h, wd <= 512; exact below 2^53
      const text = seen.get(key);
      if (text) {
        s.again(text[0], text[1]);
        continue;
      }
      const at = s.length;
      if (rowStep === 0) {
        lines(first, 0, 1, wd);
        const row = s.length;
        for (let r = 1; r < h; r++) s.again(at, row);
      } else lines(first, rowStep, h, wd);
      seen.set(key, [at, s.length]);
    }
  }
  // No newline after the last value.
  if (s.length > start) s.dropLast();
}

/** Words of packed 8-bit (4 per word, first value in the low byte) or 24-bit values (4 per 3 words). */
export function packWords(v: Int32Array, bits: 8 | 24): Uint32Array {
  const groups = Math.ceil(v.length / 4);
  // Values past the end read as 0 (`undefined & mask`).
  if (bits === 8) {
    const words = new Uint32Array(groups);
    for (let i = 0, w = 0; i < v.length; i += 4, w++)
      words[w] =
        (v[i]! & 0xff) | ((v[i + 1]! & 0xff) << 8) | ((v[i + 2]! & 0xff) << 16) | ((v[i + 3]! & 0xff) << 24);
    return words;
  }
  const words = new Uint32Array(3 * groups);
  for (let i = 0, w = 0; i < v.length; i += 4, w += 3) {
    const a = v[i]! & 0xffffff;
    const b = v[i + 1]! & 0xffffff;
    const c = v[i + 2]! & 0xffffff;
    const d = v[i + 3]! & 0xffffff;
    words[w] = a | ((b & 0xff) << 24);
    words[w + 1] = (b >>> 8) | ((c & 0xffff) << 16);
    words[w + 2] = (c >>> 16) | (d << 8);
  }
  return words;
}

/** Inverse of `packWords`, values sign-extended (8-bit: as int8 unless `unsigned8`). */
export function unpackWords(w: Uint32Array, bits: 8 | 24, unsigned8 = false): Int32Array {
  if (bits === 8) {
    const out = new Int32Array(w.length * 4);
    for (let i = 0; i < w.length; i++)
      for (let k = 0; k < 4; k++) {
        const b = (w[i]! >>> (8 * k)) & 0xff;
        out[4 * i + k] = unsigned8 ? b : (b << 24) >> 24;
      }
    return out;
  }
  const out = new Int32Array(Math.floor(w.length / 3) * 4);
  for (let i = 0; i + 2 < w.length; i += 3) {
    const [x, y, z] = [w[i]!, w[i + 1]!, w[i + 2]!];
    const vals = [x & 0xffffff, (x >>> 24) | ((y & 0xffff) << 8), (y >>> 16) | ((z & 0xff) << 16), z >>> 8];
    for (let k = 0; k < 4; k++) out[(i / 3) * 4 + k] = (vals[k]! << 8) >> 8;
  }
  return out;
}

/** Appends a memory image to `s`; a part equal to an earlier one of the file is copied as text. */
function hexInto(
  s: TextSink,
  p: ItaParams,
  parts: { seg: Segment; bits: 8 | 24 }[],
  tensors: Record<TensorName, Tensor>,
): void {
  const done = new Map<string, [number, number, Int32Array]>();
  for (const { seg, bits } of parts) {
    const key = `${seg.tensor},${seg.head},${seg.view},${seg.rows},${seg.cols},${bits}`;
    const prev = done.get(key);
    if (prev && prev[2] === seg.walk) {
      s.again(prev[0], prev[1]);
      continue;
    }
    const from = s.length;
    const w = seg.walk;
    let rowsOfWords = true;
    for (let i = 3; i < w.length; i += 4) rowsOfWords &&= w[i]! % 4 === 0;
    const { base, rowStep, colStep } = viewSteps(p, seg);
    const [, R, C] = tensorDims(p, seg.tensor);
    const matrix = rowsOfWords ? loadMatrix(tensors[seg.tensor].data.subarray(base, base + R * C)) : null;
    if (matrix) {
      // Every word packs values of one row of a rectangle: the rectangles are packed one by one.
      for (let i = 0; i < w.length; i += 4)
        matrix.hex(s, w[i]! * rowStep + w[i + 1]! * colStep, rowStep, colStep, w[i + 2]!, w[i + 3]!, bits);
    } else s.hexLines(packWords(segmentValues(p, seg, tensors[seg.tensor]), bits));
    done.set(key, [from, s.length, seg.walk]);
  }
}

/** numpy's array2string of a flat integer array: values right-aligned to the widest, joined by ','. */
function cArrayBody(s: TextSink, v: Int32Array | Uint32Array): void {
  const [lo, hi] = rangeOf(v);
  const width = Math.max(String(lo).length, String(hi).length);
  s.paddedList(v, width, lo >= -128 && hi < 128);
}

/** Smallest and largest value. */
function rangeOf(v: Int32Array | Uint32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

/** The 8-bit requant constants of steps 1..6 of one head, padded to 8 and packed into 2 words. */
function requantWords(t: number[][], h: number): Uint32Array {
  const bytes = new Int32Array(8);
  for (let i = 0; i < 6; i++) bytes[i] = t[i]![h]!;
  return packWords(bytes, 8);
}

function headerInto(s: TextSink, c: ItaCase, commandLine: string, tensors: Record<TensorName, Tensor>): void {
  const p = c.inputs.params;
  s.str(`/* This file is automatically generated by '${commandLine}'\n`);
  s.str('* Do not edit manually, any manual change will be overwritten.\n*/\n\n// clang-format off\n');
  const emit = (a: HeaderArray) => {
    const values = a.segments.map((seg) => segmentValues(p, seg, tensors[seg.tensor]));
    if (!a.multihead) {
      s.str(`const ${a.ctype} ${a.name}[${values[0]!.length}] = {\n`);
      cArrayBody(s, values[0]!);
      s.str('\n};\n');
      return;
    }
    emitMultihead(s, a.name, a.ctype, values);
  };
  const arrays = headerArrays(p);
  arrays.before.forEach(emit);
  const rq = c.inputs.rqsAttn;
  for (const [name, t] of [
    ['requant_eps_mult', rq.mult],
    ['requant_right_shift', rq.shift],
    ['requant_add', rq.add],
  ] as const)
    emitMultihead(
      s,
      name,
      'int32_t',
      Array.from({ length: p.H }, (_, h) => requantWords(t, h)),
    );
  arrays.after.forEach(emit);
  s.nl();
  const defines: [string, number][] = [
    ['HEADS', p.H],
    ['SEQUENCE_LENGTH', p.S],
    ['EMBEDDING_SPACE', p.E],
    ['PROJECTION_SPACE', p.P],
    ['N_TILE_SEQUENCE_LENGTH', p.S / 64],
    ['N_TILE_EMBEDDING_SPACE', p.E / 64],
    ['N_TILE_PROJECTION_SPACE', p.P / 64],
    ['TILE_SIZE_SEQUENCE_LENGTH', 64],
    ['TILE_SIZE_EMBEDDING_SPACE', 64],
    ['TILE_SIZE_PROJECTION_SPACE', 64],
  ];
  for (const [k, v] of defines) s.str(`#define ${k} ${v}\n`);
  s.str('\n// clang-format on\n');
}

function emitMultihead(s: TextSink, name: string, ctype: string, values: (Int32Array | Uint32Array)[]): void {
  s.str(`const ${ctype} ${name}[${values.length}][${values[0]!.length}] = {\n`);
  values.forEach((v, h) => {
    if (h > 0) s.str(',\n');
    s.str('{\n');
    cArrayBody(s, v);
    s.str('\n}');
  });
  s.str('\n};\n');
}

function npzBytes(c: ItaCase): Uint8Array {
  const i = c.inputs;
  const o = c.outputs;
  const bias: NpyDtype = i.params.bias ? 'int32' : 'int8';
  const arr = (t: Tensor, dtype: NpyDtype, shape = t.shape): NpyArray => ({ dtype, shape, data: t.data });
  const table = (t: number[][], dtype: NpyDtype): NpyArray => ({
    dtype,
    shape: [t.length, i.params.H],
    data: Int32Array.from(t.flat()),
  });
  return writeNpz([
    ['q', arr(i.Q, 'int8')],
    ['k', arr(i.K, 'int8')],
    ['w1', arr(i.Wq, 'int8')],
    ['b1', arr(i.Bq, bias)],
    ['w2', arr(i.Wk, 'int8')],
    ['b2', arr(i.Bk, bias)],
    ['w3', arr(i.Wv, 'int8')],
    ['b3', arr(i.Bv, bias)],
    ['w4', arr(i.Wo, 'int8')],
    ['b4', arr(i.Bo, bias)],
    ['o', arr(o.Out_soft, 'int8')],
    ['o_sum', arr(o.Out_soft_sum, 'int8')],
    ['rqs_mult', table(i.rqsAttn.mult, 'uint8')],
    ['rqs_shift', table(i.rqsAttn.shift, 'uint8')],
    ['rqs_add', table(i.rqsAttn.add, 'int8')],
  ]);
}

/** One file of a folder: its relative path, a size estimate and how to format it. */
export interface FolderJob {
  path: string;
  /** Values the file holds (a rough measure of the work of formatting it). */
  weight: number;
  /** Appends the file's bytes to `s`. */
  fill(s: TextSink): void;
}

/** The files of a PyITA folder for a case, in PyITA's order, each formatted on demand. */
export function folderJobs(c: ItaCase, opts: FolderOptions): FolderJob[] {
  const p = c.inputs.params;
  const tensors = caseTensors(c);
  const jobs: FolderJob[] = rootFiles(c.inputs).map(([path, bytes]) => ({
    path,
    weight: bytes.length,
    fill: (s) => void s.raw(bytes),
  }));
  for (const f of standaloneFiles(p))
    jobs.push({
      path: f.path,
      weight: f.segments.reduce((n, seg) => n + seg.length, 0),
      fill: (s) => streamInto(s, p, f.segments, f.perLine, tensors),
    });
  for (const f of hwpeFiles(p))
    jobs.push({
      path: f.path,
      weight: f.parts.reduce((n, { seg }) => n + seg.length, 0),
      fill: (s) => hexInto(s, p, f.parts, tensors),
    });
  jobs.push({ path: NPZ_PATH, weight: 0, fill: (s) => void s.raw(npzBytes(c)) });
  if (opts.exportSnitchCluster) {
    const { before, after } = headerArrays(p);
    const weight = [...before, ...after].reduce(
      (n, a) => n + a.segments.reduce((m, seg) => m + seg.length, 0),
      0,
    );
    jobs.push({ path: HEADER_PATH, weight, fill: (s) => headerInto(s, c, opts.commandLine, tensors) });
  }
  return jobs;
}

/** Every file of a PyITA folder for a case, one at a time (relative path, bytes). */
export function* folderFiles(c: ItaCase, opts: FolderOptions): Generator<[string, Uint8Array]> {
  const s = new TextSink(1 << 20);
  for (const job of folderJobs(c, opts)) {
    job.fill(s.clear());
    yield [job.path, s.bytes()];
  }
}

/** Every file of a PyITA folder for a case, in memory (relative path -> bytes). */
export function buildFolder(c: ItaCase, opts: FolderOptions): FileMap {
  return new Map(folderFiles(c, opts));
}

/**
 * Formats the given jobs and writes each file below `dir` as soon as it is formatted, through one
 * reused buffer (no file is kept in memory after it is written). Returns the bytes written.
 */
export function writeJobs(
  dir: string,
  jobs: Iterable<FolderJob>,
  onFile?: (path: string) => void,
  s = new TextSink(1 << 20),
): number {
  let bytes = 0;
  for (const job of jobs) {
    job.fill(s.clear());
    const path = join(dir, job.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, s.view());
    bytes += s.length;
    onFile?.(job.path);
  }
  return bytes;
}

/** Buffers of finished background writes, for the next files to be formatted into. */
const spareBuffers: Uint8Array[] = [];

/**
 * Formats one job and starts writing it below `dir` in the background (on libuv's threads), so
 * that the next file can be formatted meanwhile: the sink hands its buffer to the write and
 * carries on in a spare one (each buffer returns to the spares when its write is done, so a run
 * reuses a few buffers rather than allocating one per file). Returns the file's size and its
 * write, which never rejects: it resolves to the error, if any.
 */
export function startWriteJob(
  dir: string,
  job: FolderJob,
  s: TextSink,
): { bytes: number; written: Promise<unknown> } {
  job.fill(s.clear());
  const path = join(dir, job.path);
  mkdirSync(dirname(path), { recursive: true });
  const data = s.take(spareBuffers.pop() ?? new Uint8Array(1 << 20));
  const written = new Promise((done) =>
    writeFile(path, data, (e) => {
      spareBuffers.push(new Uint8Array(data.buffer));
      done(e ?? undefined);
    }),
  );
  return { bytes: data.length, written };
}

/**
 * Writes the complete file set of a case to `outDir`, atomically (all or nothing). Files are
 * formatted and written one at a time, so a large case never holds the whole folder in memory.
 */
export function writeFolder(outDir: string, c: ItaCase, opts: FolderOptions): void {
  writeFolderAtomic(outDir, (tmp) => void writeJobs(tmp, folderJobs(c, opts), opts.onFile));
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Read access to the files of a folder: a FileMap, or a folder on disk read on demand. */
export type FileSource = Pick<FileMap, 'get' | 'keys'>;

/** The files of a folder on disk (empty folders skipped), each read when first asked for. */
export class DiskFolder implements FileSource {
  private readonly list: string[] = [];
  constructor(readonly dir: string) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${dir}: no such folder`);
    const walk = (rel: string) => {
      for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(r);
        else if (e.isFile()) this.list.push(r);
      }
    };
    walk('');
  }
  keys(): MapIterator<string> {
    return this.list.values();
  }
  get(path: string): Uint8Array | undefined {
    return this.list.includes(path) ? new Uint8Array(readFileSync(join(this.dir, path))) : undefined;
  }
}

/** Reads every file of a folder on disk into a FileMap (empty folders are skipped). */
export function readFolderFiles(dir: string): FileMap {
  const d = new DiskFolder(dir);
  return new Map([...d.keys()].map((k) => [k, d.get(k)!]));
}

function need(files: FileSource, path: string, where: string): Uint8Array {
  const f = files.get(path);
  if (!f) throw new InputError(`${where}/${path}: missing file`);
  return f;
}

function checkRange(v: Int32Array, lo: number, hi: number, file: string, what: string): void {
  for (let i = 0; i < v.length; i++)
    if (v[i]! < lo || v[i]! > hi)
      throw new InputError(`${file}: value ${v[i]} at position ${i + 1} outside ${what} (${lo}..${hi})`);
}

/** Reads a root constant table with `rows` lines of `cols` values. */
function readTable(
  files: FileSource,
  name: string,
  where: string,
  rows: number,
  cols: number,
  lo: number,
  hi: number,
  what: string,
): number[][] {
  const v = parseInts(need(files, name, where), `${where}/${name}`);
  if (v.length !== rows * cols)
    throw new InputError(`${where}/${name}: ${v.length} values, expected ${rows * cols} (${rows} x ${cols})`);
  checkRange(v, lo, hi, `${where}/${name}`, what);
  return Array.from({ length: rows }, (_, r) => Array.from(v.subarray(r * cols, (r + 1) * cols)));
}

function readScalar(
  files: FileSource,
  name: string,
  where: string,
  lo: number,
  hi: number,
  what: string,
): number {
  return readTable(files, name, where, 1, 1, lo, hi, what)[0]![0]!;
}

/** Transposes a rows x cols table of numbers. */
function transposeTable(t: number[][]): number[][] {
  return t[0]!.map((_, c) => t.map((row) => row[c]!));
}

const DATA: [number, number, string] = [-128, 127, 'int8'];
const BIAS: [number, number, string] = [-(2 ** 23), 2 ** 23 - 1, '24-bit signed'];

/** Fills `t` from the values of a stream file (checking that repeated elements agree). */
function detile(
  p: ItaParams,
  f: { path: string; segments: Segment[] },
  values: Int32Array,
  tensors: Partial<Record<TensorName, Tensor>>,
  where: string,
): void {
  const expected = f.segments.reduce((n, s) => n + s.order.length, 0);
  if (values.length !== expected)
    throw new InputError(
      `${where}/${f.path}: ${values.length} values, expected ${expected} for S=${p.S} E=${p.E} P=${p.P} F=${p.F} H=${p.H}`,
    );
  let k = 0;
  for (const seg of f.segments) {
    let t = tensors[seg.tensor];
    if (!t) {
      const [H, R, C] = tensorDims(p, seg.tensor);
      t = { shape: [H, R, C], data: new Int32Array(H * R * C) };
      tensors[seg.tensor] = t;
    }
    const seen = new Uint8Array(t.data.length);
    const idx = segmentIndices(p, seg);
    for (let i = 0; i < idx.length; i++, k++) {
      const j = idx[i]!;
      const v = values[k]!;
      if (seen[j] && t.data[j] !== v)
        throw new InputError(
          `${where}/${f.path}: value ${k + 1} (${v}) disagrees with an earlier copy of the same element (${t.data[j]})`,
        );
      seen[j] = 1;
      t.data[j] = v;
    }
  }
}

function streamSpec(p: ItaParams, path: string) {
  const f = standaloneFiles(p).find((x) => x.path === path);
  if (!f) throw new Error(`no standalone file ${path}`);
  return f;
}

/** Reads and de-tiles one standalone file into `tensors`, checking the value range. */
function readStream(
  files: FileSource,
  p: ItaParams,
  path: string,
  where: string,
  range: [number, number, string],
  tensors: Partial<Record<TensorName, Tensor>>,
): void {
  const f = streamSpec(p, path);
  const v = parseInts(need(files, path, where), `${where}/${path}`);
  checkRange(v, range[0], range[1], `${where}/${path}`, range[2]);
  detile(p, f, v, tensors, where);
}

function checkDim(name: string, v: number, file: string): number {
  if (!Number.isInteger(v) || v < 64 || v > 512 || v % 64 !== 0)
    throw new InputError(`${file}: ${name} = ${v}, must be a multiple of 64 from 64 to 512`);
  return v;
}

function npzArray(npz: Map<string, NpyArray>, name: string, file: string, dims: number): NpyArray {
  const a = npz.get(name);
  if (!a) throw new InputError(`${file}: no array '${name}'`);
  if (a.shape.length !== dims)
    throw new InputError(`${file}: '${name}' has shape (${a.shape.join(', ')}), expected ${dims} dimensions`);
  return a;
}

function sameShape(a: NpyArray, shape: number[], name: string, file: string): void {
  if (a.shape.join(',') !== shape.join(','))
    throw new InputError(
      `${file}: '${name}' has shape (${a.shape.join(', ')}), expected (${shape.join(', ')})`,
    );
}

export interface ReadOptions {
  /** Activation of the feed-forward layer; by default taken from the folder (see `readInputs`). */
  activation?: Activation;
  /** Name of the folder in error messages (default: the path, or `<folder>` for a FileMap). */
  where?: string;
}

/**
 * Reads the inputs and constants of a PyITA folder (a path, or a FileMap from `loadGolden`).
 * Q, K, the attention weights and biases come from `mha.npz`; the feed-forward tensors and the
 * activation test input from `standalone/`. A folder does not record its activation: it is the
 * one whose F1 result matches `standalone/FFp_0.txt` (failing that, the folder name's
 * `_identity_`/`_relu_`/`_gelu_`). The bias flag is the dtype of the npz biases (int32 with bias).
 */
export function readInputs(src: string | FileSource, opts: ReadOptions = {}): ItaInputs {
  const where = opts.where ?? (typeof src === 'string' ? src : '<folder>');
  const files = typeof src === 'string' ? new DiskFolder(src) : src;
  const { params, npz, npzFile, pre, preFile, b1Dtype } = readShape(files, where);
  const { S, E, P, F, H, bias } = params;
  const tensor = (name: string, shape: number[], range: [number, number, string]): Tensor => {
    const a = npzArray(npz, name, npzFile, shape.length);
    sameShape(a, shape, name, npzFile);
    checkRange(a.data, range[0], range[1], `${npzFile}:${name}`, range[2]);
    if (name.startsWith('b') && (a.dtype === 'int32') !== bias)
      throw new InputError(`${npzFile}: '${name}' is ${a.dtype}, but b1 is ${b1Dtype}`);
    if (!bias && name.startsWith('b') && a.data.some((x) => x !== 0))
      throw new InputError(`${npzFile}: '${name}' is int8 (no bias) but not zero`);
    return { shape, data: a.data };
  };
  const Q = tensor('q', [S, E], DATA);
  const K = tensor('k', [S, E], DATA);
  const Wq = tensor('w1', [H, E, P], DATA);
  const Wk = tensor('w2', [H, E, P], DATA);
  const Wv = tensor('w3', [H, E, P], DATA);
  const Wo = tensor('w4', [H, P, E], DATA);
  const Bq = tensor('b1', [H, P], BIAS);
  const Bk = tensor('b2', [H, P], BIAS);
  const Bv = tensor('b3', [H, P], BIAS);
  const Bo = tensor('b4', [H, E], BIAS);

  // Constants.
  const attn = (name: string, lo: number, hi: number, what: string) =>
    transposeTable(readTable(files, name, where, H, 7, lo, hi, what));
  const rqsAttn: RequantTable = {
    mult: attn('RQS_ATTN_MUL.txt', 0, 255, 'uint8'),
    shift: attn('RQS_ATTN_SHIFT.txt', 0, 31, 'shift'),
    add: attn('RQS_ATTN_ADD.txt', -128, 127, 'int8'),
  };
  for (const [name, t] of [
    ['rqs_mult', rqsAttn.mult],
    ['rqs_shift', rqsAttn.shift],
    ['rqs_add', rqsAttn.add],
  ] as const) {
    const a = npzArray(npz, name, npzFile, 2);
    sameShape(a, [7, H], name, npzFile);
    if (a.data.some((v, i) => v !== t[Math.floor(i / H)]![i % H]))
      throw new InputError(`${npzFile}: '${name}' disagrees with ${where}/RQS_ATTN_*.txt`);
  }
  const ffn = (name: string, lo: number, hi: number, what: string) =>
    transposeTable(readTable(files, name, where, 1, 2, lo, hi, what));
  const rqsFfn: RequantTable = {
    mult: ffn('RQS_FFN_MUL.txt', 0, 255, 'uint8'),
    shift: ffn('RQS_FFN_SHIFT.txt', 0, 31, 'shift'),
    add: ffn('RQS_FFN_ADD.txt', -128, 127, 'int8'),
  };
  const i16: [number, number] = [-32768, 32767];
  const gelu = {
    one: readScalar(files, 'GELU_ONE.txt', where, ...i16, 'int16'),
    b: readScalar(files, 'GELU_B.txt', where, ...i16, 'int16'),
    c: readScalar(files, 'GELU_C.txt', where, ...i16, 'int16'),
    rqsMul: readScalar(files, 'activation_requant_mult.txt', where, 0, 255, 'uint8'),
    rqsShift: readScalar(files, 'activation_requant_shift.txt', where, 0, 31, 'shift'),
    rqsAdd: readScalar(files, 'activation_requant_add.txt', where, -128, 127, 'int8'),
  };

  // Feed-forward tensors and the activation input from the standalone streams.
  const t: Partial<Record<TensorName, Tensor>> = {};
  readStream(files, params, 'standalone/FF.txt', where, DATA, t);
  readStream(files, params, 'standalone/Wff_0.txt', where, DATA, t);
  readStream(files, params, 'standalone/Wff2_0.txt', where, DATA, t);
  readStream(files, params, 'standalone/Bff_0.txt', where, BIAS, t);
  readStream(files, params, 'standalone/Bff2_0.txt', where, BIAS, t);
  checkRange(pre, -128, 127, preFile, 'int8');

  const inputs: ItaInputs = {
    params,
    Q,
    K,
    Wq,
    Wk,
    Wv,
    Wo,
    Bq,
    Bk,
    Bv,
    Bo,
    FF: { shape: [S, E], data: t.FF!.data },
    Wff: { shape: [1, E, F], data: t.Wff!.data },
    Wff2: { shape: [1, F, E], data: t.Wff2!.data },
    Bff: { shape: [1, F], data: t.Bff!.data },
    Bff2: { shape: [1, E], data: t.Bff2!.data },
    preactivation: { shape: [S, F], data: pre },
    rqsAttn,
    rqsFfn,
    gelu,
  };
  params.activation = opts.activation ?? findActivation(inputs, files, where);
  return inputs;
}

/** The activation whose F1 output matches `standalone/FFp_0.txt`. */
function findActivation(inputs: ItaInputs, files: FileSource, where: string): Activation {
  const { S, E, F } = inputs.params;
  const path = 'standalone/FFp_0.txt';
  const data = files.get(path);
  const fromName = ACTIVATIONS.find((a) => basename(where).includes(`_${a}`));
  if (data) {
    const v = parseInts(data, `${where}/${path}`);
    if (v.length === S * F) {
      const order = blockOrder(S, F);
      const ff1 = linear(
        inputs.FF.data,
        inputs.Wff.data,
        inputs.Bff.data,
        S,
        E,
        F,
        requantOf(inputs.rqsFfn, 0, 0),
      );
      const matches = ACTIVATIONS.filter((a) => {
        const y = activate(ff1.slice(), a, inputs.gelu);
        for (let i = 0; i < order.length; i++) if (y[order[i]!] !== v[i]) return false;
        return true;
      });
      if (matches.length > 0) return fromName && matches.includes(fromName) ? fromName : matches[0]!;
    }
  }
  if (fromName) return fromName;
  throw new InputError(`${where}: cannot tell the activation (${path} matches none); pass it explicitly`);
}

/** Reads the inputs and the expected outputs (de-tiled from `standalone/` and `mha.npz`). */
export function readCase(src: string | FileSource, opts: ReadOptions = {}): ItaCase {
  const where = opts.where ?? (typeof src === 'string' ? src : '<folder>');
  const files = typeof src === 'string' ? new DiskFolder(src) : src;
  const inputs = readInputs(files, { ...opts, where });
  const p = inputs.params;
  const { S, E, P, F, H } = p;
  const t: Partial<Record<TensorName, Tensor>> = {};
  const U8: [number, number, string] = [0, 255, 'uint8'];
  for (let h = 0; h < H; h++) {
    for (const n of ['Qp', 'Kp', 'Vp', 'A', 'O_soft', 'Out_soft'])
      readStream(files, p, `standalone/${n}_${h}.txt`, where, DATA, t);
    readStream(files, p, `standalone/A_soft_${h}.txt`, where, U8, t);
  }
  readStream(files, p, 'standalone/FFp_0.txt', where, DATA, t);
  readStream(files, p, 'standalone/FF2p_0.txt', where, DATA, t);
  readStream(files, p, 'standalone/gelu.txt', where, DATA, t);
  readStream(files, p, 'standalone/relu.txt', where, DATA, t);
  const npzFile = `${where}/${NPZ_PATH}`;
  const osum = npzArray(readNpz(need(files, NPZ_PATH, where), npzFile), 'o_sum', npzFile, 3);
  sameShape(osum, [1, S, E], 'o_sum', npzFile);
  const g = (n: TensorName, shape: number[]): Tensor => ({ shape, data: t[n]!.data });
  const outputs: ItaOutputs = {
    Qp: g('Qp', [H, S, P]),
    Kp: g('Kp', [H, S, P]),
    Vp: g('Vp', [H, S, P]),
    A: g('A', [H, S, S]),
    A_soft: g('A_soft', [H, S, S]),
    O_soft: g('O_soft', [H, S, P]),
    Out_soft: g('Out_soft', [H, S, E]),
    Out_soft_sum: { shape: [1, S, E], data: osum.data },
    FFp: g('FFp', [S, F]),
    FF2p: g('FF2p', [S, E]),
    gelu: g('gelu', [S, F]),
    relu: g('relu', [S, F]),
  };
  return { inputs, outputs };
}

/** The command line PyITA's testGenerator.py would have been called with for these parameters. */
export function pyitaCommandLine(p: ItaParams, seed: number): string {
  return `testGenerator.py -H ${p.H} -S ${p.S} -E ${p.E} -P ${p.P} -F ${p.F} --activation ${p.activation} --seed ${seed}${p.bias ? '' : ' --no-bias'} --export-snitch-cluster`;
}

/** The first line of a C header (the only line allowed to differ between two folders). */
export function headerCommandLine(header: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(header.subarray(0, Math.min(header.length, 4096)));
  const m = /^\/\* This file is automatically generated by '(.*)'\n/.exec(text);
  return m?.[1];
}

/** The dimensions and bias flag of a folder (activation left as 'identity'), checked like `readInputs`. */
export function readParams(files: FileSource, where: string): ItaParams {
  return readShape(files, where).params;
}

/**
 * What fixes a folder's dimensions: `mha.npz` (S, E from q; H, P from w1; bias from b1's dtype)
 * and `standalone/preactivation.txt` (F), each checked, with the parsed arrays for further reading.
 */
function readShape(files: FileSource, where: string) {
  const npzFile = `${where}/${NPZ_PATH}`;
  const npz = readNpz(need(files, NPZ_PATH, where), npzFile);
  const q = npzArray(npz, 'q', npzFile, 2);
  const w1 = npzArray(npz, 'w1', npzFile, 3);
  const S = checkDim('S (rows of q)', q.shape[0]!, npzFile);
  const E = checkDim('E (columns of q)', q.shape[1]!, npzFile);
  const H = w1.shape[0]!;
  if (!Number.isInteger(H) || H < 1 || H > 8)
    throw new InputError(`${npzFile}: H = ${H} heads (first axis of w1), must be 1 to 8`);
  const P = checkDim('P (last axis of w1)', w1.shape[2]!, npzFile);
  const preFile = `${where}/standalone/preactivation.txt`;
  const pre = parseInts(need(files, 'standalone/preactivation.txt', where), preFile);
  const F = checkDim('F (preactivation values / S)', pre.length / S, preFile);
  const b1Dtype = npzArray(npz, 'b1', npzFile, 2).dtype;
  const params: ItaParams = { S, E, P, F, H, activation: 'identity', bias: b1Dtype === 'int32' };
  return { params, npz, npzFile, pre, preFile, b1Dtype };
}
