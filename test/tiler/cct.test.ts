/**
 * A small compact convolutional transformer (the ops of Deeploy's ICCT_ITA, at sizes that simulate
 * in seconds) deployed on the cycle-level system in ITA mode and cluster-only: the tokenizer Conv +
 * RequantShift per channel (unsigned output), MaxPool (with padding) + Transpose to channels last,
 * iLayerNorm of unsigned tokens, written-out attention (a Transpose of K read as B^T, MatMul of two
 * activations, ITAPartialMax, MatMul with B as it is, Gather of the head), element-wise
 * RequantShifts and iGELU + RequantShift as tables, a residual Add of a signed and an unsigned
 * input, IntegerMean over the tokens and the classifier Gemm. Every op's output is compared with
 * the functional executor byte by byte (run.ts), the graph output with the executor's outputs.npz.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../onnx/tensor.ts';
import { deploy } from '../../tiler/deploy.ts';
import { cctGraph, vals } from './cct-graph.ts';
import { modelFolder } from './model-folder.ts';

describe('a compact convolutional transformer (ICCT_ITA ops) on the cycle-level system', () => {
  let dir: string;
  let onnx: string;
  let inputs: string;
  let outputs: string;
  let ref: Map<string, Tensor>;
  beforeAll(() => {
    const x: Tensor = {
      shape: [1, 3, 16, 16],
      data: Float64Array.from(vals(768, -128, 127, 16)),
      signed: true,
    };
    ({ dir, onnx, inputs, outputs, ref } = modelFolder('cct', cctGraph(), new Map([['x', x]])));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exercises what it means to: unsigned tokens above 127, a spread softmax and classifier', () => {
    const spread = (name: string): number => new Set(ref.get(name)!.data).size;
    expect(Math.max(...ref.get('tok')!.data)).toBeGreaterThan(127);
    expect(Math.max(...ref.get('tk2')!.data)).toBeGreaterThan(127);
    for (const t of ['cr', 'tok', 'n', 's8', 'a', 'o8', 'h', 'g', 'r2'])
      expect(spread(t), t).toBeGreaterThan(8);
    expect(spread('y')).toBeGreaterThan(3);
  });

  const where = [
    ['Conv', 'cores'],
    ['MaxPool', 'cores'],
    ['iLayerNorm', 'cores'],
    ['MatMul', 'ita'],
    ['MatMul', 'ita'],
    ['MatMul', 'ita'],
    ['MatMul', 'cores'],
    ['ITAPartialMax', 'cores'],
    ['MatMul', 'ita'],
    ['MatMul', 'ita'],
    ['RequantShift', 'cores'],
    ['RequantShift', 'cores'],
    ['Add', 'cores'],
    ['MatMul', 'ita'],
    ['iGELU', 'cores'],
    ['MatMul', 'ita'],
    ['RequantShift', 'cores'],
    ['Add', 'cores'],
    ['IntegerMean', 'cores'],
    ['Gemm', 'cores'],
  ];

  for (const clusterOnly of [false, true]) {
    it(`deploys bit-exact, every op against the executor (${clusterOnly ? 'cluster-only' : 'ITA mode'})`, () => {
      const r = deploy(onnx, inputs, { compare: outputs, clusterOnly });
      const ops = r.perOp.filter((o) => o.where !== 'dma');
      const bad = ops.filter((o) => !o.pass).map((o) => `${o.name}: ${o.mismatch}`);
      expect(bad).toEqual([]);
      expect(ops.map((o) => [o.op, o.where])).toEqual(
        where.map(([op, w]) => [op, clusterOnly ? 'cores' : w]),
      );
      expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
      expect(r.pass).toBe(true);
      // the one head's Q and V keep the bytes of q8 and v8 (heads written out, onnx/heads.ts);
      // K^T is read by Q.K^T as B^T, which is k8: no transpose runs
      const dma = r.perOp.filter((o) => o.where === 'dma');
      expect(dma.map((o) => o.name)).toEqual([
        'flatten',
        'q_t@h0/R',
        'k_t@h0/R',
        'k_t@h0/T',
        'v_t@h0/R',
        'head0',
      ]);
      expect(dma.find((o) => o.name === 'k_t@h0/T')!.reason).toMatch(/B\^T/);
    }, 300_000);
  }
});
