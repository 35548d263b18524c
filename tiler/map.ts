/**
 * Graph -> tiler ops. Takes an integer graph (the ops of the functional executor, after Deeploy's
 * lowering) with the shape of every tensor (from a run of the executor) and returns a list of ops
 * the scheduler understands:
 *
 *   attention  the fused `MHSA` node (q, k, v inputs with v = k, per-head weights): one ITA
 *              attention sequence per head (Q, K, V^T, QK + ITAMax + AV per 64-row group, OW),
 *              output one S x E matrix per head
 *   sum        the head sum: `ReduceSum` over the head axis of an MHSA output + `RequantShift`
 *   linear     `MatMul` with constant weights [+ `Add` of a constant bias] + `RequantShift`
 *              [+ `Relu` | `ITAGELU`], or `Gemm` (alpha 1, a bias per column) in place of
 *              MatMul + Add: ITA's linear (Linear layer, one job per 64 x 64 x 64 tile)
 *   add        residual `Add` of two int8 matrices + `RequantShift`
 *   layernorm  `iLayerNorm`;  nonorm  `iNoNorm` (weights per column or per element)
 *   isoftmax   `iSoftmax` over the rows of a signed int8 matrix (Deeploy's I-BERT softmax)
 *   dgemm      a linear ITA cannot compute exactly, in Deeploy's int32 arithmetic on the cores (also
 *              with an int32 output as a graph output), and `MatMul` of two activations +
 *              `RequantShift` (on ITA where exact: `itaRq`)
 *   conv       `Conv` (group 1) + `RequantShift` per channel, output one pixel per row (`Mat.chw`)
 *   pool       `MaxPool` of a conv output [+ `Transpose` to channels last]
 *   transpose  a `Transpose` swapping the two axes of a matrix (at most 64 rows)
 *   lut        `RequantShift` of an 8-bit activation, `iGELU` + `RequantShift`: a 256-entry table
 *   pmax       Deeploy's `ITAPartialMax`, and its `ITAMax` (one group over the row, 255 x 256 / sum);
 *   colmean    `IntegerMean` / `ReduceMean` over the rows
 *
 * Each pattern has one recogniser, looked up by the op of the node that starts it (`RECOGNISERS`);
 * nodes are visited in topological order and a node already covered by a pattern is skipped.
 *
 * Layout nodes that keep the bytes of the row-major matrix (Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity, and a Transpose that only moves axes of size 1) are resolved here: their output names
 * the same matrix as their input. Every activation is a matrix of rows x cols (cols = the last
 * axis, rows = the product of the others) held in the T64 layout, padded to multiples of 64 where
 * it is not one (`Mat.valid`): padded rows are read by every op but attention, padded columns only
 * by linears (as their inner dimension, against zero weights) and iSoftmax (over the row's own
 * columns).
 *
 * A linear goes to ITA's form when ITA computes it exactly (requantiser mul 0..255, add a multiple
 * of 2^shift with add / 2^shift in -128..127 or else a multiple of mul, folded into the bias,
 * scalar constants, signed 8-bit output, biases within 24 bits, no sum beyond ITA's 26-bit
 * accumulator, no wrap of Deeploy's int32 product), otherwise to `dgemm` with the reason. What
 * cannot be mapped exactly is refused with an InputError naming the node and the reason: v
 * different from k, more than 8 heads, attention dims not multiples of 64, padded columns into an
 * op other than a linear, an op without a recogniser.
 */
import { InputError } from '../rtl-model/errors.ts';
import type { Requant } from '../rtl-model/ref/requant.ts';
import { OPS, topoSort } from '../onnx/executor.ts';
import { OpContext } from '../onnx/ops/context.ts';
import { mhsaParams } from '../onnx/ops/mhsa.ts';
import { iSoftmaxExp } from '../onnx/softmax.ts';
import type { Graph, GraphNode } from '../onnx/model.ts';
import type { Tensor } from '../onnx/tensor.ts';
import type { EncoderModel } from './presets.ts';

export type { EncoderModel };

/** An int8 activation matrix (T64 in L1 and DRAM), named after its graph tensor. */
export interface Mat {
  name: string;
  /** Rows and columns as stored: multiples of 64. */
  rows: number;
  cols: number;
  /**
   * The tensor's own rows and columns when they are not multiples of 64 (the rest is padding: zero
   * in a graph input, anything in an op output; only ops exact on any padding read it).
   */
  valid?: { rows: number; cols: number };
  /**
   * The tensor is N x C x H x W (N = 1) held one pixel per row and one channel per column (a conv
   * output, `rows` = H W): only MaxPool reads it; its values are compared through that permutation.
   */
  chw?: boolean;
  /**
   * Elements are int32, row-major (a 64-row block is 64 x cols x 4 bytes), not T64 int8: the
   * product of a linear without a requantiser, as a graph output (no mapped op reads one).
   */
  int32?: boolean;
}

/** The tensor's own rows and columns of a matrix (without padding). */
export function validOf(m: Mat): { rows: number; cols: number } {
  return m.valid ?? { rows: m.rows, cols: m.cols };
}

const up64 = (v: number): number => Math.ceil(v / 64) * 64;

/** A matrix of the given rows and columns, padded to multiples of 64. */
function paddedMat(name: string, rows: number, cols: number): Mat {
  const m: Mat = { name, rows: up64(rows), cols: up64(cols) };
  if (m.rows !== rows || m.cols !== cols) m.valid = { rows, cols };
  return m;
}

/** A row-major rows x cols matrix padded with zeros to prows x pcols. */
export function padMatrix(
  v: ArrayLike<number>,
  rows: number,
  cols: number,
  prows: number,
  pcols: number,
): Int32Array {
  const out = new Int32Array(prows * pcols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * pcols + c] = v[r * cols + c]!;
  return out;
}

export type Act = 'identity' | 'relu' | 'gelu';

export interface ActConsts {
  b: number;
  c: number;
  mult: number;
  shift: number;
  add: number;
}

export interface AttentionHead {
  /**
   * Weights transposed (rows = output columns), row-major: wqT, wkT, wvT P x E, woT E x P; int8,
   * as ITA reads them (each value's low byte, the byte the machine's memory holds).
   */
  wqT: Int8Array;
  wkT: Int8Array;
  wvT: Int8Array;
  woT: Int8Array;
  bq: Int32Array;
  bk: Int32Array;
  bv: Int32Array;
  bo: Int32Array;
  rq: { q: Requant; k: Requant; v: Requant; qk: Requant; av: Requant; ow: Requant };
}

interface OpBase {
  /** Graph node names the op covers (the first names it). */
  nodes: string[];
  layer: number;
  /** Multiply-accumulates of the network's own arithmetic (2 ops each). */
  macs: number;
}

export type TilerOp =
  | (OpBase & {
      kind: 'attention';
      q: Mat;
      k: Mat;
      S: number;
      E: number;
      P: number;
      heads: AttentionHead[];
      /** One S x E output per head (the MHSA node's output split by head). */
      outs: Mat[];
    })
  | (OpBase & { kind: 'sum'; xs: Mat[]; y: Mat; mul: number; add: number; shift: number })
  | (OpBase & {
      kind: 'linear';
      x: Mat;
      y: Mat;
      /** N x K int8, row-major (the weight transposed). */
      wT: Int8Array;
      bias: Int32Array;
      rq: Requant;
      act: Act;
      actConsts: ActConsts;
    })
  | (OpBase & {
      kind: 'add';
      a: Mat;
      b: Mat;
      y: Mat;
      mul: number;
      add: number;
      shift: number;
      /** a / b hold unsigned bytes. */
      aUnsigned?: boolean;
      bUnsigned?: boolean;
    })
  | (OpBase & {
      kind: 'layernorm';
      x: Mat;
      y: Mat;
      w: Int32Array;
      b: Int32Array;
      log2d: number;
      /** x holds unsigned bytes. */
      unsigned?: boolean;
    })
  | (OpBase & {
      kind: 'nonorm';
      x: Mat;
      y: Mat;
      w: Int32Array;
      b: Int32Array;
      mul: number;
      log2d: number;
    })
  | (OpBase & {
      /** Deeploy's linear in int32 on the cores (what ITA's linear cannot compute exactly). */
      kind: 'dgemm';
      x: Mat;
      y: Mat;
      /** y.cols x x.cols, row-major (the weights transposed, zero in the padding). */
      wT: Int32Array;
      alpha: number;
      /** One int32 per element of y (y.rows x y.cols, row-major), or null. */
      bias: Int32Array | null;
      /** RequantShift mul and add, one per row of y (perRow) or per column, zero in the padding. */
      mul: Int32Array;
      add: Int32Array;
      perRow: boolean;
      shift: number;
      unsigned: boolean;
      /** Why ITA's linear cannot compute it. */
      notIta: string;
      /** x holds unsigned bytes. */
      aUnsigned?: boolean;
      /**
       * A product of two activations: the second is this matrix (one 64-row block), either B^T
       * (wT's place) or, with `bDirect`, B as it is (K x N). wT is then empty.
       */
      bMat?: Mat;
      bDirect?: boolean;
      /** A product of two activations ITA's linear computes exactly: its requantiser and bias. */
      itaRq?: Requant;
      itaBiasAdd?: number;
    })
  | (OpBase & {
      /** `Conv` (group 1, NCHW) + `RequantShift` per channel: y one pixel per row (`Mat.chw`). */
      kind: 'conv';
      x: Mat;
      y: Mat;
      /** The conv kernel's geometry words (sw/kernels/tiler.c). */
      geom: number[];
      /** F rows of K = C kh kw int8 weights (row-major, as the graph holds them). */
      w: Int8Array;
      K: number;
      /** Per output channel (y.cols of them, zero in the padding). */
      mul: Int32Array;
      add: Int32Array;
      bias: Int32Array;
    })
  | (OpBase & {
      /** `MaxPool` of a conv output [+ the `Transpose` to channels last that follows it]. */
      kind: 'pool';
      x: Mat;
      y: Mat;
      geom: number[];
    })
  | (OpBase & { kind: 'transpose'; x: Mat; y: Mat })
  | (OpBase & {
      /**
       * Blocks of elements copied into a new matrix (a `Slice`, a `Concat`, a `Reshape` that changes
       * the last axis), part by part; every element of y no part writes (its padding) is cleared.
       */
      kind: 'copy';
      parts: CopyPart[];
      y: Mat;
    })
  | (OpBase & {
      /** Element-wise ops of one 8-bit input as a table of their 256 results. */
      kind: 'lut';
      x: Mat;
      y: Mat;
      table: Uint8Array;
    })
  | (OpBase & {
      /** Deeploy's ITAPartialMax (`full` false) or ITAMax (`full`: one group, the uint8 range). */
      kind: 'pmax';
      x: Mat;
      y: Mat;
      group: number;
      full: boolean;
    })
  | (OpBase & { kind: 'colmean'; x: Mat; y: Mat; count: number; unsigned: boolean })
  | (OpBase & {
      /** Deeploy's iRMSNorm over each row (the tensor's own columns), one weight per column. */
      kind: 'rmsnorm';
      x: Mat;
      y: Mat;
      w: Int32Array;
      log2d: number;
    })
  | (OpBase & {
      /** `Mul` of two 8-bit matrices + `RequantShift` (scalar constants), element by element. */
      kind: 'mul';
      a: Mat;
      b: Mat;
      y: Mat;
      mul: number;
      add: number;
      shift: number;
      aUnsigned: boolean;
      bUnsigned: boolean;
      unsigned: boolean;
    })
  | (OpBase & {
      kind: 'isoftmax';
      x: Mat;
      y: Mat;
      coeffA: number;
      coeffB: number;
      coeffC: number;
      log2: number;
    });

