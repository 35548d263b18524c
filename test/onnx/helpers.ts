/** Builds one-op (or small) graphs with the project's ONNX writer and runs them. */
import { runGraph } from '../../onnx/executor.ts';
import type { RunResult } from '../../onnx/executor.ts';
import { parseModel } from '../../onnx/model.ts';
import type { SoftmaxVariant } from '../../onnx/ops/context.ts';
import type { Tensor } from '../../onnx/tensor.ts';
import type { AttrSpec, ConstSpec, GraphSpec } from '../../onnx/writer.ts';
import { buildModel } from '../../onnx/writer.ts';

export interface Fed {
  shape: number[];
  values: number[];
}

/** Runs a graph spec on the given inputs (bytes go through the encoder and the loader). */
export function runSpec(
  spec: GraphSpec,
  inputs: Record<string, Fed>,
  softmax: SoftmaxVariant = 'deeploy',
): RunResult {
  const graph = parseModel(buildModel(spec));
  const feed = new Map<string, Tensor>();
  for (const [k, v] of Object.entries(inputs)) {
    feed.set(k, { shape: v.shape, data: Float64Array.from(v.values), signed: v.values.some((x) => x < 0) });
  }
  return runGraph(graph, feed, { softmax });
}

/**
 * One node `op` reading graph input `x` (and more inputs named in `extra`, fed as constants),
 * returning its output tensor.
 */
export function runOp(
  op: string,
  x: Fed | Fed[],
  attrs: Record<string, AttrSpec> = {},
  consts: ConstSpec[] = [],
  softmax: SoftmaxVariant = 'deeploy',
  domain = '',
): Tensor {
  const xs = Array.isArray(x) ? x : [x];
  const inNames = xs.map((_, i) => `x${i}`);
  const constNames = consts.map((_, i) => `c${i}`);
  const spec: GraphSpec = {
    inputs: xs.map((f, i) => ({ name: inNames[i]!, shape: f.shape })),
    outputs: [{ name: 'y' }],
    initializers: Object.fromEntries(consts.map((c, i) => [constNames[i]!, c])),
    nodes: [{ op, name: 'n0', domain, inputs: [...inNames, ...constNames], outputs: ['y'], attrs }],
  };
  const r = runSpec(spec, Object.fromEntries(xs.map((f, i) => [inNames[i]!, f])), softmax);
  return r.outputs.get('y')!;
}

export const c = (shape: number[], values: number[], type: ConstSpec['type'] = 'float'): ConstSpec => ({
  shape,
  values,
  type,
});
export const f = (shape: number[], values: number[]): Fed => ({ shape, values });
export const vals = (t: Tensor): number[] => Array.from(t.data);
