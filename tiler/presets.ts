/**
 * Encoder presets (MobileBERT, DINOv2 ViT-S/14, Whisper-tiny encoder) as integer graphs with
 * synthetic, seeded int8 weights, and the loader for a network.onnx. Both give an `EncoderModel`:
 * the graph, its inputs, the output tensor and the nodes of every layer.
 *
 * Op types the presets use (each one the functional executor runs, `onnx/executor.ts` OPS):
 *   MHSA + ReduceSum (axis 1, the head sum) + RequantShift   attention, q = k = v, P = 64, H <= 8
 *   MatMul + Add (constant bias) + RequantShift [+ Relu | ITAGELU]   linear layers
 *   Add (two activations) + RequantShift                     residual connections
 *   iLayerNorm (DINOv2, Whisper), iNoNorm (MobileBERT)
 * Every matrix is S x C with S and C multiples of 64 (batch 1, graph tensors [1, S, C]).
 *
 * Constants are chosen so that each linear is exactly an ITA linear: RequantShift scalar mul at
 * most 63 (<= 255 for ITA; below 64 so that the executor's int32 product cannot wrap for any 26-bit
 * accumulator), div = 2^shift, add = a * div with a in -4..4 (ITA adds a after the shift);
 * biases far inside 24 bits; K * 128 * 128 + |bias| < 2^25 (no wrap of ITA's 26-bit
 * accumulator). ITAGELU is ITA's GELU + activation requantiser (`onnx/ops/ita.ts`), Relu is ITA's
 * ReLU with an identity activation requantiser. MHSA requantisers are in ITA's form already.
 *
 * Scales: every requantiser that follows a sum (linear, head sum, residual add) is calibrated on
 * the first 64 rows of the input, run through the graph while it is built (the executor's own op
 * definitions), so that its output has a standard deviation of about 28 (1/4 of the int8 range);
 * the MHSA's inner requantisers come from the expected spreads (sqrt(K) * std(w) * rms(x)).
 * iNoNorm constants are chosen so that no int8 input can wrap (|gain| <= 7/8, |bias| <= 5);
 * iLayerNorm's gain is about 24 per unit of normalised input.
 *
 * DINOv2 / Whisper FFN: ITA's inner dimension stops at 960, so 384 -> 1536 -> 384 is built as two
 * halves of 768 hidden units (first linear split by output columns, exact; the two 768 -> 384
 * second linears are added by Add + RequantShift).
 *
 * Seeds: a preset with the same (name, seq, layers, seed) is the same graph and inputs, byte for
 * byte; the first k layers of a model do not depend on the total number of layers.
 */
import { InputError, checkInt } from '../rtl-model/errors.ts';
import { GELU_CONST_WIDTH } from '../rtl-model/ref/gelu.ts';
import { OPS, bindInputs, checkSupported, topoSort } from '../onnx/executor.ts';
import { OpContext } from '../onnx/ops/context.ts';
import type { Attr, Graph, GraphNode } from '../onnx/model.ts';
import { loadModel } from '../onnx/model.ts';
import { splitHeads } from '../onnx/heads.ts';
import { readNpz } from '../onnx/npz.ts';
import type { Tensor, TensorData } from '../onnx/tensor.ts';
import { compactData } from '../onnx/tensor.ts';

export interface EncoderModel {
  name: string;
  graph: Graph;
  inputs: Map<string, Tensor>;
  /** Output tensor of each layer (graph tensor names), in order. */
  layerOutputs: string[];
  /** Nodes of each layer (for per-layer accounting). */
  layerNodes: string[][];
  /** Dims, sequence length, what was padded and why. */
  description: string;
}

export const PRESETS = ['mobilebert', 'dinov2', 'whisper'] as const;
export type PresetName = (typeof PRESETS)[number];

export interface PresetOptions {
  seq?: number;
  layers?: number;
  seed?: number;
}

/** The largest sequence length ITA takes (S is a multiple of 64 up to 960, as the tiler maps it). */
export const MAX_SEQ = 960;