export interface MappedGraph {
  ops: TilerOp[];
  /** Graph tensor name -> the matrix holding it (layout nodes resolved). */
  mats: Map<string, Mat>;
  /** Graph inputs (matrices the host places in DRAM). */
  inputs: Mat[];
  /** Layout nodes resolved as aliases (their output names their input's matrix). */
  aliases: string[];
  /** Of those, the transposes not computed: their readers (products) read B^T, their input. */
  readAsBT?: string[];
}

const LAYOUT_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Transpose']);
/** Nodes whose outputs are constants (folded by the executor run). */
const CONST_OPS = new Set(['Constant']);

function refuse(n: GraphNode, why: string): never {
  throw new InputError(`node ${n.name} (${n.opType}): ${why}`);
}

function intAttr(n: GraphNode, name: string, dflt?: number): number {
  const a = n.attrs.get(name);
  if (!a) {
    if (dflt === undefined) refuse(n, `attribute ${name} is missing`);
    return dflt;
  }
  if (a.kind === 'int' || a.kind === 'float') return a.value;
  if (a.kind === 'ints' && a.value.length === 1) return a.value[0]!;
  if (a.kind === 'tensor' && a.value.data.length === 1) return a.value.data[0]!;
  refuse(n, `attribute ${name} must be one integer`);
}

function intsAttr(n: GraphNode, name: string): number[] | undefined {
  const a = n.attrs.get(name);
  if (!a) return undefined;
  if (a.kind === 'ints') return a.value;
  if (a.kind === 'int') return [a.value];
  if (a.kind === 'tensor') return Array.from(a.value.data);
  refuse(n, `attribute ${name} must be a list of integers`);
}

/** log2 of a power-of-two attribute. */
function log2Attr(n: GraphNode, name: string, max = 31): number {
  const v = intAttr(n, name);
  const s = Math.log2(v);
  if (!Number.isInteger(s) || s < 0 || s > max)
    refuse(n, `${name} must be a power of two up to 2^${max}, got ${v}`);
  return s;
}

/** The single value of a constant tensor that holds one value (or the same value everywhere). */
function uniform(n: GraphNode, t: Tensor, role: string): number {
  const v = t.data[0];
  if (v === undefined) refuse(n, `${role} is empty`);
  for (let i = 1; i < t.data.length; i++)
    if (t.data[i] !== v)
      refuse(
        n,
        `${role} must be one value for every element (ITA has one per job), got ${v} and ${t.data[i]}`,
      );
  return v;
}

/** RequantShift constants (Deeploy form) of a node, with a signed 8-bit output. */
function deeployRequant(n: GraphNode, T: Map<string, Tensor>): { mul: number; add: number; shift: number } {
  const mulT = T.get(n.inputs[1] ?? '');
  const addT = T.get(n.inputs[2] ?? '');
  if (!mulT || !addT) refuse(n, 'mul and add must be given');
  const levels = intAttr(n, 'n_levels', 0) || intAttr(n, 'n_levels_out', 256);
  if (levels !== 256) refuse(n, `n_levels must be 256 (int8 output), got ${levels}`);
  if (intAttr(n, 'signed', 1) === 0) refuse(n, 'the output must be signed int8');
  return { mul: uniform(n, mulT, 'mul'), add: uniform(n, addT, 'add'), shift: log2Attr(n, 'div') };
}

/**
 * Deeploy's RequantShift, clip((x mul + add + 2^(shift-1)) >> shift), in ITA's requantiser form,
 * clip(((x mul + 2^(shift-1)) >> shift) + add'): exact when add is a multiple of 2^shift (add' =
 * add / 2^shift, -128..127), or else when add is a multiple of mul: add / mul joins the bias
 * (`biasAdd`, added to every column's bias; add' = 0). The caller checks the bias's range.
 */
function itaRequant(n: GraphNode, T: Map<string, Tensor>): { rq: Requant; biasAdd: number } {
  const { mul, add, shift } = deeployRequant(n, T);
  if (!Number.isInteger(mul) || mul < 0 || mul > 255) refuse(n, `mul ${mul} is not in ITA's form (0..255)`);
  const div = 2 ** shift;
  const a = add / div;
  if (Number.isInteger(a) && a >= -128 && a <= 127) return { rq: { mult: mul, shift, add: a }, biasAdd: 0 };
  if (mul !== 0 && add % mul === 0) return { rq: { mult: mul, shift, add: 0 }, biasAdd: add / mul };
  refuse(
    n,
    Number.isInteger(a)
      ? `add / div = ${a} is not in ITA's form (-128..127) nor add ${add} a multiple of mul ${mul} (to join the bias)`
      : `add ${add} is neither a multiple of div ${div} (ITA adds after the shift) nor of mul ${mul} (to join the bias)`,
  );
}

export interface MapOptions {
  /** Layer index of each node name (nodes of no layer count to the layer of their consumer). */
  layerOf: Map<string, number>;
}

/**
 * What the recognisers share while a graph is mapped: the executor's tensors, who consumes what,
 * the matrices found so far. A recogniser reads it, registers the matrices its op produces
 * (`newMat`) and returns the op with the nodes it covers.
 */
class MapState {
  readonly consumers = new Map<string, GraphNode[]>();
  readonly producer = new Map<string, GraphNode>();
  readonly graphOutputs: Set<string>;
  readonly constNames = new Set<string>();
  readonly mats = new Map<string, Mat>();
  /** Graph inputs the tiler cannot hold, with the reason (refused when a node reads one). */
  readonly unusable = new Map<string, string>();
  /** Output of a real transpose -> the matrix it transposes. */
  readonly transposeOf = new Map<string, Mat>();
  /** Transposes read only as B of products: not computed. */
  readonly readAsBT: string[] = [];
  /** Matrices whose padding (rows and columns) holds zeros: graph inputs, `cols` outputs. */
  readonly zeroPad = new Set<string>();
  /** uint8 matrices whose values never exceed 127 (ITAPartialMax outputs, whose sum counts 256 for the maximum; graph inputs in 0..127). */
  readonly below128 = new Set<string>();

  constructor(
    readonly graph: Graph,
    readonly T: Map<string, Tensor>,
    readonly opts: MapOptions,
  ) {
    for (const n of graph.nodes) {
      for (const i of n.inputs) if (i !== '') this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
      for (const o of n.outputs) this.producer.set(o, n);
    }
    this.graphOutputs = new Set(graph.outputs.map((o) => o.name));
    for (const n of graph.nodes)
      if (CONST_OPS.has(n.opType)) n.outputs.forEach((o) => this.constNames.add(o));
  }

  isConst(name: string): boolean {
    return this.graph.initializers.has(name) || this.constNames.has(name);
  }
  /** The matrix an input names; padded columns only where the op is exact on any padding. */
  matOf(n: GraphNode, name: string, role: string, paddedColsOk = false): Mat {
    const m = this.mats.get(name);
    if (m && m.valid && m.valid.cols !== m.cols && !paddedColsOk)
      refuse(
        n,
        `input ${role} (${name}) has ${m.valid.cols} columns, padded to ${m.cols}: only linear layers (against zero weights) and iSoftmax (over the row's own columns) read padded columns`,
      );
    if (m?.int32)
      refuse(n, `input ${role} (${name}) holds int32 values: the tiler's ops read 8-bit activations`);
    if (m?.chw)
      refuse(
        n,
        `input ${role} (${name}) is a conv output held one pixel per row: only MaxPool reads it (then a Transpose to channels last)`,
      );
    if (m) return m;
    const why = this.unusable.get(name);
    if (why !== undefined) refuse(n, `input ${role}: ${why}`);
    refuse(
      n,
      `input ${role} (${name}) is not an activation the tiler holds (a constant or an unmapped tensor)`,
    );
  }
  /** Whether the tensor holds unsigned 8-bit values (the executor's view of it). */
  unsignedOf(name: string): boolean {
    return this.T.get(name)?.signed === false;
  }
  shapeOf(n: GraphNode, name: string): number[] {
    const t = this.T.get(name);
    if (!t) refuse(n, `tensor ${name} has no value in the executor run`);
    return t.shape;
  }
  newMat(n: GraphNode, name: string, shape = this.shapeOf(n, name)): Mat {
    if (shape.length < 1) refuse(n, `tensor ${name} is a scalar`);
    const cols = shape[shape.length - 1]!;
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (cols === 0 || rows === 0) refuse(n, `tensor ${name} [${shape.join('x')}] is empty`);
    const m = paddedMat(name, rows, cols);
    this.mats.set(name, m);
    return m;
  }
  /** The single consumer of a tensor that is not a graph output. */
  only(name: string): GraphNode | undefined {
    const cs = this.consumers.get(name) ?? [];
    if (cs.length !== 1 || this.graphOutputs.has(name)) return undefined;
    return cs[0];
  }
  constOf(n: GraphNode, name: string, role: string): Tensor {
    if (!this.isConst(name)) refuse(n, `${role} (${name}) must be a constant`);
    return this.T.get(name) ?? refuse(n, `${role} (${name}) has no value`);
  }
  layerOf(nodes: GraphNode[]): number {
    for (const x of nodes) {
      const l = this.opts.layerOf.get(x.name);
      if (l !== undefined) return l;
    }
    return -1;
  }
}

