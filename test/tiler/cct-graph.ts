/**
 * A small compact convolutional transformer with the ops of Deeploy's ICCT_ITA (see cct.test.ts),
 * written with onnx/writer.ts: x [1, 3, 16, 16] -> 64 tokens of 64 channels -> one attention
 * head, FFN 64 -> 128 -> 64, mean over the tokens, 10 classes.
 */
import { attr, type ConstSpec, type GraphSpec, type NodeSpec } from '../../onnx/writer.ts';

/** Deterministic values in lo..hi. */
export const vals = (n: number, lo: number, hi: number, seed: number): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((i * 7919 + seed * 104729 + ((i * i) % 613)) % (hi - lo + 1)));

const E = 64; // channels = embedding
const T = 64; // tokens (8 x 8)
const F = 128; // FFN

/** A RequantShift node (`signed` 1: int8 output, 0: uint8). */
export const rq = (
  name: string,
  x: string,
  y: string,
  mul: string,
  add: string,
  div: number,
  signed = 1,
): NodeSpec => ({
  op: 'RequantShift',
  name,
  inputs: [x, mul, add],
  outputs: [y],
  attrs: { div: attr.int(div), n_levels: attr.int(256), signed: attr.int(signed) },
});
/** Deeploy's ITAPartialMax (groups of 16) from `x` into `y`. */
export const partialMax = (name: string, x: string, y: string): NodeSpec => ({
  op: 'ITAPartialMax',
  name,
  inputs: [x],
  outputs: [y],
  attrs: { group_width: attr.int(16), n_levels: attr.int(256) },
});
export const mm = (name: string, a: string, b: string, y: string): NodeSpec => ({
  op: 'MatMul',
  name,
  inputs: [a, b],
  outputs: [y],
});
export const i32 = (values: number[], shape: number[] = [values.length]): ConstSpec => ({
  shape,
  values,
  type: 'int32',
});
export const i64 = (values: number[], shape: number[] = [values.length]): ConstSpec => ({
  shape,
  values,
  type: 'int64',
});
export const i8 = (shape: number[], seed: number, lo = -128, hi = 127): ConstSpec => ({
  shape,
  values: vals(
    shape.reduce((a, b) => a * b, 1),
    lo,
    hi,
    seed,
  ),
  type: 'int8',
});