/** The largest inner dimension of an ITA linear (15 tiles of 64). */
export const MAX_INNER = 960;

/** Dimensions and defaults of each preset. */
export const PRESET_DIMS: Readonly<
  Record<PresetName, { layers: number; seq: number; embed: number; heads: number; ffn: number }>
> = {
  mobilebert: { layers: 24, seq: 128, embed: 512, heads: 4, ffn: 512 },
  dinov2: { layers: 12, seq: 192, embed: 384, heads: 6, ffn: 1536 },
  whisper: { layers: 4, seq: 192, embed: 384, heads: 6, ffn: 1536 },
};

// ---------------------------------------------------------------------------------------------
// seeded numbers

/** xorshift32, seeded from a string (preset name, layer, role) and the user's seed. */
class Rng {
  private s: number;
  constructor(seed: number, salt: string) {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193) >>> 0;
    this.s = h || 0x9e3779b9;
    for (let i = 0; i < 4; i++) this.next();
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
}

/** Standard deviation of a uniform integer in [-127, 127]. */
const W_STD = Math.sqrt((255 * 255 - 1) / 12);

/** Aimed standard deviation of every int8 activation. */
const TARGET = 28;

/** Rows of the input that calibrate the requantisers (every requantiser after a sum of terms). */
const PROBE_ROWS = 64;

/**
 * RequantShift constants for an accumulator of standard deviation `accStd` to come out with
 * `target`: mul in 32..63, shift = log2(div).
 */
export function requantFor(accStd: number, target = TARGET): { mul: number; shift: number } {
  const gain = target / accStd;
  let shift = Math.floor(Math.log2(63 / gain));
  shift = Math.max(0, Math.min(30, shift));
  let mul = Math.round(gain * 2 ** shift);
  if (mul > 63) {
    shift -= 1;
    mul = Math.round(gain * 2 ** shift);
  }
  mul = Math.max(1, Math.min(63, mul));
  return { mul, shift };
}

// ---------------------------------------------------------------------------------------------
// graph building

const I = (value: number): Attr => ({ kind: 'int', value });
const Is = (value: number[]): Attr => ({ kind: 'ints', value });

function tensor(shape: number[], data: TensorData): Tensor {
  let signed = false;
  for (const v of data)
    if (v < 0) {
      signed = true;
      break;
    }
  return { shape, data, signed };
}

/** Builds the graph of one preset: constants become initialisers, nodes are named in order. */
class Builder {
  readonly nodes: GraphNode[] = [];
  readonly init = new Map<string, Tensor>();
  readonly layerNodes: string[][] = [];
  /** Values of every tensor for the first 64 rows of the input (calibration of the requantisers). */
  private readonly probe = new Map<string, Tensor>();
  private count = 0;
  /** Generator of the current layer (weights of layer l depend on (seed, preset, l) only). */
  rng: Rng;

  constructor(
    readonly preset: string,
    readonly seed: number,
    readonly S: number,
    readonly E: number,
  ) {
    this.rng = new Rng(seed, `${preset}/input`);
    const r = new Rng(seed, `${preset}/input`);
    const data = new Float64Array(S * E);
    for (let i = 0; i < data.length; i++) data[i] = r.int(-48, 48);
    this.input = tensor([1, S, E], data);
    this.probe.set('x', tensor([1, PROBE_ROWS, E], data.slice(0, PROBE_ROWS * E)));
  }

  readonly input: Tensor;

  /** Standard deviation of a tensor's probe values. */
  spread(name: string): number {
    const t = this.probe.get(name)!;
    let s = 0;
    let s2 = 0;
    for (const v of t.data) {
      s += v;
      s2 += v * v;
    }
    const n = t.data.length;
    return Math.sqrt(Math.max(1e-9, s2 / n - (s / n) ** 2));
  }

  /**
   * Starts layer `l`, whose input is `x`: a layer reads nothing of the earlier layers but its input,
   * so the probe values of the earlier layers are dropped (the calibration holds one layer's).
   */
  layer(l: number, x: string): void {
    const input = this.probe.get(x)!;
    this.probe.clear();
    this.probe.set(x, input);
    this.layerNodes.push([]);
    this.rng = new Rng(this.seed, `${this.preset}/layer${l}`);
  }

