/**
 * The file set of a PyITA folder, described once: which tensor elements every file holds and in
 * which order. The writer, the reader (de-tiling) and `compare` (locating a difference) all read
 * this description, so they cannot disagree on a layout.
 *
 * A file is a list of segments; a segment walks a rows x cols view of one head of one tensor in a
 * stream order from `layout.ts`. Views: `mat` (the head's matrix itself), `matT` (its transpose),
 * `bcast` (a bias vector repeated on every row of a rows x n view) and `bcastT` (repeated on every
 * column of an n x cols view).
 */
import type { ItaParams } from './types.ts';
import { blockWalk, plainWalk, rowRepeatWalk, tileWalk, walkLength, walkPositions } from './layout.ts';
import type { Walk } from './layout.ts';

export type View = 'mat' | 'matT' | 'bcast' | 'bcastT';

/** Tensor names of a case (inputs and outputs), as in `ItaInputs` / `ItaOutputs`. */
export type TensorName =
  | 'Q'
  | 'K'
  | 'Wq'
  | 'Wk'
  | 'Wv'
  | 'Wo'
  | 'Bq'
  | 'Bk'
  | 'Bv'
  | 'Bo'
  | 'FF'
  | 'Wff'
  | 'Wff2'
  | 'Bff'
  | 'Bff2'
  | 'preactivation'
  | 'Qp'
  | 'Kp'
  | 'Vp'
  | 'A'
  | 'A_soft'
  | 'O_soft'
  | 'Out_soft'
  | 'Out_soft_sum'
  | 'FFp'
  | 'FF2p'
  | 'gelu'
  | 'relu';

export interface Segment {
  tensor: TensorName;
  head: number;
  view: View;
  /** Dimensions of the view. */
  rows: number;
  cols: number;
  /** The stream order as rectangles of the view (`layout.ts`). */
  walk: Walk;
  /** Number of values of the segment. */
  length: number;
  /** Positions (r * cols + c) into the view, in stream order (expanded from `walk` when first read). */
  readonly order: Int32Array;
}

/** Expanded walks, per walk and view width. */
const positionsCache = new WeakMap<Walk, Map<number, Int32Array>>();

function positionsOf(w: Walk, cols: number): Int32Array {
  let byCols = positionsCache.get(w);
  if (!byCols) positionsCache.set(w, (byCols = new Map()));
  let v = byCols.get(cols);
  if (!v) byCols.set(cols, (v = walkPositions(w, cols)));
  return v;
}

/** A segment walking a rows x cols view of head `head` of `tensor` by `walk`. */
export function segment(
  tensor: TensorName,
  head: number,
  view: View,
  rows: number,
  cols: number,
  walk: Walk,
): Segment {
  return {
    tensor,
    head,
    view,
    rows,
    cols,
    walk,
    length: walkLength(walk),
    get order() {
      return positionsOf(walk, cols);
    },
  };
}

/** A decimal text file of the standalone testbench. */
export interface StreamFile {
  kind: 'stream';
  path: string;
  step: string;
  segments: Segment[];
  /** Values per line (1, or S for `A_soft_in.txt`). */
  perLine: number;
}

/** A file of 32-bit hex words (HWPE memory images): 8-bit values 4 per word, 24-bit 4 per 3 words. */
export interface HexFile {
  kind: 'hex';
  path: string;
  step: string;
  parts: { seg: Segment; bits: 8 | 24 }[];
}

/** The shape (heads, rows, cols) of each tensor's per-head matrix. */
export function tensorDims(p: ItaParams, t: TensorName): [number, number, number] {
  const { S, E, P, F, H } = p;
  switch (t) {
    case 'Q':
    case 'K':
    case 'FF':
    case 'FF2p':
      return [1, S, E];
    case 'Out_soft_sum':
      return [1, S, E];
    case 'Wq':
    case 'Wk':
    case 'Wv':
      return [H, E, P];
    case 'Wo':
      return [H, P, E];
    case 'Bq':
    case 'Bk':
    case 'Bv':
      return [H, 1, P];
    case 'Bo':
      return [H, 1, E];
    case 'Wff':
      return [1, E, F];
    case 'Wff2':
      return [1, F, E];
    case 'Bff':
      return [1, 1, F];
    case 'Bff2':
      return [1, 1, E];
    case 'preactivation':
    case 'FFp':
    case 'gelu':
    case 'relu':
      return [1, S, F];
    case 'Qp':
    case 'Kp':
    case 'Vp':
    case 'O_soft':
      return [H, S, P];
    case 'A':
    case 'A_soft':
      return [H, S, S];
    case 'Out_soft':
      return [H, S, E];
  }
}

