/**
 * A standalone `ITAMax` node (Deeploy's kernel, not the RTL's softmax) deployed on the cores: rows
 * of 80 columns (stored padded to 128) whose maxima stand out, so that the outputs reach the upper
 * half of uint8 (the kernel's inverse is 255 x 256 / sum, twice ITAPartialMax's), followed by a
 * linear that reads the unsigned result. Every op against the executor, the output against its npz.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../onnx/tensor.ts';
import { attr, type GraphSpec } from '../../onnx/writer.ts';
import { deploy } from '../../tiler/deploy.ts';
import { vals } from './cct-graph.ts';
import { modelFolder } from './model-folder.ts';

const S = 64;
const C = 80;

function graph(): GraphSpec {
  return {
    inputs: [{ name: 'x', shape: [1, S, C], type: 'int8' }],
    outputs: [
      { name: 'a', type: 'uint8' },
      { name: 'y', type: 'int8' },
    ],
    nodes: [
      { op: 'ITAMax', name: 'softmax', inputs: ['x'], outputs: ['a'], attrs: { n_levels: attr.int(256) } },
      { op: 'MatMul', name: 'proj', inputs: ['a', 'w'], outputs: ['p'] },
      {
        op: 'RequantShift',
        name: 'proj_rq',
        inputs: ['p', 'mul', 'add'],
        outputs: ['y'],
        attrs: { div: attr.int(2 ** 12), n_levels: attr.int(256), signed: attr.int(1) },
      },
    ],
    initializers: {
      w: { shape: [C, 64], values: vals(C * 64, -128, 127, 3), type: 'int8' },
      mul: { shape: [], values: [7], type: 'int32' },
      add: { shape: [], values: [0], type: 'int32' },
    },
  };
}

/** Row r: values near -128 and one peak whose height grows with r (alone at the top in the last rows). */
function input(): Tensor {
  const base = vals(S * C, -128, -90, 5);
  const data = Float64Array.from(base);
  for (let r = 0; r < S; r++) data[r * C + ((r * 13) % C)] = Math.min(127, -100 + r * 4);
  return { shape: [1, S, C], data, signed: true };
}

describe('a standalone ITAMax (Deeploy kernel) on the cycle-level system', () => {
  let dir: string;
  let onnx: string;
  let inputs: string;
  let outputs: string;
  let ref: Map<string, Tensor>;
  beforeAll(() => {
    ({ dir, onnx, inputs, outputs, ref } = modelFolder('itamax', graph(), new Map([['x', input()]])));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exercises the upper half of uint8 and a spread of values', () => {
    const a = ref.get('a')!.data;
    expect(Math.max(...a)).toBeGreaterThan(127);
    expect(new Set(a).size).toBeGreaterThan(16);
    expect(new Set(ref.get('y')!.data).size).toBeGreaterThan(16);
  });

  for (const clusterOnly of [false, true]) {
    it(`deploys bit-exact (${clusterOnly ? 'cluster-only' : 'ITA mode'})`, () => {
      const r = deploy(onnx, inputs, { compare: outputs, clusterOnly });
      const bad = r.perOp.filter((o) => !o.pass).map((o) => `${o.name}: ${o.mismatch}`);
      expect(bad).toEqual([]);
      expect(r.perOp.map((o) => [o.op, o.where])).toEqual([
        ['ITAMax', 'cores'],
        ['MatMul', 'cores'],
      ]);
      expect(r.compare?.map((c) => [c.name, c.pass])).toEqual([
        ['a', true],
        ['y', true],
      ]);
      expect(r.pass).toBe(true);
    }, 120_000);
  }
});