/** What a recogniser found: the ops, and every node they cover (the starting node included). */
interface Recognised {
  ops: TilerOp[];
  covers: GraphNode[];
}

/** An op's own fields: what a recogniser fills in (`covering` adds nodes, layer and macs). */
type OpFields = TilerOp extends infer T
  ? T extends TilerOp
    ? Omit<T, 'nodes' | 'layer' | 'macs'>
    : never
  : never;

/** What a recogniser found when `nodes` map to one op (`macs` multiply-accumulates). */
function covering(nodes: GraphNode[], s: MapState, op: OpFields, macs = 0): Recognised {
  return {
    covers: nodes,
    ops: [{ ...op, nodes: nodes.map((m) => m.name), layer: s.layerOf(nodes), macs } as TilerOp],
  };
}

/** What a recogniser found when node `n` alone maps to one op without multiply-accumulates. */
function single(n: GraphNode, s: MapState, op: OpFields): Recognised {
  return covering([n], s, op);
}

/** Recognises the pattern that starts at node `n`; refuses (InputError) what it cannot map exactly. */
type Recogniser = (n: GraphNode, s: MapState) => Recognised;

/** A layout node that keeps the bytes of the row-major matrix: its output names its input. */
function layoutAlias(n: GraphNode, s: MapState): Recognised {
  // the readers of the alias check its padding themselves
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  const outShape = s.shapeOf(n, n.outputs[0]!);
  if (n.opType === 'Transpose') {
    const inShape = s.shapeOf(n, n.inputs[0]!);
    const perm = intsAttr(n, 'perm') ?? [...inShape.keys()].reverse();
    const moved = perm.filter((p) => inShape[p] !== 1);
    if (moved.some((p, i) => i > 0 && p < moved[i - 1]!))
      refuse(
        n,
        `perm [${perm.join(',')}] moves data (only axes of size 1 may move; a real transpose is not supported)`,
      );
  }
  const cols = outShape[outShape.length - 1]!;
  const xc = validOf(x).cols;
  if (cols !== xc) refuse(n, `changes the last axis from ${xc} to ${cols} (the T64 layout would change)`);
  s.mats.set(n.outputs[0]!, x);
  return { ops: [], covers: [n] };
}

/** The fused `MHSA` node and its head sum (`ReduceSum` over heads + `RequantShift`). */
function attention(n: GraphNode, s: MapState): Recognised {
  const T = s.T;
  const q = s.matOf(n, n.inputs[0]!, 'q');
  const k = s.matOf(n, n.inputs[1]!, 'k');
  const v = s.matOf(n, n.inputs[2]!, 'v');
  if (v !== k) refuse(n, 'v must be the same tensor as k (ITA computes V from the k input)');
  if (q.valid || k.valid) refuse(n, 'S and E must be multiples of 64 (ITA reads every row and column)');
  const H = intAttr(n, 'heads');
  const P = intAttr(n, 'dim_head');
  const qShape = s.shapeOf(n, n.inputs[0]!);
  const S = qShape[qShape.length - 2]!;
  const E = q.cols;
  if (q.rows !== S || k.rows !== S) refuse(n, `only batch 1 is supported (q holds ${q.rows} rows, S = ${S})`);
  for (const [nm, d] of [
    ['S', S],
    ['E', E],
    ['P', P],
  ] as const)
    if (d % 64 !== 0 || d < 64 || d > 960)
      refuse(n, `${nm} = ${d}: ITA needs a multiple of 64 from 64 to 960`);
  if (H < 1 || H > 8) refuse(n, `heads = ${H}: 1 to 8 are supported (the head sum kernel adds up to 8)`);
  if (intAttr(n, 'n_levels', 256) !== 256) refuse(n, 'n_levels must be 256');
  const w = (i: number, role: string, per: number, optional = false): ((h: number) => Int32Array) => {
    const name = n.inputs[i] ?? '';
    if (name === '') {
      if (!optional) refuse(n, `${role} is missing`);
      return () => new Int32Array(per);
    }
    const t = s.constOf(n, name, role);
    if (t.data.length !== H * per) refuse(n, `${role} holds ${t.data.length} values, expected ${H} x ${per}`);
    return (h) => Int32Array.from(t.data.subarray(h * per, (h + 1) * per));
  };
  const perHead = (name: string, dflt?: number): number[] => {
    const a = n.attrs.get(name);
    let vals: number[];
    if (!a) {
      if (dflt === undefined) refuse(n, `attribute ${name} is missing`);
      vals = [dflt];
    } else vals = intsAttr(n, name)!;
    if (vals.length === 1) return new Array<number>(H).fill(vals[0]!);
    if (vals.length !== H) refuse(n, `attribute ${name} must hold 1 or ${H} values`);
    return vals;
  };
  const rqOf = (step: string, h: number): Requant => {
    const mult = perHead(`${step}_requant_mul`)[h]!;
    const div = perHead(`${step}_requant_div`)[h]!;
    const add = perHead(`${step}_requant_add`, 0)[h]!;
    const shift = Math.log2(div);
    if (!Number.isInteger(shift) || shift < 0 || shift > 31)
      refuse(n, `${step}_requant_div ${div} is not a power of two`);
    if (mult < 0 || mult > 255) refuse(n, `${step}_requant_mul ${mult} is not in ITA's form (0..255)`);
    if (add < -128 || add > 127) refuse(n, `${step}_requant_add ${add} is not in ITA's form (-128..127)`);
    return { mult, shift, add };
  };
  const [wq, bq, wk, bk, wv, bv, wo, bo] = mhsaParams(E, P).map((p) =>
    w(p.input, p.role, p.perHead, p.optional),
  );
  const heads: AttentionHead[] = [];
  for (let h = 0; h < H; h++) {
    const head: AttentionHead = {
      wqT: transposed(wq(h), E, P, new Int8Array(E * P)),
      wkT: transposed(wk(h), E, P, new Int8Array(E * P)),
      wvT: transposed(wv(h), E, P, new Int8Array(E * P)),
      woT: transposed(wo(h), P, E, new Int8Array(P * E)),
      bq: bq(h),
      bk: bk(h),
      bv: bv(h),
      bo: bo(h),
      rq: {
        q: rqOf('wq', h),
        k: rqOf('wk', h),
        v: rqOf('wv', h),
        qk: rqOf('preattn', h),
        av: rqOf('postattn', h),
        ow: rqOf('wo', h),
      },
    };
    for (const b of [head.bq, head.bk, head.bv, head.bo])
      for (const x of b)
        if (x < -(2 ** 23) || x >= 2 ** 23) refuse(n, `bias value ${x} exceeds ITA's 24 bits`);
    heads.push(head);
  }
  // head sum: ReduceSum over the head axis + RequantShift
  const out = n.outputs[0]!;
  const red = s.only(out);
  if (!red || red.opType !== 'ReduceSum')
    refuse(n, 'the MHSA output must feed exactly one ReduceSum over the head axis (the head sum)');
  const axes = intsAttr(red, 'axes') ?? (red.inputs[1] ? Array.from(T.get(red.inputs[1])?.data ?? []) : []);
  const rank = s.shapeOf(n, out).length;
  if (axes.length !== 1 || (axes[0]! + rank) % rank !== rank - 3)
    refuse(red, 'the head sum must reduce the head axis only');
  const rq = s.only(red.outputs[0]!);
  if (!rq || rq.opType !== 'RequantShift') refuse(red, 'the head sum must feed exactly one RequantShift');
  const outs = heads.map((_, h) => ({ name: `${out}#h${h}`, rows: S, cols: E }));
  outs.forEach((m) => s.mats.set(m.name, m));
  const nodes = [n, red, rq];
  const layer = s.layerOf(nodes);
  const r = deeployRequant(rq, T);
  return {
    covers: nodes,
    ops: [
      {
        kind: 'attention',
        nodes: [n.name],
        layer,
        macs: H * (3 * S * E * P + 2 * S * S * P + S * P * E),
        q,
        k,
        S,
        E,
        P,
        heads,
        outs,
      },
      {
        kind: 'sum',
        nodes: [red.name, rq.name],
        layer,
        macs: 0,
        xs: outs,
        y: s.newMat(rq, rq.outputs[0]!),
        ...r,
      },
    ],
  };
}

/** A K x N row-major matrix transposed (N x K), in `o` (int32 unless given). */
function transposed<T extends Int32Array | Int8Array = Int32Array>(
  m: ArrayLike<number>,
  rows: number,
  cols: number,
  o: T = new Int32Array(rows * cols) as T,
): T {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) o[c * rows + r] = m[r * cols + c]!;
  return o;
}

/** A linear product found by `matmulLinear` or `gemmLinear`, before its bias and requantiser. */
interface Product {
  /** The node computing A x B (MatMul or Gemm). */
  n: GraphNode;
  x: Mat;
  K: number;
  N: number;
  /** N x K, row-major (the weights transposed). */
  wT: Int32Array;
  alpha: number;
  /** One bias per output column, or per element (rows x N of the tensor), or none. */
  bias?: Int32Array;
  biasPerElement?: boolean;
}

/**
 * The rest of a linear layer after its product: [+ `Add` of a constant bias per column when the
 * product has none] + `RequantShift` [+ `Relu` | `ITAGELU`]. ITA's linear (`linear`) when ITA
 * computes it exactly; otherwise Deeploy's arithmetic on the cores (`dgemm`), with the reason.
 */