/** Index into the tensor's data of view position `pos` of a segment. */
export function tensorIndex(p: ItaParams, seg: Segment, pos: number): number {
  const [, R, C] = tensorDims(p, seg.tensor);
  const base = seg.head * R * C;
  const r = Math.floor(pos / seg.cols);
  const c = pos - r * seg.cols;
  switch (seg.view) {
    case 'mat':
      return base + r * C + c;
    case 'matT':
      return base + c * C + r;
    case 'bcast':
      return base + c;
    case 'bcastT':
      return base + r;
  }
}

/** Tensor indices of a whole segment, in stream order. */
export function segmentIndices(p: ItaParams, seg: Segment): Int32Array {
  const out = new Int32Array(seg.order.length);
  const [, R, C] = tensorDims(p, seg.tensor);
  const base = seg.head * R * C;
  const { order, cols, view } = seg;
  // One loop per view keeps the per-element work to a division and a multiply-add.
  const n = order.length;
  switch (view) {
    case 'mat':
      for (let i = 0; i < n; i++) {
        const pos = order[i]!;
        const r = (pos / cols) | 0; // pos and cols are small non-negative integers
        out[i] = base + r * C + (pos - r * cols);
      }
      break;
    case 'matT':
      for (let i = 0; i < n; i++) {
        const pos = order[i]!;
        const r = (pos / cols) | 0; // pos and cols are small non-negative integers
        out[i] = base + (pos - r * cols) * C + r;
      }
      break;
    case 'bcast':
      for (let i = 0; i < n; i++) {
        const pos = order[i]!;
        out[i] = base + (pos % cols);
      }
      break;
    default:
      for (let i = 0; i < n; i++) out[i] = base + ((order[i]! / cols) | 0);
  }
  return out;
}

/** "Qp head 1 row 3 column 17" for a tensor index. */
export function describeElement(p: ItaParams, t: TensorName, index: number): string {
  const [H, R, C] = tensorDims(p, t);
  const h = Math.floor(index / (R * C));
  const rest = index - h * R * C;
  const r = Math.floor(rest / C);
  const c = rest - r * C;
  const parts: string[] = [t];
  if (
    H > 1 ||
    t.startsWith('W') ||
    t.startsWith('B') ||
    ['Qp', 'Kp', 'Vp', 'A', 'A_soft', 'O_soft', 'Out_soft'].includes(t)
  )
    parts.push(`head ${h}`);
  if (R > 1) parts.push(`row ${r}`);
  parts.push(`column ${c}`);
  return parts.join(' ');
}

/** Memoised stream orders (several files share a shape). */
function orders() {
  const cache = new Map<string, Walk>();
  const get = (key: string, make: () => Walk) => {
    let v = cache.get(key);
    if (!v) cache.set(key, (v = make()));
    return v;
  };
  return {
    plain: (r: number, c: number, rep = 1) => get(`p${r},${c},${rep}`, () => plainWalk(r, c, rep)),
    tile: (r: number, c: number, rep = 1) => get(`t${r},${c},${rep}`, () => tileWalk(r, c, rep)),
    rowRep: (r: number, c: number, rep: number) => get(`r${r},${c},${rep}`, () => rowRepeatWalk(r, c, rep)),
    block: (r: number, c: number) => get(`b${r},${c}`, () => blockWalk(r, c)),
  };
}

