/**
 * One decoder layer for one new token with a cache of keys and values, in the form of Deeploy's
 * microLlama models, at a size that simulates in seconds: x [1, 1, 16] (E = 16, four heads of 4),
 * caches [1, 4, 3, 4] (three earlier tokens), a 4 x 4 rotation of every head (a graph input), a
 * mask over the four tokens (uint8), iRMSNorm, the heads as rows of a 4 x 4 relayout of Q and K
 * (Reshape [1, 1, 16] -> [1, 1, 4, 4], Transpose -> [1, 4, 1, 4]), V split by Reshape + Transpose,
 * the caches extended by a Concat of rows per head (graph outputs), Q.K^T over TrueIntegerDiv +
 * RequantShift, the mask added, iSoftmax, A.V, the heads joined, the output projection, and an
 * FFN with iHardswish and the product of two activations (Mul).
 */
import { attr, type GraphSpec, type NodeSpec } from '../../onnx/writer.ts';
import { i32, i8, mm, rq as requant } from './cct-graph.ts';
import { perm } from './heads-graph.ts';

const E = 16;
const H = 4;
const d = 4;
const T = 3; // cached tokens
const F = 32;

/** The requantisers here: no add, a division by 2^16. */
const rq = (name: string, x: string, y: string, mul: string, signed = 1): NodeSpec =>
  requant(name, x, y, mul, 'zero', 2 ** 16, signed);
const reshape = (name: string, x: string, shape: string, y: string): NodeSpec => ({
  op: 'Reshape',
  name,
  inputs: [x, shape],
  outputs: [y],
});
/** A cache [1, H, T, d] extended by the new token's rows (Concat on the token axis). */
const cacheRows = (name: string, cache: string, x: string, y: string): NodeSpec => ({
  op: 'Concat',
  name,
  inputs: [cache, x],
  outputs: [y],
  attrs: { axis: attr.int(-2) },
});
const rms = (name: string, x: string, y: string): NodeSpec => ({
  op: 'iRMSNorm',
  name,
  inputs: [x, 'rmsw'],
  outputs: [y],
  attrs: { D: attr.int(2 ** 16), n_levels: attr.int(256) },
});

export const DECODE_INPUTS = {
  x: [1, 1, E],
  cache_k: [1, H, T, d],
  cache_v: [1, H, T, d],
  rot: [1, 1, d, d],
  mask: [T + 1],
} as const;

