/**
 * A decoder layer for one token with caches of keys and values (the ops of Deeploy's microLlama
 * models, see decode-graph.ts) deployed on the cycle-level system: heads as rows of a relayout,
 * caches split per head and extended by a Concat of rows, the extended caches as graph outputs
 * (the heads joined back), iRMSNorm, TrueIntegerDiv + RequantShift, a uint8 mask added, iSoftmax,
 * iHardswish and the product of two activations. Every op against the executor, the graph
 * outputs against the original graph's executor run.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../onnx/tensor.ts';
import { deploy } from '../../tiler/deploy.ts';
import { vals } from './cct-graph.ts';
import { DECODE_INPUTS, decodeGraph } from './decode-graph.ts';
import { modelFolder } from './model-folder.ts';

describe('a decoder layer with caches of keys and values (microLlama ops) on the cycle-level system', () => {
  let dir: string;
  let onnx: string;
  let inputs: string;
  let outputs: string;
  let ref: Map<string, Tensor>;
  beforeAll(() => {
    const x = new Map<string, Tensor>(
      Object.entries(DECODE_INPUTS).map(([k, sh], i) => {
        const n = sh.reduce((a: number, b: number) => a * b, 1);
        // the mask hides the second cached token
        const data =
          k === 'mask'
            ? Float64Array.from([255, 255, 0, 255])
            : Float64Array.from(vals(n, -128, 127, 50 + i));
        // a negative value: the npz's arrays are signed by their values (as the executor binds them)
        if (k !== 'mask') data[1] = -60;
        return [k, { shape: [...sh], data, signed: k !== 'mask' }];
      }),
    );
    ({ dir, onnx, inputs, outputs, ref } = modelFolder('decode', decodeGraph(), x));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exercises what it means to: spread values, a softmax that is not flat, the mask', () => {
    for (const t of ['n', 'qh', 'kc', 'vc', 'sm', 'a', 'o8', 'h', 'gu', 'y'])
      expect(new Set(ref.get(t)!.data).size, t).toBeGreaterThan(8);
    expect(Math.max(...ref.get('mk')!.data)).toBeGreaterThan(64);
  });

  it('deploys bit-exact in ITA mode, every op against the executor', () => {
    const r = deploy(onnx, inputs, { compare: outputs });
    expect(r.perOp.filter((o) => !o.pass).map((o) => `${o.name}: ${o.mismatch}`)).toEqual([]);
    expect(r.compare).toEqual([
      { name: 'y', pass: true, detail: '' },
      { name: 'kc', pass: true, detail: '' },
      { name: 'vc', pass: true, detail: '' },
    ]);
    expect(r.pass).toBe(true);
    const kinds = r.perOp.map((o) => o.kind);
    for (const k of ['rmsnorm', 'mul', 'copy', 'isoftmax', 'lut']) expect(kinds.includes(k), k).toBe(true);
    // one Q.K^T and one A.V per head
    expect(r.perOp.filter((o) => /^(qk|av)@h\d$/.test(o.name))).toHaveLength(8);
  }, 300_000);
});