  private id(prefix: string): string {
    return `l${this.layerNodes.length - 1}_${prefix}_${this.count++}`;
  }

  /** An initialiser, its values held in the smallest array that holds them (int8 weights: a byte each). */
  constant(prefix: string, shape: number[], data: Float64Array): string {
    const name = this.id(prefix);
    const t = tensor(shape, compactData(data));
    this.init.set(name, t);
    this.probe.set(name, t);
    return name;
  }

  /** Uniform int8 values in [lo, hi], or given by `f(index)`. */
  random(prefix: string, shape: number[], lo: number, hi: number): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = this.rng.int(lo, hi);
    return this.constant(prefix, shape, d);
  }

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    const name = this.id(op);
    const out = `${name}_out`;
    const node: GraphNode = {
      name,
      opType: op,
      domain: '',
      inputs,
      outputs: [out],
      attrs: new Map(Object.entries(attrs)),
    };
    this.nodes.push(node);
    this.layerNodes[this.layerNodes.length - 1]!.push(name);
    const ins = inputs.map((i) => this.probe.get(i));
    this.probe.set(out, OPS[op]!.run(new OpContext(node, ins, { softmax: 'rtl' }))[0]!);
    return out;
  }

  /** Deeploy RequantShift with scalar mul and add (add given after the shift, as ITA adds it). */
  requant(x: string, mul: number, shift: number, addAfterShift: number): string {
    return this.node(
      'RequantShift',
      [
        x,
        this.constant('mul', [1], Float64Array.of(mul)),
        this.constant('add', [1], Float64Array.of(addAfterShift * 2 ** shift)),
      ],
      { div: I(2 ** shift), n_levels: I(256), signed: I(1) },
    );
  }

  /**
   * ITA's linear layer: MatMul (K x N int8 weights) + Add (bias) + RequantShift aimed at the
   * target spread for an input of rms `rmsIn`, then the activation.
   */
  linear(
    x: string,
    K: number,
    N: number,
    rmsIn: number,
    act: 'identity' | 'relu' | 'gelu' = 'identity',
  ): string {
    const accStd = Math.sqrt(K) * W_STD * rmsIn;
    const bmax = Math.round(accStd / 2);
    const mm = this.node('MatMul', [x, this.random('w', [K, N], -127, 127)]);
    const b = this.node('Add', [mm, this.random('b', [N], -bmax, bmax)]);
    const { mul, shift } = requantFor(this.spread(b));
    const y = this.requant(b, mul, shift, this.rng.int(-4, 4));
    if (act === 'relu') return this.node('Relu', [y]);
    if (act === 'gelu') return this.node('ITAGELU', [y], geluAttrs());
    return y;
  }

  /**
   * Fused attention (MHSA, q = k = v = x) with H heads of `realP` columns padded to P = 64
   * (padding: zero weights and biases, zero q/k/v requant add, so the padded columns are exactly
   * zero and add nothing to QK or to the output projection), then the head sum.
   */
  attention(x: string, E: number, H: number, realP: number, rmsIn: number): string {
    const P = 64;
    const r = this.rng;
    const padded = realP < P;
    const proj = (rows: number, cols: number, live: (i: number, j: number) => boolean): Float64Array => {
      const d = new Float64Array(H * rows * cols);
      for (let h = 0; h < H; h++)
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++) if (live(i, j)) d[(h * rows + i) * cols + j] = r.int(-127, 127);
      return d;
    };
    const bias = (n: number, bmax: number, live: (j: number) => boolean): Float64Array => {
      const d = new Float64Array(H * n);
      for (let h = 0; h < H; h++) for (let j = 0; j < n; j++) if (live(j)) d[h * n + j] = r.int(-bmax, bmax);
      return d;
    };
    const liveCol = (j: number): boolean => j < realP;
    const inStd = Math.sqrt(E) * W_STD * rmsIn;
    const ws: string[] = [];
    for (const role of ['wq', 'wk', 'wv']) {
      ws.push(
        this.constant(
          role,
          [H, E, P],
          proj(E, P, (_i, j) => liveCol(j)),
        ),
      );
      ws.push(this.constant(`b${role[1]}`, [H, P], bias(P, Math.round(inStd / 2), liveCol)));
    }
    // QK: realP products of two ~TARGET values; logits aimed at a spread of 16
    const qkStd = Math.sqrt(realP) * TARGET * TARGET;
    // AV: softmax rows sum to about 255; the average of V is brought back to the target
    const avStd = 255 * TARGET * 0.5;
    const owStd = Math.sqrt(realP) * W_STD * TARGET * 1.6;
    const wo = this.constant(
      'wo',
      [H, P, E],
      proj(P, E, (i) => liveCol(i)),
    );
    const bo = this.constant(
      'bo',
      [H, E],
      bias(E, Math.round(owStd / 2), () => true),
    );
    const step = (name: string, accStd: number, target: number, adds: boolean): Record<string, Attr> => {
      const { mul, shift } = requantFor(accStd, target);
      const m: number[] = [];
      const d: number[] = [];
      const a: number[] = [];
      for (let h = 0; h < H; h++) {
        m.push(Math.min(255, mul + r.int(0, 3)));
        d.push(2 ** shift);
        a.push(adds ? r.int(-3, 3) : 0);
      }
      return {
        [`${name}_requant_mul`]: Is(m),
        [`${name}_requant_div`]: Is(d),
        [`${name}_requant_add`]: Is(a),
      };
    };
    const mhsa = this.node('MHSA', [x, x, x, ...ws, wo, bo], {
      heads: I(H),
      dim_head: I(P),
      n_levels: I(256),
      signed: I(1),
      ...step('wq', inStd * 1.04, TARGET, !padded),
      ...step('wk', inStd * 1.04, TARGET, !padded),
      ...step('wv', inStd * 1.04, TARGET, !padded),
      ...step('preattn', qkStd, 16, true),
      ...step('postattn', avStd, TARGET, true),
      ...step('wo', owStd * 1.04, TARGET, true),
    });
    const sum = this.node('ReduceSum', [mhsa], { axes: Is([1]), keepdims: I(0) });
    const hs = requantFor(this.spread(sum));
    return this.requant(sum, hs.mul, hs.shift, 0);
  }

  /** Residual connection: Add + RequantShift bringing the sum back to the target spread. */
  residual(a: string, b: string): string {
    const sum = this.node('Add', [a, b]);
    const { mul, shift } = requantFor(this.spread(sum));
    return this.requant(sum, mul, shift, 0);
  }

  /** iLayerNorm over E columns, gain ~24 per unit of normalised input, small bias. */
  layerNorm(x: string, E: number): string {
    const w = new Float64Array(E);
    const b = new Float64Array(E);
    for (let j = 0; j < E; j++) {
      w[j] = this.rng.int(320, 448);
      b[j] = this.rng.int(-64, 64);
    }
    return this.node('iLayerNorm', [x, this.constant('ln_w', [E], w), this.constant('ln_b', [E], b)], {
      D: I(16),
      n_levels: I(256),
    });
  }

  /** iNoNorm over E columns: gain 6/8 or 7/8 per column, bias up to 5; never wraps for int8 input. */
  noNorm(x: string, E: number): string {
    const w = new Float64Array(E);
    const b = new Float64Array(E);
    for (let j = 0; j < E; j++) {
      w[j] = this.rng.int(6, 7);
      b[j] = this.rng.int(-40, 40);
    }
    return this.node('iNoNorm', [x, this.constant('nn_w', [E], w), this.constant('nn_b', [E], b)], {
      D: I(8),
      mul: I(1),
      n_levels: I(256),
    });
  }

  /** The model: graph input `x` [1, S, E] filled with uniform int8 values in [-48, 48]. */
  finish(name: string, E: number, layerOutputs: string[], description: string): EncoderModel {
    const graph: Graph = {
      name,
      nodes: this.nodes,
      initializers: this.init,
      inputs: [{ name: 'x', elemType: 3, shape: [1, this.S, E] }],
      outputs: [{ name: layerOutputs[layerOutputs.length - 1]!, elemType: 3, shape: [1, this.S, E] }],
      valueInfo: new Map(),
      opsets: new Map([['', 13]]),
    };
    return {
      name,
      graph,
      inputs: new Map([['x', this.input]]),
      layerOutputs,
      layerNodes: this.layerNodes,
      description,
    };
  }
}