function linearTail(s: MapState, p: Product): Recognised {
  const { n, x, K, N } = p;
  for (const v of p.wT) if (v < -128 || v > 127) refuse(n, `weight value ${v} is not int8`);
  // uint8 A: the same bytes as int8 only while no value exceeds 127 (an ITAPartialMax output)
  const aUns = s.unsignedOf(n.inputs[0]!) && !s.below128.has(x.name);
  const nodes = [n];
  let cur = n.outputs[0]!;
  let next = s.only(cur);
  let bias = p.bias;
  if (!bias && next && next.opType === 'Add') {
    const other = next.inputs[0] === cur ? next.inputs[1]! : next.inputs[0]!;
    if (s.isConst(other)) {
      const b = s.constOf(next, other, 'bias');
      if (b.data.length !== N) refuse(next, `bias holds ${b.data.length} values, expected ${N}`);
      bias = Int32Array.from(b.data);
      nodes.push(next);
      cur = next.outputs[0]!;
      next = s.only(cur);
    }
  }
  if (!next || next.opType !== 'RequantShift') {
    if (s.graphOutputs.has(cur) || (s.consumers.get(cur) ?? []).length === 0)
      return withUnsignedA(int32Linear(s, p, bias, nodes, cur), aUns);
    refuse(
      n,
      'a linear layer must end in one RequantShift (MatMul [+ Add bias] + RequantShift): the tiler holds int8 activations, not the int32 product (an int32 product is mapped only as a graph output)',
    );
  }
  const rqNode = next;
  nodes.push(rqNode);
  cur = rqNode.outputs[0]!;
  const notIta = aUns
    ? 'A holds uint8 values that may exceed 127 (ITA reads int8)'
    : whyNotItaLinear(s, p, bias, rqNode);
  if (notIta !== null) return withUnsignedA(dgemm(s, p, bias, rqNode, nodes, notIta), aUns);
  const { rq, biasAdd } = itaRequant(rqNode, s.T);
  if (biasAdd !== 0) bias = Int32Array.from(bias ?? new Int32Array(N), (v) => v + biasAdd);
  let act: Act = 'identity';
  let actConsts: ActConsts = { b: 0, c: 0, mult: 1, shift: 0, add: 0 };
  next = s.only(cur);
  if (next && next.opType === 'Relu') {
    act = 'relu';
    nodes.push(next);
    cur = next.outputs[0]!;
  } else if (next && next.opType === 'ITAGELU') {
    act = 'gelu';
    actConsts = {
      b: intAttr(next, 'b'),
      c: intAttr(next, 'c'),
      mult: intAttr(next, 'mult'),
      shift: intAttr(next, 'shift'),
      add: intAttr(next, 'add'),
    };
    nodes.push(next);
    cur = next.outputs[0]!;
  }
  const y = s.newMat(n, cur);
  // ReLU of ITA's int8 output: the executor calls it unsigned, but it never exceeds 127
  if (act === 'relu') s.below128.add(y.name);
  const padded = y.cols !== N || x.cols !== K;
  return covering(
    nodes,
    s,
    {
      kind: 'linear',
      x,
      y,
      // int8 (checked above): a byte a weight for the whole run
      wT: Int8Array.from(padded ? padMatrix(p.wT, N, K, y.cols, x.cols) : p.wT),
      bias: padded ? padMatrix(bias ?? [], bias ? 1 : 0, N, 1, y.cols) : (bias ?? new Int32Array(N)),
      rq,
      act,
      actConsts,
    },
    validOf(x).rows * K * N,
  );
}

/** The cores' int32 gemm reading A as uint8 when `aUns`. */
function withUnsignedA(r: Recognised, aUns: boolean): Recognised {
  const op = r.ops[0]!;
  if (op.kind !== 'dgemm') throw new Error('withUnsignedA: dgemm expected');
  if (aUns) op.aUnsigned = true;
  return r;
}

/**
 * A linear whose int32 product (+ bias) is a graph output: Deeploy's int32 gemm on the cores, its
 * sums written as int32 (ITA writes 8-bit outputs only).
 */
function int32Linear(
  s: MapState,
  p: Product,
  bias: Int32Array | undefined,
  nodes: GraphNode[],
  out: string,
): Recognised {
  const y: Mat = { ...s.newMat(nodes[nodes.length - 1]!, out), int32: true };
  s.mats.set(out, y);
  return dgemmOp(
    s,
    p,
    bias,
    nodes,
    y,
    { mul: new Int32Array(y.cols), add: new Int32Array(y.cols), perRow: false, shift: 0, unsigned: false },
    `${p.n.opType} output is the int32 product (no RequantShift): ITA writes 8-bit outputs`,
  );
}

/** Requantiser of a `dgemm`: per-column (or per-row) mul and add padded to the output, shift, sign. */
interface DgemmRequant {
  mul: Int32Array;
  add: Int32Array;
  perRow: boolean;
  shift: number;
  unsigned: boolean;
}

/** The `dgemm` op computing `y` = the product (+ bias), requantised by `rq`. */
function dgemmOp(
  s: MapState,
  p: Product,
  bias: Int32Array | undefined,
  nodes: GraphNode[],
  y: Mat,
  rq: DgemmRequant,
  notIta: string,
): Recognised {
  const { x, K, N } = p;
  const rows = validOf(y).rows;
  let biasEl: Int32Array | null = null;
  if (bias) {
    const full = p.biasPerElement ? bias : Int32Array.from({ length: rows * N }, (_, i) => bias[i % N]!);
    biasEl = padMatrix(full, rows, N, y.rows, y.cols);
  }
  return covering(
    nodes,
    s,
    {
      kind: 'dgemm',
      x,
      y,
      wT: padMatrix(p.wT, N, K, y.cols, x.cols),
      alpha: p.alpha,
      bias: biasEl,
      ...rq,
      notIta,
    },
    rows * K * N,
  );
}

/** Why ITA's linear cannot compute this product + bias + requantiser exactly, or null. */
function whyNotItaLinear(
  s: MapState,
  p: Product,
  bias: Int32Array | undefined,
  rqNode: GraphNode,
): string | null {
  if (p.alpha !== 1) return `alpha = ${p.alpha}: ITA computes A x B unscaled`;
  if (p.biasPerElement) return 'a bias per element: ITA adds one per output column';
  let biasAdd: number;
  try {
    biasAdd = itaRequant(rqNode, s.T).biasAdd;
  } catch (e) {
    if (e instanceof InputError) return e.message.replace(/^node [^:]*: /, `${rqNode.opType}: `);
    throw e;
  }
  let bmax = 0;
  for (const v of bias ?? []) bmax = Math.max(bmax, Math.abs(v));
  const why = itaSumRange(p.K, bmax, biasAdd);
  return why ?? productWraps(s, rqNode, p.K * 128 * 128 + bmax);
}

/**
 * Why ITA's biases and accumulator cannot hold a linear's sums (K int8 products, biases up to
 * `bmax`, plus `biasAdd` folded from the requantiser), or null.
 */
function itaSumRange(K: number, bmax: number, biasAdd: number): string | null {
  const b = bmax + Math.abs(biasAdd);
  if (b >= 2 ** 23) return `bias up to ${b} exceeds ITA's 24 bits`;
  // ITA accumulates in 26 bits (wrapping), the graph in 32: exact when no sum can leave 26 bits
  if (K * 128 * 128 + b >= 2 ** 25)
    return `K = ${K} with bias up to ${b} can overflow ITA's 26-bit accumulator`;
  return null;
}

/**
 * Deeploy multiplies the sum by mul in int32 (wrapping), ITA's requantiser in 35 bits: the same
 * only while |sum| * mul + |add| + 2^(shift-1) stays below 2^31. A reason when it may not, or null.
 */
function productWraps(s: MapState, rqNode: GraphNode, sumBound: number): string | null {
  const { mul, add, shift } = deeployRequant(rqNode, s.T);
  const top = sumBound * Math.abs(mul) + Math.abs(add) + (shift > 0 ? 2 ** (shift - 1) : 0);
  return top >= 2 ** 31
    ? `sums up to ${sumBound} times mul ${mul} can wrap Deeploy's int32 requantiser (ITA's does not)`
    : null;
}

/** RequantShift constants per row or per column of a rows x N output (Deeploy's broadcasting). */
function rqVectors(
  s: MapState,
  rqNode: GraphNode,
  rows: number,
  N: number,
): { mul: Int32Array; add: Int32Array; perRow: boolean } {
  const mulT = s.constOf(rqNode, rqNode.inputs[1] ?? '', 'mul');
  const addT = s.constOf(rqNode, rqNode.inputs[2] ?? '', 'add');
  const kindOf = (t: Tensor): 'one' | 'col' | 'row' => {
    if (t.data.length === 1) return 'one';
    if (t.data.length === N && t.shape[t.shape.length - 1] === N) return 'col';
    if (t.data.length === rows && t.shape[t.shape.length - 1] === 1) return 'row';
    refuse(
      rqNode,
      `mul and add must hold one value, one per row or one per column, got [${t.shape.join('x')}]`,
    );
  };
  const km = kindOf(mulT);
  const ka = kindOf(addT);
  if (km !== 'one' && ka !== 'one' && km !== ka)
    refuse(rqNode, 'mul and add must both be per row or both per column');
  const perRow = km === 'row' || ka === 'row';
  const len = perRow ? rows : N;
  const vec = (t: Tensor): Int32Array =>
    t.data.length === 1 ? new Int32Array(len).fill(t.data[0]!) : Int32Array.from(t.data);
  return { mul: vec(mulT), add: vec(addT), perRow };
}

/** The linear in Deeploy's own int32 arithmetic, on the cores. */
function dgemm(
  s: MapState,
  p: Product,
  bias: Int32Array | undefined,
  rqNode: GraphNode,
  nodes: GraphNode[],
  notIta: string,
): Recognised {
  const levels = intAttr(rqNode, 'n_levels', 0) || intAttr(rqNode, 'n_levels_out', 256);
  if (levels !== 256) refuse(rqNode, `n_levels must be 256 (8-bit output), got ${levels}`);
  const shift = log2Attr(rqNode, 'div');
  const y = s.newMat(rqNode, rqNode.outputs[0]!);
  const v = rqVectors(s, rqNode, validOf(y).rows, p.N);
  const len = v.perRow ? y.rows : y.cols;
  const rq: DgemmRequant = {
    mul: padMatrix(v.mul, 1, v.mul.length, 1, len),
    add: padMatrix(v.add, 1, v.add.length, 1, len),
    perRow: v.perRow,
    shift,
    unsigned: intAttr(rqNode, 'signed', 1) === 0,
  };
  return dgemmOp(s, p, bias, nodes, y, rq, notIta);
}

