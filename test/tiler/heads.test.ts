/**
 * Heads held as a batch axis (Deeploy's written-out multi-head attention): `splitHeads` writes them
 * out head by head with the same values, and the tiler runs the result on the cycle-level system,
 * every op against the executor and the graph output against the original graph's executor run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGraph } from '../../onnx/executor.ts';
import { splitHeads } from '../../onnx/heads.ts';
import { parseModel, type Graph } from '../../onnx/model.ts';
import { writeNpz } from '../../onnx/npz.ts';
import type { Tensor } from '../../onnx/tensor.ts';
import { attr, buildModel, type GraphSpec } from '../../onnx/writer.ts';
import { deploy } from '../../tiler/deploy.ts';
import { vals } from './cct-graph.ts';
import { gatheredHeads, mergedHeads } from './heads-graph.ts';

const input = (S: number, E: number): Map<string, Tensor> =>
  new Map([['x', { shape: [1, S, E], data: Float64Array.from(vals(S * E, -128, 127, 21)), signed: true }]]);

const graphOf = (spec: GraphSpec): Graph => parseModel(buildModel(spec));

describe('splitHeads', () => {
  for (const [name, spec, S, E, H] of [
    ['gathered', gatheredHeads(), 64, 64, 3],
    ['merged', mergedHeads(), 66, 16, 8],
  ] as const)
    it(`writes the ${name} heads out one by one, every value the same`, () => {
      const g = graphOf(spec);
      const x = input(S, E);
      const split = splitHeads(g, x);
      const ops = split.nodes.map((n) => n.opType);
      // no tensor with a head axis is left: Q, K, V each split by H Slices
      expect(ops.filter((o) => o === 'Slice')).toHaveLength(3 * H);
      expect(ops.filter((o) => o === 'MatMul')).toHaveLength(2 * H + 3 + (name === 'gathered' ? H : 1));
      const a = runGraph(g, x).outputs.get('y')!;
      const run = runGraph(split, x);
      const b = run.outputs.get('y')!;
      // every product multiplies matrices: no batch axis is left
      for (const n of split.nodes.filter((m) => m.opType === 'MatMul'))
        expect(
          run.tensors
            .get(n.outputs[0]!)!
            .shape.slice(0, -2)
            .every((v) => v === 1),
          n.name,
        ).toBe(true);
      expect(b.shape).toEqual(a.shape);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
      // the values are spread (the check can fail)
      expect(new Set(a.data).size).toBeGreaterThan(15);
    });

  it('joins the heads of a graph output back (rows one after the other)', () => {
    const spec = mergedHeads();
    spec.outputs.push({ name: 'a', type: 'uint8' });
    const g = graphOf(spec);
    const x = input(66, 16);
    const split = splitHeads(g, x);
    expect(split).not.toBe(g);
    const [a, b] = [runGraph(g, x).outputs.get('a')!, runGraph(split, x).outputs.get('a')!];
    expect(b.shape).toEqual([1, 8, 66, 66]);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it('leaves a graph whose heads meet an op it does not split as it is', () => {
    const spec = mergedHeads();
    // a Softmax over the head axis mixes heads
    spec.nodes.splice(
      spec.nodes.findIndex((n) => n.name === 'softmax'),
      1,
      {
        op: 'ReduceSum',
        name: 'softmax',
        inputs: ['s8', 'axis1'],
        outputs: ['a'],
        attrs: { keepdims: attr.int(1) },
      },
    );
    spec.initializers!.axis1 = { shape: [1], values: [1], type: 'int64' };
    const g = graphOf(spec);
    expect(splitHeads(g, input(66, 16))).toBe(g);
  });

  it('leaves a graph without heads as it is', () => {
    const spec = mergedHeads();
    const g = graphOf({ ...spec, nodes: spec.nodes.slice(0, 2), outputs: [{ name: 'q8', type: 'int8' }] });
    expect(splitHeads(g, input(66, 16))).toBe(g);
  });
});

describe('heads on the cycle-level system', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'itasim-heads-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const files = (name: string, spec: GraphSpec, S: number, E: number): [string, string, string] => {
    const onnx = join(dir, `${name}.onnx`);
    rmSync(join(dir, `${name}-in.npz`), { force: true });
    rmSync(join(dir, `${name}-out.npz`), { force: true });
    writeFileSync(onnx, buildModel(spec));
    const inputs = join(dir, `${name}-in.npz`);
    const x = input(S, E);
    writeNpz(inputs, x);
    const outputs = join(dir, `${name}-out.npz`);
    // the reference is the original graph (heads as a batch axis) on the executor
    writeNpz(outputs, runGraph(graphOf(spec), x).outputs);
    return [onnx, inputs, outputs];
  };

  for (const clusterOnly of [false, true]) {
    const mode = clusterOnly ? 'cluster-only' : 'ITA mode';
    it(`three heads of 64, Gather per head and a chain of Adds (${mode})`, () => {
      const [onnx, inputs, outputs] = files('gathered', gatheredHeads(), 64, 64);
      const r = deploy(onnx, inputs, { compare: outputs, clusterOnly });
      expect(r.perOp.filter((o) => !o.pass).map((o) => `${o.name}: ${o.mismatch}`)).toEqual([]);
      expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
      expect(r.pass).toBe(true);
      const rows = r.perOp.filter((o) => o.where !== 'dma');
      // Q.K^T and A.V of each head on ITA (A an ITAPartialMax output, the requantiser in ITA's form)
      const products = rows.filter((o) => /^(qk|av)@h\d$/.test(o.name));
      expect(products.map((o) => o.where)).toEqual(new Array(6).fill(clusterOnly ? 'cores' : 'ita'));
      expect(rows.filter((o) => o.kind === 'copy')).toHaveLength(9);
      // the three projections summed by one kernel (mapped at the chain's last Add)
      expect(rows.filter((o) => o.kind === 'sum').map((o) => o.name)).toEqual(['head_sum2']);
      // K^T is read as B^T by the products: no transpose runs
      expect(rows.filter((o) => o.kind === 'transpose')).toEqual([]);
    }, 300_000);
  }

  // in ITA mode too, A.V runs on the cores (A is iSoftmax's uint8 output): the cores' products over
  // B^T of two blocks and B as it is of two blocks are exercised; cluster-only adds nothing new
  it('eight heads of 2 over 66 tokens, iSoftmax, heads joined by Transpose + Reshape (ITA mode)', () => {
    const [onnx, inputs, outputs] = files('merged', mergedHeads(), 66, 16);
    const r = deploy(onnx, inputs, { compare: outputs });
    expect(r.perOp.filter((o) => !o.pass).map((o) => `${o.name}: ${o.mismatch}`)).toEqual([]);
    expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
    expect(r.pass).toBe(true);
    const kinds = r.perOp.filter((o) => o.where !== 'dma').map((o) => o.kind);
    expect(kinds.filter((k) => k === 'copy')).toHaveLength(3 * 8 + 1);
    expect(kinds.filter((k) => k === 'isoftmax')).toHaveLength(8);
    const av = r.perOp.filter((o) => /^av@h\d$/.test(o.name));
    expect(av.map((o) => o.where)).toEqual(new Array(8).fill('cores'));
  }, 300_000);
});