/**
 * ITA GELU constants for an int8 input of scale 1/32 (a spread of 32 = 1.0), derived as I-BERT /
 * PyITA do (a = -0.2888, b = -1.769, S/sqrt(2)); the output scale is -1/32: ITA's integer GELU
 * comes out negated (c < 0), which the next layer's sign-symmetric weights do not mind.
 */
export function geluConstants(): { b: number; c: number; mult: number; shift: number; add: number } {
  const S2 = 1 / 32 / Math.SQRT2;
  const a = -0.2888;
  const b = Math.round(-1.769 / S2);
  const c = Math.round(1 / (a * S2 * S2));
  const shift = 20;
  const mult = Math.round(((-a * S2 * S2) / 2) * 2 ** shift);
  if (c < -(2 ** (GELU_CONST_WIDTH - 1))) throw new Error('GELU constant c does not fit 16 bits');
  return { b, c, mult, shift, add: 0 };
}

function geluAttrs(): Record<string, Attr> {
  const g = geluConstants();
  return { b: I(g.b), c: I(g.c), mult: I(g.mult), shift: I(g.shift), add: I(g.add) };
}

// ---------------------------------------------------------------------------------------------
// presets

/** rms of the int8 value at each kind of source (what the next linear's requantiser assumes). */
const RMS = { input: 28, norm: 24, relu: 20, gelu: 18 };