/** `MatMul` with constant K x N weights, then the linear's tail. */
function matmulLinear(n: GraphNode, s: MapState): Recognised {
  const x = s.matOf(n, n.inputs[0]!, 'A', true);
  const wt = s.constOf(n, n.inputs[1]!, 'B (the weights)');
  if (wt.shape.length !== 2) refuse(n, `weights must be 2-D, got [${wt.shape.join('x')}]`);
  const [K, N] = wt.shape as [number, number];
  const xc = validOf(x).cols;
  if (K !== xc) refuse(n, `weights [${K}x${N}] do not fit the input's ${xc} columns`);
  return linearTail(s, { n, x, K, N, wT: transposed(wt.data, K, N), alpha: 1 });
}

/**
 * `Gemm` (transA = 0, B constant, C absent or constant: one value per output column or per
 * element, scaled by an integer beta), then the linear's tail.
 */
function gemmLinear(n: GraphNode, s: MapState): Recognised {
  const alpha = intAttr(n, 'alpha', 1);
  if (intAttr(n, 'transA', 0) !== 0) refuse(n, 'transA = 1: A must be the activation as it is');
  const transB = intAttr(n, 'transB', 0) !== 0;
  const wt = s.constOf(n, n.inputs[1]!, 'B (the weights)');
  if (wt.shape.length !== 2) refuse(n, `weights must be 2-D, got [${wt.shape.join('x')}]`);
  const [K, N] = (transB ? [wt.shape[1], wt.shape[0]] : wt.shape) as [number, number];
  const x = s.matOf(n, n.inputs[0]!, 'A', true);
  const { rows, cols: xc } = validOf(x);
  if (K !== xc) refuse(n, `weights [${K}x${N}] do not fit the input's ${xc} columns`);
  let bias: Int32Array | undefined;
  let biasPerElement = false;
  const cName = n.inputs[2] ?? '';
  if (cName !== '') {
    const c = s.constOf(n, cName, 'C (the bias)');
    const beta = intAttr(n, 'beta', 1);
    biasPerElement = c.data.length === rows * N && rows > 1 && c.shape[c.shape.length - 1] === N;
    if (c.data.length !== N && !biasPerElement)
      refuse(
        n,
        `C [${c.shape.join('x')}] must hold one value per output column (${N}) or per element (${rows} x ${N})`,
      );
    bias = Int32Array.from(c.data, (v) => Math.imul(v, beta));
  }
  const wT = transB ? Int32Array.from(wt.data) : transposed(wt.data, K, N);
  return linearTail(s, { n, x, K, N, wT, alpha, bias, biasPerElement });
}

/** A residual `Add` of two int8 matrices + `RequantShift`. */
function residualAdd(n: GraphNode, s: MapState): Recognised {
  const rq = s.only(n.outputs[0]!);
  // a chain of Adds, each read only by the next (the heads' outputs summed): one sum of them all,
  // mapped at its last Add (its summands are computed by then)
  if (rq && rq.opType === 'Add') return { ops: [], covers: [] };
  if (!rq || rq.opType !== 'RequantShift')
    refuse(n, 'a residual Add (or a chain of Adds) must feed exactly one RequantShift');
  const chain: GraphNode[] = [];
  const leaves: string[] = [];
  const walk = (m: GraphNode): void => {
    chain.push(m);
    for (const i of m.inputs) {
      const p = s.producer.get(i);
      if (p && p.opType === 'Add' && s.only(i) === m) walk(p);
      else leaves.push(i);
    }
  };
  walk(n);
  if (chain.length > 1) return sumChain(s, chain, leaves, rq);
  // element by element: padded columns give padding
  const a = s.matOf(n, n.inputs[0]!, 'A', true);
  const b = s.matOf(n, n.inputs[1]!, 'B', true);
  const [va, vb] = [validOf(a), validOf(b)];
  if (a.rows !== b.rows || a.cols !== b.cols || va.rows !== vb.rows || va.cols !== vb.cols)
    refuse(n, 'both inputs must have the same shape');
  return {
    covers: [n, rq],
    ops: [
      {
        kind: 'add',
        nodes: [n.name, rq.name],
        layer: s.layerOf([n, rq]),
        macs: 0,
        a,
        b,
        y: s.newMat(rq, rq.outputs[0]!),
        ...deeployRequant(rq, s.T),
        aUnsigned: s.unsignedOf(n.inputs[0]!),
        bUnsigned: s.unsignedOf(n.inputs[1]!),
      },
    ],
  };
}

/** A chain of Adds of up to 8 int8 matrices + RequantShift: the sum kernel (the head sum's). */
function sumChain(s: MapState, chain: GraphNode[], leaves: string[], rq: GraphNode): Recognised {
  const n = chain[0]!;
  if (leaves.length > 8)
    refuse(n, `a chain of Adds sums ${leaves.length} matrices: the sum kernel adds up to 8`);
  const xs = leaves.map((l, i) => {
    const m = s.matOf(chain[0]!, l, `summand ${i}`, true);
    if (s.unsignedOf(l))
      refuse(n, `summand ${i} (${l}) holds uint8 values: a chain of Adds is summed as int8`);
    return m;
  });
  if (xs.some((m) => m.rows !== xs[0]!.rows || m.cols !== xs[0]!.cols))
    refuse(n, 'every summand must have the same shape');
  const nodes = [...chain, rq];
  return covering(nodes, s, {
    kind: 'sum',
    xs,
    y: s.newMat(rq, rq.outputs[0]!),
    ...deeployRequant(rq, s.T),
  });
}

/**
 * `iLayerNorm` and `iNoNorm`: weights and bias one per column (or one value); iNoNorm's weights may
 * also hold one value per element (rows x cols).
 */
function norm(n: GraphNode, s: MapState): Recognised {
  const x = s.matOf(n, n.inputs[0]!, 'data');
  const vec = (i: number, role: string, perElement = false): Int32Array => {
    const t = s.constOf(n, n.inputs[i] ?? '', role);
    if (t.data.length === x.cols) return Int32Array.from(t.data);
    if (t.data.length === 1) return new Int32Array(x.cols).fill(t.data[0]!);
    if (perElement && t.data.length === x.rows * x.cols && t.shape[t.shape.length - 1] === x.cols)
      return Int32Array.from(t.data);
    refuse(
      n,
      `${role} must hold 1 or ${x.cols} values (one per column)${perElement ? ` or ${x.rows * x.cols} (one per element)` : ''}, got ${t.data.length}`,
    );
  };
  if (intAttr(n, 'n_levels', 256) !== 256) refuse(n, 'n_levels must be 256');
  const base = { x, y: s.newMat(n, n.outputs[0]!) };
  const op: OpFields =
    n.opType === 'iLayerNorm'
      ? {
          ...base,
          kind: 'layernorm',
          w: layerNormWeights(n, vec(1, 'weight')),
          b: vec(2, 'bias'),
          log2d: log2Attr(n, 'D'),
          unsigned: s.unsignedOf(n.inputs[0]!),
        }
      : {
          ...base,
          kind: 'nonorm',
          w: vec(1, 'weights', true),
          b: vec(2, 'bias'),
          mul: intAttr(n, 'mul'),
          log2d: log2Attr(n, 'D'),
        };
  return single(n, s, op);
}

/** LayerNorm weights for which the kernel's int32 product (x - mean) w is exact (|x - mean| <= 255). */
function layerNormWeights(n: GraphNode, w: Int32Array): Int32Array {
  for (const v of w)
    if (Math.abs(v) * 255 >= 2 ** 31) refuse(n, `weight ${v}: (x - mean) * weight can leave int32`);
  return w;
}

/**
 * `iSoftmax` over the last axis of a signed int8 matrix. The kernel reads every exponent from a
 * table and divides by the row's sum through its reciprocal: exact while no row's sum can reach
 * 2^31.
 */
function isoftmax(n: GraphNode, s: MapState): Recognised {
  // padded columns are fine: the kernel runs over the row's own columns only
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  if (!(s.T.get(n.inputs[0]!)?.signed ?? false))
    refuse(n, 'the input must be signed int8 (the tiler keeps no -128 offset for an unsigned one)');
  if (intAttr(n, 'n_levels', 256) !== 256) refuse(n, 'n_levels must be 256');
  const c = {
    coeffA: intAttr(n, 'coeffA'),
    coeffB: intAttr(n, 'coeffB'),
    coeffC: intAttr(n, 'coeffC'),
    log2: intAttr(n, 'log2'),
  };
  let top = 0;
  for (let d = 0; d < 256; d++) top = Math.max(top, iSoftmaxExp(-d, { ...c, nLevels: 256 }));
  const cols = validOf(x).cols;
  if (cols * top >= 2 ** 31)
    refuse(
      n,
      `a row of ${cols} exponents up to ${top} can reach 2^31 (the kernel's exact division stops there)`,
    );
  return single(n, s, {
    kind: 'isoftmax',
    x,
    y: s.newMat(n, n.outputs[0]!),
    ...c,
  });
}

/** The non-unit axes of a shape, in order. */
function bigAxes(shape: number[]): number[] {
  return [...shape.keys()].filter((i) => shape[i] !== 1);
}

/**
 * A layout node that keeps the bytes of the row-major matrix: its output names its input. A
 * `Transpose` that swaps the two axes of a matrix (every other axis of size 1) is a real transpose
 * on the cores (`transpose`).
 */
function layoutOrTranspose(n: GraphNode, s: MapState): Recognised {
  if (n.opType !== 'Transpose') {
    const shape = s.shapeOf(n, n.outputs[0]!);
    const x = s.mats.get(n.inputs[0]!);
    if (x && shape[shape.length - 1] !== validOf(x).cols) return relayout(n, s);
    return layoutAlias(n, s);
  }
  const inShape = s.shapeOf(n, n.inputs[0]!);
  const perm = intsAttr(n, 'perm') ?? [...inShape.keys()].reverse();
  const moved = perm.filter((p) => inShape[p] !== 1);
  if (!moved.some((p, i) => i > 0 && p < moved[i - 1]!)) return layoutAlias(n, s);
  const big = bigAxes(inShape);
  if (big.length !== 2 || big[1] !== inShape.length - 1)
    refuse(
      n,
      `perm [${perm.join(',')}] of [${inShape.join('x')}] moves data beyond swapping the two axes of a matrix`,
    );
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  // read only as B of products: they read B^T, which is x; nothing is computed
  const out = n.outputs[0]!;
  const readers = s.consumers.get(out) ?? [];
  if (
    readers.length > 0 &&
    !s.graphOutputs.has(out) &&
    readers.every((r) => r.opType === 'MatMul' && r.inputs[1] === out && r.inputs[0] !== out)
  ) {
    s.transposeOf.set(out, x);
    s.readAsBT.push(n.name);
    return { covers: [n], ops: [] };
  }
  if (x.valid && x.valid.cols !== x.cols)
    refuse(n, `input data (${x.name}) has padded columns: the transpose moves whole tiles`);
  if (validOf(x).rows > 64)
    refuse(n, `the transpose takes at most 64 rows (one block), the input has ${validOf(x).rows}`);
  const y = s.newMat(n, n.outputs[0]!);
  s.transposeOf.set(y.name, x);
  return single(n, s, { kind: 'transpose', x, y });
}