export function decodeGraph(): GraphSpec {
  const nodes: NodeSpec[] = [
    rms('norm', 'x', 'n'),
    // Q and K: the heads as the rows of a relayout, rotated, then moved to the head axis
    ...(['q', 'k'] as const).flatMap((p): NodeSpec[] => [
      mm(p, 'n', `w${p}`, `${p}32`),
      rq(`${p}_rq`, `${p}32`, `${p}8`, 'm100'),
      reshape(`${p}_rows`, `${p}8`, 'shape_hd', `${p}r`),
      mm(`${p}_rot`, `${p}r`, 'rot', `${p}rot32`),
      rq(`${p}_rot_rq`, `${p}rot32`, `${p}rot`, 'm300'),
      perm(`${p}_heads`, `${p}rot`, `${p}h`, [0, 2, 1, 3]),
    ]),
    // V: Reshape + Transpose
    mm('v', 'n', 'wv', 'v32'),
    rq('v_rq', 'v32', 'v8', 'm100'),
    reshape('v_rows', 'v8', 'shape_hd', 'vr'),
    perm('v_heads', 'vr', 'vh', [0, 2, 1, 3]),
    // the caches extended by the new token (graph outputs)
    cacheRows('k_cat', 'cache_k', 'kh', 'kc0'),
    rq('k_cat_rq', 'kc0', 'kc', 'm65536'),
    cacheRows('v_cat', 'cache_v', 'vh', 'vc0'),
    rq('v_cat_rq', 'vc0', 'vc', 'm65536'),
    perm('k_t', 'kc', 'kt', [0, 1, 3, 2]),
    mm('qk', 'qh', 'kt', 's32'),
    rq('qk_rq', 's32', 's8', 'm600'),
    {
      op: 'TrueIntegerDiv',
      name: 'scale',
      inputs: ['s8'],
      outputs: ['sd'],
      attrs: { Delta: attr.int(16384), eps: attr.int(1), eta: attr.int(200000), y: attr.int(2) },
    },
    rq('scale_rq', 'sd', 'ss', 'm1'),
    rq('mask_rq', 'mask', 'mk', 'm30000'),
    { op: 'Add', name: 'masked', inputs: ['ss', 'mk'], outputs: ['sm32'] },
    rq('masked_rq', 'sm32', 'sm', 'm65536'),
    {
      op: 'iSoftmax',
      name: 'softmax',
      inputs: ['sm'],
      outputs: ['a'],
      attrs: {
        coeffA: attr.int(1),
        coeffB: attr.int(84),
        coeffC: attr.int(3735),
        log2: attr.int(62),
        n_levels: attr.int(256),
      },
    },
    rq('a_rq', 'a', 'a8', 'm32768'),
    mm('av', 'a8', 'vc', 'o32'),
    rq('av_rq', 'o32', 'o8', 'm300'),
    perm('merge_t', 'o8', 'ot', [0, 2, 1, 3]),
    reshape('merge', 'ot', 'shape_e', 'om'),
    mm('proj', 'om', 'wo', 'p32'),
    rq('proj_rq', 'p32', 'p', 'm100'),
    { op: 'Add', name: 'res', inputs: ['x', 'p'], outputs: ['r32'] },
    rq('res_rq', 'r32', 'r', 'm40000'),
    // FFN: iHardswish of one branch times the other
    rms('norm2', 'r', 'n2'),
    mm('gate', 'n2', 'w1', 'g32'),
    rq('gate_rq', 'g32', 'g', 'm150'),
    {
      op: 'iHardswish',
      name: 'hswish',
      inputs: ['g'],
      outputs: ['hs'],
      attrs: { one_over_six: attr.int(42), six: attr.int(245), three: attr.int(122) },
    },
    rq('hswish_rq', 'hs', 'h', 'm15'),
    mm('up', 'n2', 'w2', 'u32'),
    rq('up_rq', 'u32', 'u', 'm150'),
    { op: 'Mul', name: 'glu', inputs: ['h', 'u'], outputs: ['gu32'] },
    rq('glu_rq', 'gu32', 'gu', 'm600'),
    mm('down', 'gu', 'w3', 'y32'),
    rq('down_rq', 'y32', 'y', 'm150'),
  ];
  return {
    inputs: [
      { name: 'x', shape: [...DECODE_INPUTS.x], type: 'int8' },
      { name: 'mask', shape: [...DECODE_INPUTS.mask], type: 'uint8' },
      { name: 'rot', shape: [...DECODE_INPUTS.rot], type: 'int8' },
      { name: 'cache_k', shape: [...DECODE_INPUTS.cache_k], type: 'int8' },
      { name: 'cache_v', shape: [...DECODE_INPUTS.cache_v], type: 'int8' },
    ],
    outputs: [
      { name: 'y', type: 'int8' },
      { name: 'kc', type: 'int8' },
      { name: 'vc', type: 'int8' },
    ],
    nodes,
    initializers: {
      rmsw: i32(new Array<number>(E).fill(60 * 65536)),
      wq: i8([E, E], 31),
      wk: i8([E, E], 32),
      wv: i8([E, E], 33),
      wo: i8([E, E], 34),
      w1: i8([E, F], 35),
      w2: i8([E, F], 36),
      w3: i8([F, E], 37),
      shape_hd: { shape: [4], values: [1, 1, H, d], type: 'int64' },
      shape_e: { shape: [3], values: [1, 1, E], type: 'int64' },
      zero: i32([0], []),
      m1: i32([1], []),
      ...Object.fromEntries(
        [15, 100, 150, 300, 600, 30000, 32768, 40000, 65536].map((v) => [`m${v}`, i32([v], [])]),
      ),
    },
  };
}