function mobileBert(b: Builder, layers: number, S: number): EncoderModel {
  const E = 512;
  const B = 128;
  const H = 4;
  const outs: string[] = [];
  let x = 'x';
  for (let l = 0; l < layers; l++) {
    b.layer(l, x);
    // bottlenecks: the layer input (residual of the attention block) and the shared q/k/v input
    const inner = b.noNorm(b.linear(x, E, B, RMS.input), B);
    const qkv = b.noNorm(b.linear(x, E, B, RMS.input), B);
    const att = b.attention(qkv, B, H, 32, RMS.norm);
    let h = b.noNorm(b.residual(att, inner), B);
    // four stacked feed-forward networks
    for (let f = 0; f < 4; f++) {
      const ff = b.linear(b.linear(h, B, 512, RMS.norm, 'relu'), 512, B, RMS.relu);
      h = b.noNorm(b.residual(h, ff), B);
    }
    // output bottleneck back to 512 + the layer's input
    const up = b.linear(h, B, E, RMS.norm);
    x = b.noNorm(b.residual(up, x), E);
    outs.push(x);
  }
  return b.finish(
    'mobilebert',
    E,
    outs,
    `MobileBERT encoder: ${layers} layers, S=${S}, hidden 512 with 128-wide bottlenecks (two 512->128 ` +
      `input bottlenecks, one 128->512 output bottleneck), 4 heads of 32 padded to ITA's 64 (zero ` +
      `weights, zero bias, zero q/k/v requant add: exact), 4 stacked FFNs 128->512->128 with ReLU, ` +
      `iNoNorm in place of LayerNorm, residual Add + RequantShift. q, k and v all come from the shared ` +
      `128-wide bottleneck (ITA computes V from its k input; MobileBERT takes v from the 512-wide ` +
      `input). No embedding layer: the input is the 512-wide embedded sequence. Default S=128.`,
  );
}