/** `Gather` of one index on an axis of size 1: the bytes stay, the output names the input. */
function gatherAlias(n: GraphNode, s: MapState): Recognised {
  const inShape = s.shapeOf(n, n.inputs[0]!);
  const axis = intAttr(n, 'axis', 0);
  const a = axis < 0 ? axis + inShape.length : axis;
  const idx = s.constOf(n, n.inputs[1] ?? '', 'indices');
  if (inShape[a] !== 1 || idx.data.length !== 1)
    refuse(n, `only one index on an axis of size 1 is mapped (axis ${axis} of [${inShape.join('x')}])`);
  return layoutAlias(n, s);
}

/** A block of a copy: y[yr + i, yc + j] = x[xr + i, xc + j] for i < rows, j < cols. */
export interface CopyPart {
  x: Mat;
  xr: number;
  xc: number;
  yr: number;
  yc: number;
  rows: number;
  cols: number;
}

/** The most parts one copy may take (a relayout moves rows of a few elements each). */
const MAX_COPY_PARTS = 4096;

/** The `copy` op of `parts` into a new matrix for `out` (its padding cleared: zeros). */
function copyOp(n: GraphNode, s: MapState, parts: CopyPart[], out: string, why: string): Recognised {
  if (parts.length > MAX_COPY_PARTS)
    refuse(n, `${why} takes ${parts.length} block copies, more than the ${MAX_COPY_PARTS} the tiler emits`);
  const y = s.newMat(n, out);
  s.zeroPad.add(y.name);
  if (parts.every((p) => s.below128.has(p.x.name))) s.below128.add(y.name);
  return single(n, s, { kind: 'copy', parts, y });
}

/**
 * Rows a range on a leading axis selects of the tensor as a matrix (rows = product of the
 * leading axes): contiguous when every axis before it has size 1. [first row, count per unit].
 */
function rowSpan(n: GraphNode, shape: number[], a: number, lo: number, hi: number): [number, number] {
  if (shape.slice(0, a).some((d) => d !== 1))
    refuse(
      n,
      `axis ${a} of [${shape.join('x')}]: only the outermost axis that is not 1 may be sliced or joined`,
    );
  const inner = shape.slice(a + 1, -1).reduce((p, d) => p * d, 1);
  return [lo * inner, (hi - lo) * inner];
}

/** A `Slice` (constant starts and ends, step 1) of the columns and / or the outer rows. */
function slice(n: GraphNode, s: MapState): Recognised {
  const xShape = s.shapeOf(n, n.inputs[0]!);
  const rank = xShape.length;
  const ints = (i: number, role: string): number[] | undefined =>
    n.inputs[i] ? Array.from(s.constOf(n, n.inputs[i]!, role).data) : undefined;
  const starts = ints(1, 'starts') ?? intsAttr(n, 'starts') ?? refuse(n, 'starts are missing');
  const ends = ints(2, 'ends') ?? intsAttr(n, 'ends') ?? refuse(n, 'ends are missing');
  const axes = ints(3, 'axes') ?? intsAttr(n, 'axes') ?? starts.map((_, i) => i);
  const steps = ints(4, 'steps') ?? starts.map(() => 1);
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  const { rows: R, cols: C } = validOf(x);
  let [xr, rows, xc, cols] = [0, R, 0, C];
  for (const [i, ax] of axes.entries()) {
    const a = ax < 0 ? ax + rank : ax;
    const d = xShape[a]!;
    const clamp = (v: number): number => Math.max(0, Math.min(d, v < 0 ? v + d : v));
    const lo = clamp(starts[i]!);
    const hi = Math.max(lo, clamp(ends[i]!));
    if (lo === 0 && hi === d) continue;
    if (steps[i] !== 1) refuse(n, `step ${steps[i]} on axis ${a}: only step 1 is mapped`);
    if (a === rank - 1) [xc, cols] = [lo, hi - lo];
    else if (rows !== R) refuse(n, 'only one outer axis may be sliced');
    else [xr, rows] = rowSpan(n, xShape, a, lo, hi);
  }
  if (rows === R && cols === C) return layoutAlias(n, s);
  if (rows === 0 || cols === 0) refuse(n, 'the slice is empty');
  return copyOp(n, s, [{ x, xr, xc, yr: 0, yc: 0, rows, cols }], n.outputs[0]!, 'the slice');
}

/** A `Concat` on the last axis (columns side by side) or on the outermost axis that is not 1 (rows). */
function concat(n: GraphNode, s: MapState): Recognised {
  const yShape = s.shapeOf(n, n.outputs[0]!);
  const rank = yShape.length;
  const ax = intAttr(n, 'axis');
  const a = ax < 0 ? ax + rank : ax;
  const names = n.inputs.filter((i) => i !== '');
  if (names.some((i) => s.isConst(i))) refuse(n, 'every input must be an activation');
  const signs = new Set(names.map((i) => s.unsignedOf(i)));
  if (signs.size > 1) refuse(n, 'the inputs mix int8 and uint8 values');
  const parts: CopyPart[] = [];
  let at = 0;
  for (const [k, name] of names.entries()) {
    const shape = s.shapeOf(n, name);
    const w = shape[a]!;
    if (w === 0) continue;
    const x = s.matOf(n, name, `input ${k}`, true);
    const { rows, cols } = validOf(x);
    if (a === rank - 1) parts.push({ x, xr: 0, xc: 0, yr: 0, yc: at, rows, cols });
    else {
      const [yr] = rowSpan(n, yShape, a, at, at + w);
      parts.push({ x, xr: 0, xc: 0, yr, yc: 0, rows, cols });
    }
    at += w;
  }
  return copyOp(n, s, parts, n.outputs[0]!, 'the concat');
}

/**
 * A `Reshape` that changes the last axis: each row of x split into rows of y (C_x a multiple of
 * C_y), or rows of x joined into one row of y (C_y a multiple of C_x), element order kept.
 */
function relayout(n: GraphNode, s: MapState): Recognised {
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  const { rows: R, cols: cx } = validOf(x);
  const yShape = s.shapeOf(n, n.outputs[0]!);
  const cy = yShape[yShape.length - 1]!;
  const parts: CopyPart[] = [];
  if (cx % cy === 0) {
    const k = cx / cy;
    for (let r = 0; r < R; r++)
      for (let j = 0; j < k; j++)
        parts.push({ x, xr: r, xc: j * cy, yr: r * k + j, yc: 0, rows: 1, cols: cy });
  } else if (cy % cx === 0) {
    const k = cy / cx;
    for (let r = 0; r < R; r++)
      parts.push({ x, xr: r, xc: 0, yr: Math.floor(r / k), yc: (r % k) * cx, rows: 1, cols: cx });
  } else
    refuse(
      n,
      `changes the last axis from ${cx} to ${cy}: only a split of rows into rows of ${cy} or a join of rows is mapped`,
    );
  return copyOp(n, s, parts, n.outputs[0]!, `the relayout from ${cx} to ${cy} columns`);
}

/** Scalar (or one-per-channel) values of a constant as a vector of `len` padded to `plen`. */
function channelVector(n: GraphNode, t: Tensor, len: number, plen: number, role: string): Int32Array {
  if (t.data.length !== 1 && t.data.length !== len)
    refuse(n, `${role} must hold 1 or ${len} values (one per channel), got ${t.data.length}`);
  const out = new Int32Array(plen);
  for (let i = 0; i < len; i++) out[i] = t.data[t.data.length === 1 ? 0 : i]!;
  return out;
}