export function cctGraph(): GraphSpec {
  const nodes: NodeSpec[] = [
    {
      op: 'Conv',
      name: 'conv',
      inputs: ['x', 'cw'],
      outputs: ['c'],
      attrs: {
        kernel_shape: attr.ints([3, 3]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
        dilations: attr.ints([1, 1]),
        group: attr.int(1),
      },
    },
    rq('conv_rq', 'c', 'cr', 'cmul', 'cadd', 2 ** 14, 0),
    {
      op: 'MaxPool',
      name: 'pool',
      inputs: ['cr'],
      outputs: ['p'],
      attrs: { kernel_shape: attr.ints([3, 3]), strides: attr.ints([1, 1]), pads: attr.ints([1, 1, 1, 1]) },
    },
    {
      op: 'Transpose',
      name: 'to_tokens',
      inputs: ['p'],
      outputs: ['pt'],
      attrs: { perm: attr.ints([0, 3, 2, 1]) },
    },
    { op: 'Reshape', name: 'flatten', inputs: ['pt', 'shape_tok'], outputs: ['tok'] },
    {
      op: 'iLayerNorm',
      name: 'ln',
      inputs: ['tok', 'lw', 'lb'],
      outputs: ['n'],
      attrs: { D: attr.int(2 ** 14), n_levels: attr.int(256) },
    },
    mm('q', 'n', 'wq', 'q32'),
    rq('q_rq', 'q32', 'q8', 'm40', 'zero', 2 ** 14),
    { op: 'Reshape', name: 'q_heads', inputs: ['q8', 'shape_h'], outputs: ['q4'] },
    {
      op: 'Transpose',
      name: 'q_t',
      inputs: ['q4'],
      outputs: ['qq'],
      attrs: { perm: attr.ints([0, 2, 1, 3]) },
    },
    mm('k', 'n', 'wk', 'k32'),
    rq('k_rq', 'k32', 'k8', 'm40', 'zero', 2 ** 14),
    { op: 'Reshape', name: 'k_heads', inputs: ['k8', 'shape_h'], outputs: ['k4'] },
    {
      op: 'Transpose',
      name: 'k_t',
      inputs: ['k4'],
      outputs: ['kt'],
      attrs: { perm: attr.ints([0, 2, 3, 1]) },
    },
    mm('v', 'n', 'wv', 'v32'),
    rq('v_rq', 'v32', 'v8', 'm40', 'zero', 2 ** 14),
    { op: 'Reshape', name: 'v_heads', inputs: ['v8', 'shape_h'], outputs: ['v4'] },
    {
      op: 'Transpose',
      name: 'v_t',
      inputs: ['v4'],
      outputs: ['vv'],
      attrs: { perm: attr.ints([0, 2, 1, 3]) },
    },
    mm('qk', 'qq', 'kt', 's32'),
    rq('qk_rq', 's32', 's8', 'm4', 'qkadd', 2 ** 10),
    partialMax('softmax', 's8', 'a'),
    mm('av', 'a', 'vv', 'o32'),
    rq('av_rq', 'o32', 'o8', 'm149', 'zero', 2 ** 14),
    { op: 'Gather', name: 'head0', inputs: ['o8', 'idx0'], outputs: ['og'], attrs: { axis: attr.int(1) } },
    mm('proj', 'og', 'wo', 'pr32'),
    rq('proj_rq', 'pr32', 'pr', 'm40', 'projadd', 2 ** 14),
    rq('res_a', 'pr', 'pr2', 'm16384', 'zero', 2 ** 14),
    rq('res_b', 'tok', 'tk2', 'm9000', 'zero', 2 ** 14, 0),
    { op: 'Add', name: 'res', inputs: ['pr2', 'tk2'], outputs: ['ad'] },
    rq('res_rq', 'ad', 'r1', 'm16384', 'zero', 2 ** 14),
    mm('ff1', 'r1', 'w1', 'h32'),
    { op: 'Add', name: 'ff1_bias', inputs: ['b1', 'h32'], outputs: ['h32b'] },
    rq('ff1_rq', 'h32b', 'h', 'm10', 'zero', 2 ** 14),
    {
      op: 'iGELU',
      name: 'gelu',
      inputs: ['h'],
      outputs: ['gl'],
      attrs: { b: attr.int(-42), one: attr.int(1929) },
    },
    rq('gelu_rq', 'gl', 'g', 'm11', 'zero', 2 ** 14),
    mm('ff2', 'g', 'w2', 'f32'),
    { op: 'Add', name: 'ff2_bias', inputs: ['b2', 'f32'], outputs: ['f32b'] },
    rq('ff2_rq', 'f32b', 'f', 'm20', 'zero', 2 ** 14),
    rq('res2_b', 'r1', 'r1s', 'm13622', 'zero', 2 ** 14),
    { op: 'Add', name: 'res2', inputs: ['f', 'r1s'], outputs: ['ad2'] },
    rq('res2_rq', 'ad2', 'r2', 'm16384', 'zero', 2 ** 14),
    {
      op: 'IntegerMean',
      name: 'mean',
      inputs: ['r2'],
      outputs: ['m'],
      attrs: { axes: attr.ints([1]), keepdims: attr.int(0) },
    },
    {
      op: 'Gemm',
      name: 'classifier',
      inputs: ['m', 'wc', 'bc'],
      outputs: ['y32'],
      attrs: { alpha: attr.int(1), beta: attr.int(1), transA: attr.int(0), transB: attr.int(1) },
    },
    rq('classifier_rq', 'y32', 'y', 'm20', 'half', 2 ** 14, 0),
  ];
  const scalar = (v: number): ConstSpec => i32([v], []);
  return {
    inputs: [{ name: 'x', shape: [1, 3, 16, 16], type: 'int8' }],
    outputs: [{ name: 'y', type: 'uint8' }],
    nodes,
    initializers: {
      cw: i8([E, 3, 3, 3], 1),
      cmul: i32(vals(E, 40, 90, 2), [E, 1, 1]),
      cadd: i32(vals(E, 1_000_000, 2_500_000, 3), [E, 1, 1]),
      shape_tok: i64([1, T, E]),
      shape_h: i64([1, T, 1, E]),
      idx0: i64([0], []),
      lw: i32(vals(E, 200_000, 300_000, 4)),
      lb: i32(vals(E, -30_000, 30_000, 5)),
      wq: i8([E, E], 6),
      wk: i8([E, E], 7),
      wv: i8([E, E], 8),
      wo: i8([E, E], 9),
      w1: i8([E, F], 10),
      b1: i32(vals(F, -500, 500, 11)),
      w2: i8([F, E], 12),
      b2: i32(vals(E, -800, 800, 13)),
      wc: i8([10, E], 14),
      bc: i32(vals(10, -300, 300, 15)),
      zero: scalar(0),
      m4: scalar(4),
      m10: scalar(10),
      m11: scalar(11),
      m20: scalar(20),
      m40: scalar(40),

      m149: scalar(149),
      m9000: scalar(9000),
      m13622: scalar(13622),
      m16384: scalar(16384),

      // a multiple of neither div nor mul: ITA's requantiser cannot take it (QK on the cores)
      qkadd: scalar(-30 * 1024 + 302),
      // a multiple of mul 40 but not of div: joins the bias of ITA's linear
      projadd: scalar(-40 * 3),
      half: scalar(128 * 2 ** 14),
    },
  };
}