function vitLike(
  b: Builder,
  name: 'dinov2' | 'whisper',
  layers: number,
  S: number,
  total: number,
): EncoderModel {
  const { embed: E, heads: H, ffn: F } = PRESET_DIMS[name];
  const outs: string[] = [];
  let x = 'x';
  for (let l = 0; l < layers; l++) {
    b.layer(l, x);
    // pre-norm block: x + attn(LN(x)), then h + FFN(LN(h))
    const att = b.attention(b.layerNorm(x, E), E, H, 64, RMS.norm);
    const h = b.residual(x, att);
    const n2 = b.layerNorm(h, E);
    let ff: string;
    if (F <= MAX_INNER) ff = b.linear(b.linear(n2, E, F, RMS.norm, 'gelu'), F, E, RMS.gelu);
    else {
      // ITA's inner dimension stops at 960: the FFN runs as two halves of F / 2 hidden units
      // (the first linear split by output columns, the second as two F / 2 -> E linears whose
      // int8 results are added)
      const half = F / 2;
      const parts = [0, 1].map((_) => b.linear(b.linear(n2, E, half, RMS.norm, 'gelu'), half, E, RMS.gelu));
      ff = b.residual(parts[0]!, parts[1]!);
    }
    x = b.residual(h, ff);
    // the encoder's final LayerNorm closes the last layer
    if (l === total - 1) x = b.layerNorm(x, E);
    outs.push(x);
  }
  const what =
    name === 'dinov2'
      ? `DINOv2 ViT-S/14 encoder: ${layers} of 12 layers, S=${S} tokens (default 192; a 224 x 224 ` +
        `image gives 16 x 16 = 256 patches, but at S = 256 one head's Q, K and V^T with Wv and a ` +
        `block of k exceed the tiler's L1, so the default is the largest multiple of 64 that fits; ` +
        `no patch embedding, the input is the embedded sequence)`
      : `Whisper-tiny encoder: ${layers} of 4 layers, S=${S} frames (default 192, the largest ` +
        `multiple of 64 whose attention fits the tiler's L1; Whisper's 1500 frames of 30 s audio ` +
        `are far beyond it; no convolution front end, the input is ` +
        `the embedded sequence)`;
  return b.finish(
    name,
    E,
    outs,
    `${what}, E=384, 6 heads of 64, FFN 384->1536->384 with ITA's GELU (ITAGELU) run as two halves ` +
      `of 768 hidden units (ITA's inner dimension stops at 960: the first linear is split by output ` +
      `columns, exact; the two 768->384 second linears are requantised to int8 and added by ` +
      `Add + RequantShift), pre-norm ` +
      `iLayerNorm, residual Add + RequantShift, final iLayerNorm after the last layer.`,
  );
}

function checkPreset(name: string): PresetName {
  if (!(PRESETS as readonly string[]).includes(name))
    throw new InputError(`preset must be one of ${PRESETS.join(', ')} (or a .onnx file), got ${name}`);
  return name as PresetName;
}

/** Builds a preset: `seq` (multiple of 64, 64..960), `layers` (1..the preset's), `seed`. */
export function buildPreset(name: string, opts: PresetOptions = {}): EncoderModel {
  const p = checkPreset(name);
  const dims = PRESET_DIMS[p];
  const S = opts.seq ?? dims.seq;
  if (!Number.isInteger(S) || S < 64 || S > MAX_SEQ || S % 64 !== 0)
    throw new InputError(`--seq must be a multiple of 64 from 64 to ${MAX_SEQ} (ITA's tiles), got ${S}`);
  const layers = checkInt('--layers', opts.layers ?? dims.layers, 1, dims.layers);
  const seed = checkInt('--seed', opts.seed ?? 1, 0, 2 ** 32 - 1);
  const b = new Builder(p, seed, S, dims.embed);
  return p === 'mobilebert' ? mobileBert(b, layers, S) : vitLike(b, p, layers, S, dims.layers);
}

// ---------------------------------------------------------------------------------------------
// ONNX models