/** Every decimal stream file of `standalone/`. */
export function standaloneFiles(p: ItaParams): StreamFile[] {
  const { S, E, P, F, H } = p;
  const o = orders();
  const files: StreamFile[] = [];
  const seg = segment;
  const add = (name: string, step: string, s: Segment, perLine = 1) =>
    files.push({ kind: 'stream', path: `standalone/${name}.txt`, step, segments: [s], perLine });

  // Projections of the input X (rows x inner) by W (inner x cols) + B, as ITA streams them.
  const projection = (
    step: string,
    inName: string,
    x: TensorName,
    w: TensorName,
    b: TensorName,
    out: TensorName,
    names: [string, string, string],
    heads: number,
    inner: number,
    cols: number,
  ) => {
    add(inName, step, seg(x, 0, 'mat', S, inner, o.rowRep(S, inner, cols / 64)));
    for (let h = 0; h < heads; h++) {
      add(`${names[0]}_${h}`, step, seg(w, h, 'matT', cols, inner, o.tile(cols, inner, S / 64)));
      add(`${names[1]}_${h}`, step, seg(b, h, 'bcast', S, cols, o.block(S, cols)));
      add(`${names[2]}_${h}`, step, seg(out, h, 'mat', S, cols, o.block(S, cols)));
    }
  };
  projection('Q projection', 'Q', 'Q', 'Wq', 'Bq', 'Qp', ['Wq', 'Bq', 'Qp'], H, E, P);
  projection('K projection', 'K', 'K', 'Wk', 'Bk', 'Kp', ['Wk', 'Bk', 'Kp'], H, E, P);
  // V is produced transposed: Wv^T is the streamed operand, the input V the stationary one.
  add('V', 'V projection', seg('K', 0, 'mat', S, E, o.tile(S, E, P / 64)));
  for (let h = 0; h < H; h++) {
    add(`Wv_${h}`, 'V projection', seg('Wv', h, 'matT', P, E, o.rowRep(P, E, S / 64)));
    add(`Bv_${h}`, 'V projection', seg('Bv', h, 'bcastT', P, S, o.block(P, S)));
    add(`Vp_${h}`, 'V projection', seg('Vp', h, 'matT', P, S, o.block(P, S)));
  }
  // QK and the softmax.
  if (H === 1) add('A_soft_in', 'softmax', seg('A_soft', 0, 'mat', S, S, o.plain(S, S, 4)), S);
  for (let h = 0; h < H; h++) {
    add(`A_soft_${h}`, 'softmax', seg('A_soft', h, 'mat', S, S, o.plain(S, S)));
    add(`Qp_in_${h}`, 'QK', seg('Qp', h, 'mat', S, P, o.rowRep(S, P, S / 64)));
    add(`Kp_in_${h}`, 'QK', seg('Kp', h, 'mat', S, P, o.tile(S, P, S / 64)));
    add(`A_${h}`, 'QK', seg('A', h, 'mat', S, S, o.block(S, S)));
  }
  // AV: the streamed input is QK before the softmax (ITA applies the softmax on the fly).
  for (let h = 0; h < H; h++) {
    add(`A_stream_soft_in_${h}`, 'AV', seg('A', h, 'mat', S, S, o.rowRep(S, S, P / 64)));
    add(`Vp_in_${h}`, 'AV', seg('Vp', h, 'matT', P, S, o.tile(P, S, S / 64)));
    add(`O_soft_${h}`, 'AV', seg('O_soft', h, 'mat', S, P, o.block(S, P)));
  }
  // OW.
  for (let h = 0; h < H; h++) {
    add(`O_soft_in_${h}`, 'OW', seg('O_soft', h, 'mat', S, P, o.rowRep(S, P, E / 64)));
    add(`Wo_${h}`, 'OW', seg('Wo', h, 'matT', E, P, o.tile(E, P, S / 64)));
    add(`Bo_${h}`, 'OW', seg('Bo', h, 'bcast', S, E, o.block(S, E)));
    add(`Out_soft_${h}`, 'OW', seg('Out_soft', h, 'mat', S, E, o.block(S, E)));
  }
  // Feed-forward (one "head").
  projection('F1', 'FF', 'FF', 'Wff', 'Bff', 'FFp', ['Wff', 'Bff', 'FFp'], 1, E, F);
  add('FFp_in_0', 'F2', seg('FFp', 0, 'mat', S, F, o.rowRep(S, F, E / 64)));
  add('Wff2_0', 'F2', seg('Wff2', 0, 'matT', E, F, o.tile(E, F, S / 64)));
  add('Bff2_0', 'F2', seg('Bff2', 0, 'bcast', S, E, o.block(S, E)));
  add('FF2p_0', 'F2', seg('FF2p', 0, 'mat', S, E, o.block(S, E)));
  // Activation unit on its own.
  add('preactivation', 'activation', seg('preactivation', 0, 'mat', S, F, o.plain(S, F)));
  add('gelu', 'activation', seg('gelu', 0, 'mat', S, F, o.plain(S, F)));
  add('relu', 'activation', seg('relu', 0, 'mat', S, F, o.plain(S, F)));
  return files;
}