/** 2-D `Conv` (group 1, batch 1) + `RequantShift` per output channel, on the cores. */
function conv(n: GraphNode, s: MapState): Recognised {
  const xShape = s.shapeOf(n, n.inputs[0]!);
  if (xShape.length !== 4 || xShape[0] !== 1)
    refuse(n, `the input must be 1 x C x H x W, got [${xShape.join('x')}]`);
  const [, C, H, W] = xShape as [number, number, number, number];
  // padded columns are fine: the kernel reads the image's own columns only
  const x = s.matOf(n, n.inputs[0]!, 'X', true);
  const wt = s.constOf(n, n.inputs[1]!, 'W (the weights)');
  if (wt.shape.length !== 4 || wt.shape[1] !== C)
    refuse(n, `weights [${wt.shape.join('x')}] do not fit ${C} channels`);
  const [F, , kh, kw] = wt.shape as [number, number, number, number];
  if (intAttr(n, 'group', 1) !== 1) refuse(n, 'group must be 1');
  if ((intsAttr(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) refuse(n, 'dilations must be 1');
  const autoPad = n.attrs.get('auto_pad');
  if (autoPad && autoPad.kind === 'string' && autoPad.value !== 'NOTSET' && autoPad.value !== 'VALID')
    refuse(n, `auto_pad ${autoPad.value} is not mapped`);
  const [sh, sw] = intsAttr(n, 'strides') ?? [1, 1];
  const pads =
    autoPad?.kind === 'string' && autoPad.value === 'VALID'
      ? [0, 0, 0, 0]
      : (intsAttr(n, 'pads') ?? [0, 0, 0, 0]);
  const K = C * kh * kw;
  if (K > 64) refuse(n, `C x kh x kw = ${K}: the conv kernel takes at most 64 taps per output`);
  for (const v of wt.data) if (v < -128 || v > 127) refuse(n, `weight value ${v} is not int8`);
  for (const v of s.T.get(n.inputs[0]!)!.data)
    if (v < -128 || v > 127) refuse(n, `input value ${v} is not int8`);
  const outShape = s.shapeOf(n, n.outputs[0]!);
  const [Ho, Wo] = [outShape[2]!, outShape[3]!];
  const rq = s.only(n.outputs[0]!);
  if (!rq || rq.opType !== 'RequantShift')
    refuse(
      n,
      'a Conv must feed exactly one RequantShift (the tiler holds 8-bit activations, not the int32 sums)',
    );
  const levels = intAttr(rq, 'n_levels', 0) || intAttr(rq, 'n_levels_out', 256);
  if (levels !== 256) refuse(rq, `n_levels must be 256 (8-bit output), got ${levels}`);
  const shift = log2Attr(rq, 'div');
  const name = rq.outputs[0]!;
  const y: Mat = { ...paddedMat(name, Ho * Wo, F), chw: true };
  s.mats.set(name, y);
  const w = Int8Array.from(wt.data);
  const biasName = n.inputs[2] ?? '';
  const bias =
    biasName === ''
      ? new Int32Array(y.cols)
      : channelVector(n, s.constOf(n, biasName, 'B (the bias)'), F, y.cols, 'the bias');
  const unsigned = intAttr(rq, 'signed', 1) === 0;
  // the kernel computes channels in pairs (F even; a padded channel has zero weights)
  const Fe = F + (F % 2);
  const geom = [
    C,
    H,
    W,
    Wo,
    kh,
    kw,
    sh!,
    sw!,
    pads[0]!,
    pads[1]!,
    Fe,
    shift,
    unsigned ? 1 : 0,
    x.cols / 64,
    y.cols / 64,
    K,
    Ho * Wo,
  ];
  return {
    covers: [n, rq],
    ops: [
      {
        kind: 'conv',
        nodes: [n.name, rq.name],
        layer: s.layerOf([n, rq]),
        macs: Ho * Wo * F * K,
        x,
        y,
        geom,
        w,
        K,
        mul: channelVector(rq, s.constOf(rq, rq.inputs[1] ?? '', 'mul'), F, y.cols, 'mul'),
        add: channelVector(rq, s.constOf(rq, rq.inputs[2] ?? '', 'add'), F, y.cols, 'add'),
        bias,
      },
    ],
  };
}

/** `MaxPool` of a conv output [+ a `Transpose` to channels last], on the cores. */
function maxPool(n: GraphNode, s: MapState): Recognised {
  const x = s.mats.get(n.inputs[0]!);
  if (!x || !x.chw) refuse(n, 'only the output of a mapped Conv (one pixel per row) is pooled');
  const inShape = s.shapeOf(n, n.inputs[0]!);
  const outShape = s.shapeOf(n, n.outputs[0]!);
  const [, C, H, W] = inShape as [number, number, number, number];
  const [Ho, Wo] = [outShape[2]!, outShape[3]!];
  const [kh, kw] = intsAttr(n, 'kernel_shape') ?? refuse(n, 'kernel_shape is missing');
  const [sh, sw] = intsAttr(n, 'strides') ?? [1, 1];
  const pads = intsAttr(n, 'pads') ?? [0, 0, 0, 0];
  if ((intsAttr(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) refuse(n, 'dilations must be 1');
  if (n.outputs.length > 1 && n.outputs[1] !== '') refuse(n, 'the Indices output is not mapped');
  const nodes = [n];
  let order = 0;
  let out = n.outputs[0]!;
  const t = s.only(out);
  const perm = t && t.opType === 'Transpose' ? intsAttr(t, 'perm')?.join(',') : undefined;
  if (t && (perm === '0,2,3,1' || perm === '0,3,2,1')) {
    order = perm === '0,3,2,1' ? 1 : 0;
    nodes.push(t);
    out = t.outputs[0]!;
  }
  const y: Mat = nodes.length > 1 ? s.newMat(t!, out) : { ...paddedMat(out, Ho * Wo, C), chw: true };
  s.mats.set(out, y);
  const geom = [
    H,
    W,
    Ho,
    Wo,
    kh!,
    kw!,
    sh!,
    sw!,
    pads[0]!,
    pads[1]!,
    order,
    s.unsignedOf(n.inputs[0]!) ? 1 : 0,
    x.cols / 64,
    Ho * Wo,
  ];
  return covering(nodes, s, { kind: 'pool', x, y, geom });
}

/** `MatMul` of two activations + `RequantShift`: Deeploy's int32 arithmetic on the cores. */
function actMatmul(n: GraphNode, s: MapState): Recognised {
  const bName = n.inputs[1]!;
  const aShape = s.shapeOf(n, n.inputs[0]!);
  const bShape = s.shapeOf(n, bName);
  if (bigAxes(aShape.slice(0, -2)).length > 0 || bigAxes(bShape.slice(0, -2)).length > 0)
    refuse(
      n,
      'only one matrix product (every batch axis of size 1) is mapped: heads as a batch axis are mapped when the graph splits them off an S x (H d) activation by Reshape + Transpose',
    );
  const K = aShape[aShape.length - 1]!;
  const N = bShape[bShape.length - 1]!;
  // B^T as a matrix of its own: the input of the transpose that made B, else B read column-wise
  const bt = s.transposeOf.get(bName);
  const bMat = bt ?? s.matOf(n, bName, 'B', true);
  // A's padded columns meet B's padded inner rows (B^T's columns): exact when either holds zeros
  const aZero = s.zeroPad.has(s.mats.get(n.inputs[0]!)?.name ?? '');
  const x = s.matOf(n, n.inputs[0]!, 'A', aZero || s.zeroPad.has(bMat.name));
  const rqNode = s.only(n.outputs[0]!);
  if (!rqNode || rqNode.opType !== 'RequantShift')
    refuse(
      n,
      'a product of two activations must feed exactly one RequantShift (the tiler holds 8-bit activations)',
    );
  const p: Product = { n, x, K, N, wT: new Int32Array(0), alpha: 1 };
  const r = dgemm(s, p, undefined, rqNode, [n, rqNode], 'two activations');
  const op = r.ops[0]!;
  if (op.kind !== 'dgemm') throw new Error('actMatmul: dgemm expected');
  op.wT = new Int32Array(0);
  op.bMat = bMat;
  op.bDirect = !bt;
  op.aUnsigned = s.unsignedOf(n.inputs[0]!);
  const ita = itaProduct(s, x, K, rqNode, op);
  if (typeof ita === 'string') op.notIta = `two activations, ${ita}`;
  else {
    op.itaRq = ita.rq;
    op.itaBiasAdd = ita.biasAdd;
  }
  return r;
}

/**
 * ITA's requantiser when ITA's linear computes this product of two activations exactly: A holds
 * int8 values (signed, or uint8 that never exceed 127), a scalar requantiser in ITA's form, no sum
 * beyond 26 bits nor a product beyond Deeploy's int32; otherwise undefined.
 */
function itaProduct(
  s: MapState,
  x: Mat,
  K: number,
  rqNode: GraphNode,
  op: Extract<TilerOp, { kind: 'dgemm' }>,
): { rq: Requant; biasAdd: number } | string {
  if (op.aUnsigned && !s.below128.has(x.name)) return 'A holds uint8 values that may exceed 127';
  if (op.perRow) return 'a requantiser per row: ITA has one per job';
  if (op.unsigned) return 'an unsigned output: ITA writes int8';
  let f: { rq: Requant; biasAdd: number };
  try {
    f = itaRequant(rqNode, s.T);
  } catch (e) {
    if (e instanceof InputError) return e.message.replace(/^node [^:]*: /, `${rqNode.opType}: `);
    throw e;
  }
  return itaSumRange(K, 0, f.biasAdd) ?? productWraps(s, rqNode, K * 128 * 128) ?? f;
}

/** `MatMul`: a linear layer when B is a constant, a product of two activations otherwise. */
function matmul(n: GraphNode, s: MapState): Recognised {
  return s.isConst(n.inputs[1]!) ? matmulLinear(n, s) : actMatmul(n, s);
}

/** Ops that map an 8-bit value to another value one element at a time, with scalar constants. */
const ELEMENTWISE = new Set(['RequantShift', 'iGELU', 'iHardswish']);

/**
 * A chain of element-wise ops of one 8-bit input (`RequantShift`, `iGELU` + `RequantShift`) as a
 * table of its 256 results, computed by the executor's own op definitions.
 */
function elementwise(n: GraphNode, s: MapState): Recognised {
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  const nodes = [n];
  while (nodes[nodes.length - 1]!.opType !== 'RequantShift') {
    const next = s.only(nodes[nodes.length - 1]!.outputs[0]!);
    if (!next || !ELEMENTWISE.has(next.opType))
      refuse(n, `${n.opType} must be followed by a RequantShift (the tiler holds 8-bit activations)`);
    nodes.push(next);
  }
  const uns = s.unsignedOf(n.inputs[0]!);
  let cur: Tensor = {
    shape: [256],
    data: Float64Array.from({ length: 256 }, (_, u) => (uns ? u : (u << 24) >> 24)),
    signed: !uns,
  };
  for (const m of nodes) {
    const consts = m.inputs.slice(1).map((i) => {
      const t = s.constOf(m, i, 'constant');
      if (t.data.length !== 1)
        refuse(m, `constant ${i} must hold one value (element-wise table), got ${t.data.length}`);
      return { shape: [], data: t.data, signed: t.signed };
    });
    cur = OPS[m.opType]!.run(new OpContext(m, [cur, ...consts], { softmax: 'deeploy' }))[0]!;
  }
  const last = nodes[nodes.length - 1]!;
  const levels = intAttr(last, 'n_levels', 0) || intAttr(last, 'n_levels_out', 256);
  if (levels !== 256) refuse(last, `n_levels must be 256 (8-bit output), got ${levels}`);
  const table = Uint8Array.from(cur.data, (v) => v & 0xff);
  const y = s.newMat(last, last.outputs[0]!);
  // the kernel maps every byte of the blocks, padding included: zeros stay zeros when 0 -> 0
  if (s.zeroPad.has(x.name) && table[0] === 0) s.zeroPad.add(y.name);
  return covering(nodes, s, { kind: 'lut', x, y, table });
}

/** Deeploy's `ITAPartialMax` over the rows of a signed int8 matrix, on the cores. */
function partialMax(n: GraphNode, s: MapState): Recognised {
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  if (s.unsignedOf(n.inputs[0]!)) refuse(n, 'the input must be signed int8');
  if (intAttr(n, 'n_levels', 256) !== 256) refuse(n, 'n_levels must be 256');
  const group = intAttr(n, 'group_width', 16);
  const cols = validOf(x).cols;
  if (group < 1 || cols % group !== 0) refuse(n, `group_width ${group} must divide the row length ${cols}`);
  return single(n, s, {
    kind: 'pmax',
    x,
    y: pmaxOut(n, s),
    group,
    full: false,
  });
}

/**
 * Deeploy's `ITAMax` over the rows of a signed int8 matrix, on the cores: the ITAPartialMax kernel
 * with one group over the row and 255 x 256 / sum as the inverse (its output spans uint8).
 */
function itaMaxNode(n: GraphNode, s: MapState): Recognised {
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  if (s.unsignedOf(n.inputs[0]!)) refuse(n, 'the input must be signed int8');
  if (intAttr(n, 'n_levels', 256) !== 256) refuse(n, 'n_levels must be 256');
  const cols = validOf(x).cols;
  return single(n, s, {
    kind: 'pmax',
    x,
    y: s.newMat(n, n.outputs[0]!),
    group: cols,
    full: true,
  });
}

/** The output of an ITAPartialMax: its values stay below 128 (the sum counts 256 for the maximum). */
function pmaxOut(n: GraphNode, s: MapState): Mat {
  const y = s.newMat(n, n.outputs[0]!);
  s.below128.add(y.name);
  return y;
}

/** `IntegerMean` / `ReduceMean` over the rows of a matrix (a power-of-two count, no keepdims). */
function colMean(n: GraphNode, s: MapState): Recognised {
  const x = s.matOf(n, n.inputs[0]!, 'data');
  const shape = s.shapeOf(n, n.inputs[0]!);
  const axes = (intsAttr(n, 'axes') ?? []).map((a) => (a < 0 ? a + shape.length : a));
  const big = bigAxes(shape.slice(0, -1));
  if (axes.length !== 1 || big.length !== 1 || axes[0] !== big[0])
    refuse(
      n,
      `only the mean over the rows of a matrix is mapped (axes [${axes.join(',')}] of [${shape.join('x')}])`,
    );
  if (intAttr(n, 'keepdims', 1) !== 0) refuse(n, 'keepdims must be 0 (Deeploy then rounds by a shift)');
  const count = validOf(x).rows;
  if (count > 64 || !Number.isInteger(Math.log2(count)))
    refuse(n, `the mean over ${count} rows: a power of two up to 64 is mapped`);
  return single(n, s, {
    kind: 'colmean',
    x,
    y: s.newMat(n, n.outputs[0]!),
    count,
    unsigned: s.unsignedOf(n.inputs[0]!),
  });
}

/** The inputs (by position) that each op's mapping reads as uint8 when the tensor is unsigned. */
const UNSIGNED_READERS: Readonly<Record<string, readonly number[]>> = {
  MatMul: [0],
  Gemm: [0],
  Add: [0, 1],
  iLayerNorm: [0],
  RequantShift: [0],
  iGELU: [0],
  IntegerMean: [0],
  ReduceMean: [0],
  Mul: [0, 1],
  iHardswish: [0],
  Slice: [0],
};

/** The recogniser of each op that can start a pattern. */
export const RECOGNISERS: Readonly<Record<string, Recogniser>> = {
  ...Object.fromEntries([...LAYOUT_OPS].map((op) => [op, layoutOrTranspose])),
  Gather: gatherAlias,
  Slice: slice,
  Concat: concat,
  MHSA: attention,
  MatMul: matmul,
  Conv: conv,
  MaxPool: maxPool,
  RequantShift: elementwise,
  iGELU: elementwise,
  ITAPartialMax: partialMax,
  ITAMax: itaMaxNode,
  IntegerMean: colMean,
  ReduceMean: colMean,
  Gemm: gemmLinear,
  Add: residualAdd,
  iLayerNorm: norm,
  iNoNorm: norm,
  iSoftmax: isoftmax,
  iHardswish: elementwise,
  iRMSNorm: rmsNorm,
  Mul: mulRequant,
};

/** `iRMSNorm` over the last axis: one weight per column (or one value). */
function rmsNorm(n: GraphNode, s: MapState): Recognised {
  const x = s.matOf(n, n.inputs[0]!, 'data', true);
  if (s.unsignedOf(n.inputs[0]!)) refuse(n, 'the input must be signed int8');
  if (intAttr(n, 'n_levels', 256) !== 256) refuse(n, 'n_levels must be 256');
  if (intAttr(n, 'stash_type', 1) !== 1) refuse(n, 'only stash_type 1 is supported');
  const cols = validOf(x).cols;
  const t = s.constOf(n, n.inputs[1] ?? '', 'weight');
  if (t.data.length !== cols && t.data.length !== 1)
    refuse(n, `weight must hold 1 or ${cols} values (one per column), got ${t.data.length}`);
  const w = new Int32Array(x.cols);
  for (let c = 0; c < cols; c++) w[c] = t.data[t.data.length === 1 ? 0 : c]!;
  return single(n, s, {
    kind: 'rmsnorm',
    x,
    y: s.newMat(n, n.outputs[0]!),
    w,
    log2d: log2Attr(n, 'D'),
  });
}

/** `Mul` of two 8-bit activations of one shape + `RequantShift` with scalar constants. */
function mulRequant(n: GraphNode, s: MapState): Recognised {
  const a = s.matOf(n, n.inputs[0]!, 'A', true);
  const b = s.matOf(n, n.inputs[1]!, 'B', true);
  const [sa, sb] = [s.shapeOf(n, n.inputs[0]!), s.shapeOf(n, n.inputs[1]!)];
  if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i]))
    refuse(n, `both inputs must have one shape, got [${sa.join('x')}] and [${sb.join('x')}]`);
  const rq = s.only(n.outputs[0]!);
  if (!rq || rq.opType !== 'RequantShift') refuse(n, 'a Mul must feed exactly one RequantShift');
  const mulT = s.constOf(rq, rq.inputs[1] ?? '', 'mul');
  const addT = s.constOf(rq, rq.inputs[2] ?? '', 'add');
  const levels = intAttr(rq, 'n_levels', 0) || intAttr(rq, 'n_levels_out', 256);
  if (levels !== 256) refuse(rq, `n_levels must be 256 (8-bit output), got ${levels}`);
  return {
    covers: [n, rq],
    ops: [
      {
        kind: 'mul',
        nodes: [n.name, rq.name],
        layer: s.layerOf([n, rq]),
        macs: validOf(a).rows * validOf(a).cols,
        a,
        b,
        y: s.newMat(rq, rq.outputs[0]!),
        mul: uniform(rq, mulT, 'mul'),
        add: uniform(rq, addT, 'add'),
        shift: log2Attr(rq, 'div'),
        aUnsigned: s.unsignedOf(n.inputs[0]!),
        bUnsigned: s.unsignedOf(n.inputs[1]!),
        unsigned: intAttr(rq, 'signed', 1) === 0,
      },
    ],
  };
}

/**
 * Maps `graph` (lowered, as runGraph runs it) given every tensor of a run of the executor
 * (`tensors`: shapes and constant values).
 */
export function mapGraph(graph: Graph, tensors: Map<string, Tensor>, opts: MapOptions): MappedGraph {
  const s = new MapState(graph, tensors, opts);
  const inputs: Mat[] = [];
  const ops: TilerOp[] = [];
  const done = new Set<GraphNode>();
  const aliases: string[] = [];

  for (const vi of graph.inputs) {
    const t = tensors.get(vi.name);
    if (!t) throw new InputError(`graph input ${vi.name} has no value`);
    const cols = t.shape[t.shape.length - 1] ?? 0;
    const rows = t.data.length / (cols || 1);
    // a graph input the tiler cannot hold is refused by the first node that reads it
    if (cols === 0 || rows === 0) {
      s.unusable.set(vi.name, `graph input ${vi.name} [${t.shape.join('x')}] is empty`);
      continue;
    }
    const uns = t.signed === false;
    const bad = t.data.find((v) => v < (uns ? 0 : -128) || v > (uns ? 255 : 127));
    if (bad !== undefined) {
      s.unusable.set(vi.name, `graph input ${vi.name} holds ${bad}, outside int8 and uint8`);
      continue;
    }
    if (uns) {
      let max = 0;
      for (const v of t.data) if (v > max) max = v;
      if (max <= 127) s.below128.add(vi.name);
      else {
        const reader = (s.consumers.get(vi.name) ?? []).find(
          (c) => !UNSIGNED_READERS[c.opType]?.includes(c.inputs.indexOf(vi.name)),
        );
        if (reader) {
          s.unusable.set(
            vi.name,
            `graph input ${vi.name} holds uint8 values up to ${max}; ${reader.name} (${reader.opType}) is mapped for int8 inputs only`,
          );
          continue;
        }
      }
    }
    const m = paddedMat(vi.name, rows, cols);
    s.mats.set(vi.name, m);
    // the host writes a graph input with zeros in its padding
    s.zeroPad.add(vi.name);
    inputs.push(m);
  }

  const order = topoSort(graph, new Set([...graph.initializers.keys(), ...graph.inputs.map((i) => i.name)]));
  for (const n of order) {
    if (done.has(n) || CONST_OPS.has(n.opType)) continue;
    if (n.inputs.every((i) => i === '' || s.isConst(i)))
      refuse(n, 'a node of constants only (fold it before tiling)');
    const recognise = RECOGNISERS[n.opType];
    if (!recognise)
      refuse(
        n,
        `op ${n.opType} has no tiler mapping (the ops that start a mapping: ${Object.keys(RECOGNISERS).join(', ')})`,
      );
    const r = recognise(n, s);
    // nothing covered: the node joins a pattern a later node maps (a chain of Adds)
    if (r.covers.length === 0) continue;
    r.covers.forEach((x) => done.add(x));
    ops.push(...r.ops);
    if (r.ops.length === 0) aliases.push(n.name);
  }
  return { ops, mats: s.mats, inputs, aliases, readAsBT: s.readAsBT };
}