/**
 * A network.onnx as an EncoderModel. Inputs come from `inputsNpz` (matched as `itasim onnx run`
 * matches them) or, without it, are seeded uniform int8 values in [-48, 48] of the declared shapes.
 *
 * Layers: a layer starts at each MHSA node together with the nodes just before it that only feed
 * it (a LayerNorm, layout ops: the chain from the previous layer's output into the attention);
 * everything before the first such start belongs to layer 0. A layer's output is the tensor of
 * the previous layer that the next layer's first node reads (for a pre-norm block: the residual
 * sum); the last layer's output is the graph's first output. A graph without MHSA is one layer.
 */
export function loadOnnxModel(path: string, inputsNpz?: string, seed = 1): EncoderModel {
  const loaded = loadModel(path);
  checkSupported(loaded);
  let inputs: Map<string, Tensor>;
  if (inputsNpz) inputs = bindInputs(loaded, readNpz(inputsNpz));
  else {
    inputs = new Map();
    for (const vi of loaded.inputs) {
      const shape = vi.shape;
      if (!shape || shape.some((d) => d === undefined))
        throw new InputError(`input ${vi.name} of ${path} has no fixed shape: give --inputs inputs.npz`);
      const r = new Rng(seed, `onnx/${vi.name}`);
      const n = (shape as number[]).reduce((a, c) => a * c, 1);
      const d = new Float64Array(n);
      for (let i = 0; i < n; i++) d[i] = r.int(-48, 48);
      inputs.set(vi.name, tensor(shape as number[], d));
    }
  }
  // heads held as a batch axis, written out head by head (matrices the tiler maps)
  const graph = splitHeads(loaded, inputs);
  const order = topoSort(graph, new Set([...graph.initializers.keys(), ...graph.inputs.map((i) => i.name)]));
  const consumers = new Map<string, GraphNode[]>();
  for (const n of order) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const producer = new Map<string, GraphNode>();
  for (const n of order) for (const o of n.outputs) producer.set(o, n);
  const isConst = (t: string): boolean => graph.initializers.has(t) || producer.get(t)?.opType === 'Constant';
  const index = new Map(order.map((n, i) => [n, i]));
  // start index of each layer
  const starts: number[] = [];
  for (const [i, n] of order.entries()) {
    if (n.opType !== 'MHSA') continue;
    let s = i;
    let head = n;
    let feed = n.inputs[0]!;
    for (;;) {
      const p = producer.get(feed);
      if (!p || p.opType === 'Constant') break;
      const users = p.outputs.flatMap((o) => consumers.get(o) ?? []);
      // only a node right before the chain that feeds nothing but the chain joins it
      if (index.get(p)! !== s - 1 || !users.every((u) => u === head)) break;
      const data = p.inputs.filter((t) => t !== '' && !isConst(t));
      if (data.length !== 1) break;
      s -= 1;
      head = p;
      feed = data[0]!;
    }
    starts.push(s);
  }
  if (starts.length === 0 || starts[0] !== 0) starts.unshift(0);
  if (starts.length > 1 && starts[0] === 0 && starts[1] === 0) starts.shift();
  const layerNodes: string[][] = starts.map((s, k) =>
    order.slice(s, starts[k + 1] ?? order.length).map((n) => n.name),
  );
  const layerOutputs: string[] = [];
  for (let k = 0; k < starts.length - 1; k++) {
    const first = order[starts[k + 1]!]!;
    const inLayer = new Set(layerNodes[k]);
    const from = first.inputs.find((t) => {
      const p = producer.get(t);
      return p !== undefined && inLayer.has(p.name);
    });
    if (!from)
      throw new InputError(
        `${path}: layer ${k + 1} (starting at node ${first.name}) does not read an output of layer ${k}`,
      );
    layerOutputs.push(from);
  }
  const last = graph.outputs[0];
  if (!last) throw new InputError(`${path} declares no graph output`);
  layerOutputs.push(last.name);
  const name = path.replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '');
  return {
    name,
    graph,
    inputs,
    layerOutputs,
    layerNodes,
    description:
      `${name}: ${order.length} nodes, ${layerNodes.length} layer(s) (a layer starts at each MHSA ` +
      `node with the nodes that only feed it); inputs ${inputsNpz ? `from ${inputsNpz}` : `seeded (seed ${seed})`}`,
  };
}