/** Every memory image of `hwpe/`. */
export function hwpeFiles(p: ItaParams): HexFile[] {
  const { S, E, P, F, H } = p;
  const o = orders();
  const tiles = (
    tensor: TensorName,
    head: number,
    view: View,
    rows: number,
    cols: number,
  ): { seg: Segment; bits: 8 } => ({
    seg: segment(tensor, head, view, rows, cols, o.tile(rows, cols)),
    bits: 8,
  });
  const vec = (tensor: TensorName, head: number, n: number): { seg: Segment; bits: 24 } => ({
    seg: segment(tensor, head, 'mat', 1, n, o.plain(1, n)),
    bits: 24,
  });
  const mem: HexFile['parts'] = [];
  for (let h = 0; h < H; h++) {
    mem.push(
      tiles('Q', 0, 'mat', S, E),
      tiles('K', 0, 'mat', S, E),
      tiles('Wq', h, 'matT', P, E),
      tiles('Wk', h, 'matT', P, E),
      tiles('Wv', h, 'matT', P, E),
      tiles('Wo', h, 'matT', E, P),
      vec('Bq', h, P),
      vec('Bk', h, P),
      vec('Bv', h, P),
      vec('Bo', h, E),
    );
  }
  mem.push(
    tiles('FF', 0, 'mat', S, E),
    tiles('Wff', 0, 'matT', F, E),
    tiles('Wff2', 0, 'matT', E, F),
    vec('Bff', 0, F),
    vec('Bff2', 0, E),
  );
  const perHead = (
    name: string,
    step: string,
    t: TensorName,
    view: View,
    rows: number,
    cols: number,
  ): HexFile => ({
    kind: 'hex',
    path: `hwpe/${name}.txt`,
    step,
    parts: Array.from({ length: H }, (_, h) => tiles(t, h, view, rows, cols)),
  });
  return [
    { kind: 'hex', path: 'hwpe/mem.txt', step: 'inputs', parts: mem },
    perHead('Q', 'Q projection', 'Qp', 'mat', S, P),
    perHead('K', 'K projection', 'Kp', 'mat', S, P),
    perHead('V', 'V projection', 'Vp', 'matT', P, S),
    perHead('QK', 'QK', 'A', 'mat', S, S),
    perHead('A', 'softmax', 'A_soft', 'mat', S, S),
    perHead('AV', 'AV', 'O_soft', 'mat', S, P),
    perHead('OW', 'OW', 'Out_soft', 'mat', S, E),
    { kind: 'hex', path: 'hwpe/F1.txt', step: 'F1', parts: [tiles('FFp', 0, 'mat', S, F)] },
    { kind: 'hex', path: 'hwpe/F2.txt', step: 'F2', parts: [tiles('FF2p', 0, 'mat', S, E)] },
  ];
}

/** An array of the Snitch cluster header: per head (or one) segment, or packed requant words. */
export interface HeaderArray {
  name: string;
  ctype: string;
  /** Undefined for a single (non multi-head) array. */
  multihead: boolean;
  /** One segment per head (or one), each an 8-bit/24-bit value stream. */
  segments: Segment[];
  step: string;
}

/** The arrays of `snitch-cluster/mem_snitch_cluster.h` (the requant words are handled apart). */
export function headerArrays(p: ItaParams): { before: HeaderArray[]; after: HeaderArray[] } {
  const { S, E, P, H } = p;
  const o = orders();
  const heads = (tensor: TensorName, view: View, rows: number, cols: number, tiled = true): Segment[] =>
    Array.from({ length: H }, (_, h) =>
      segment(tensor, h, view, rows, cols, tiled ? o.tile(rows, cols) : o.plain(rows, cols)),
    );
  const arr = (
    name: string,
    ctype: string,
    step: string,
    segments: Segment[],
    multihead = true,
  ): HeaderArray => ({
    name,
    ctype,
    multihead,
    segments,
    step,
  });
  return {
    before: [
      arr('input_q', 'int8_t', 'inputs', [segment('Q', 0, 'mat', S, E, o.tile(S, E))], false),
      arr('input_k', 'int8_t', 'inputs', [segment('K', 0, 'mat', S, E, o.tile(S, E))], false),
      arr('input_Wq', 'int8_t', 'inputs', heads('Wq', 'matT', P, E)),
      arr('input_Wk', 'int8_t', 'inputs', heads('Wk', 'matT', P, E)),
      arr('input_Wv', 'int8_t', 'inputs', heads('Wv', 'matT', P, E)),
      arr('input_Wo', 'int8_t', 'inputs', heads('Wo', 'matT', E, P)),
      arr('input_Bq', 'ita_int24_t', 'inputs', heads('Bq', 'mat', 1, P, false)),
      arr('input_Bk', 'ita_int24_t', 'inputs', heads('Bk', 'mat', 1, P, false)),
      arr('input_Bv', 'ita_int24_t', 'inputs', heads('Bv', 'mat', 1, P, false)),
      arr('input_Bo', 'ita_int24_t', 'inputs', heads('Bo', 'mat', 1, E, false)),
    ],
    after: [
      arr('golden_interm_Pq', 'int8_t', 'Q projection', heads('Qp', 'mat', S, P)),
      arr('golden_interm_Pk', 'int8_t', 'K projection', heads('Kp', 'mat', S, P)),
      arr('golden_interm_Pv', 'int8_t', 'V projection', heads('Vp', 'matT', P, S)),
      arr('golden_interm_attention', 'int8_t', 'QK', heads('A', 'mat', S, S)),
      arr('golden_interm_head_output', 'int8_t', 'AV', heads('O_soft', 'mat', S, P)),
      arr('golden_output', 'int8_t', 'OW', heads('Out_soft', 'mat', S, E)),
    ],
  };
}

/** Names of the requantisation word arrays of the header (8-bit constants of steps 1..6, packed). */
export const HEADER_REQUANT_ARRAYS = ['requant_eps_mult', 'requant_right_shift', 'requant_add'] as const;
