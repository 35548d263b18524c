/**
 * Multi-head attention written out as Deeploy's graphs hold it (heads as a batch axis), at sizes
 * that simulate in seconds (see heads.test.ts):
 * - `gathered`: S = 64, E = 64, three heads of 64, ITAPartialMax, each head's output taken by a
 *   Gather into its own projection, the projections summed by a chain of Adds (ICCT_ITA_8's form);
 * - `merged`: S = 66, E = 16, eight heads of 2, iSoftmax, the heads joined back by Transpose +
 *   Reshape into one projection (the integer attention kernel's and EEGFormer's form): every head
 *   padded from 2 columns and 66 rows, K^T and A over two 64-row blocks.
 */
import { attr, type GraphSpec, type NodeSpec } from '../../onnx/writer.ts';
import { i32, i64, i8, mm, partialMax, rq } from './cct-graph.ts';
export const perm = (name: string, x: string, y: string, p: number[]): NodeSpec => ({
  op: 'Transpose',
  name,
  inputs: [x],
  outputs: [y],
  attrs: { perm: attr.ints(p) },
});

/** Q, K, V linears of x, each split into heads: qq [1,H,S,d], kt [1,H,d,S], vv [1,H,S,d]. */
function qkv(mulQkv: string): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  for (const [p, t] of [
    ['q', [0, 2, 1, 3]],
    ['k', [0, 2, 3, 1]],
    ['v', [0, 2, 1, 3]],
  ] as const) {
    nodes.push(mm(p, 'x', `w${p}`, `${p}32`), rq(`${p}_rq`, `${p}32`, `${p}8`, mulQkv, 'zero', 2 ** 14));
    nodes.push({ op: 'Reshape', name: `${p}_heads`, inputs: [`${p}8`, 'shape_h'], outputs: [`${p}4`] });
    nodes.push(perm(`${p}_t`, `${p}4`, `${p}${p === 'k' ? 't' : p}`, [...t]));
  }
  return nodes;
}

export function gatheredHeads(): GraphSpec {
  const S = 64;
  const E = 64;
  const H = 3;
  const d = 64;
  const nodes: NodeSpec[] = [
    ...qkv('m14'),
    mm('qk', 'qq', 'kt', 's32'),
    rq('qk_rq', 's32', 's8', 'm16', 'qkadd', 2 ** 14),
    partialMax('softmax', 's8', 'a'),
    mm('av', 'a', 'vv', 'o32'),
    rq('av_rq', 'o32', 'o8', 'm250', 'zero', 2 ** 14),
  ];
  for (let h = 0; h < H; h++)
    nodes.push(
      {
        op: 'Gather',
        name: `head${h}`,
        inputs: ['o8', `idx${h}`],
        outputs: [`og${h}`],
        attrs: { axis: attr.int(1) },
      },
      mm(`proj${h}`, `og${h}`, `wo${h}`, `p32_${h}`),
      rq(`proj${h}_rq`, `p32_${h}`, `p${h}`, 'm60', 'zero', 2 ** 14),
    );
  nodes.push({ op: 'Add', name: 'head_sum', inputs: ['p0', 'p1'], outputs: ['ps'] });
  nodes.push({ op: 'Add', name: 'head_sum2', inputs: ['ps', 'p2'], outputs: ['ps2'] });
  nodes.push(rq('head_sum_rq', 'ps2', 'y', 'm9000', 'zero', 2 ** 14));
  return {
    inputs: [{ name: 'x', shape: [1, S, E], type: 'int8' }],
    outputs: [{ name: 'y', type: 'int8' }],
    nodes,
    initializers: {
      wq: i8([E, H * d], 1),
      wk: i8([E, H * d], 2),
      wv: i8([E, H * d], 3),
      wo0: i8([d, E], 4),
      wo1: i8([d, E], 5),
      wo2: i8([d, E], 6),
      shape_h: i64([1, S, H, d]),
      idx0: i64([0], []),
      idx1: i64([1], []),
      idx2: i64([2], []),
      zero: i32([0], []),
      m14: i32([14], []),
      m16: i32([16], []),
      m60: i32([60], []),
      m250: i32([250], []),
      m9000: i32([9000], []),
      // a multiple of mul: it joins ITA's bias
      qkadd: i32([16 * -1000], []),
    },
  };
}

export function mergedHeads(): GraphSpec {
  const S = 66;
  const E = 16;
  const H = 8;
  const d = 2;
  const nodes: NodeSpec[] = [
    ...qkv('m25'),
    mm('qk', 'qq', 'kt', 's32'),
    rq('qk_rq', 's32', 's8', 'm80', 'zero', 2 ** 14),
    {
      op: 'iSoftmax',
      name: 'softmax',
      inputs: ['s8'],
      outputs: ['a'],
      attrs: {
        coeffA: attr.int(1),
        coeffB: attr.int(173),
        coeffC: attr.int(15599),
        log2: attr.int(127),
        n_levels: attr.int(256),
      },
    },
    mm('av', 'a', 'vv', 'o32'),
    rq('av_rq', 'o32', 'o8', 'm200', 'zero', 2 ** 14),
    perm('merge_t', 'o8', 'ot', [0, 2, 1, 3]),
    { op: 'Reshape', name: 'merge', inputs: ['ot', 'shape_out'], outputs: ['om'] },
    mm('proj', 'om', 'wo', 'p32'),
    rq('proj_rq', 'p32', 'y', 'm100', 'zero', 2 ** 14),
  ];
  return {
    inputs: [{ name: 'x', shape: [1, S, E], type: 'int8' }],
    outputs: [{ name: 'y', type: 'int8' }],
    nodes,
    initializers: {
      wq: i8([E, E], 11),
      wk: i8([E, E], 12),
      wv: i8([E, E], 13),
      wo: i8([E, E], 14),
      shape_h: i64([1, S, H, d]),
      shape_out: i64([1, S, E]),
      zero: i32([0], []),
      m25: i32([25], []),
      m80: i32([80], []),
      m200: i32([200], []),
      m100: i32([100], []),
    },
  };
}
