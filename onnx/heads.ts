/**
 * Multi-head attention as Deeploy's graphs write it out, with the heads as a batch axis: an
 * S x (H d) activation reshaped to [1, S, H, d] and transposed to [1, H, S, d] (or, for K^T, to
 * [1, H, d, S]); batched MatMuls, requantisers and softmaxes over [1, H, S, N]; and back through a
 * Transpose to [1, S, H, d] and a Reshape to S x (H d), or one Gather per head. `splitHeads`
 * rewrites that region head by head: each head's columns a `Slice` of the activation (then a
 * `Transpose` for K^T), each batched node H nodes of one head, the heads joined by a `Concat` on the
 * last axis or taken by name where a Gather picked one. Every value is the same; the tensors are
 * matrices, which is what the tiler maps. Head h of a batched tensor `t` is named `t@h<h>`.
 *
 * The rewrite is all or nothing: when any reader of a batched tensor is not one of the forms
 * above (a broadcast against a per-head constant, a graph output, an op with another layout), the
 * graph is returned unchanged and the mapper refuses the node it cannot map, as before.
 */
import type { Graph, GraphNode } from './model.ts';
import { runGraph, topoSort } from './executor.ts';
import type { Tensor } from './tensor.ts';

/** Ops that work on each row (or element) of their first input: the same on each head alone. */
const ROW_OPS = new Set([
  'RequantShift',
  'ITAPartialMax',
  'ITAMax',
  'iSoftmax',
  'Relu',
  'iGELU',
  'iHardswish',
  'TrueIntegerDiv',
  'Identity',
  'Add',
  'Mul',
]);

/** Shapes of every tensor of a run of `graph` (values dropped as the run goes). */
function shapesOf(graph: Graph, inputs: Map<string, Tensor>): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const r = runGraph(graph, inputs, {
    release: (name, t) => {
      shapes.set(name, t.shape);
      return { shape: t.shape, signed: t.signed, data: new Float64Array(0) };
    },
  });
  for (const [name, t] of r.tensors) if (!shapes.has(name)) shapes.set(name, t.shape);
  return shapes;
}

function intsOf(n: GraphNode, name: string): number[] | undefined {
  const a = n.attrs.get(name);
  if (!a) return undefined;
  if (a.kind === 'ints') return a.value;
  if (a.kind === 'int') return [a.value];
  return undefined;
}

const same = (a: readonly number[] | undefined, b: readonly number[]): boolean =>
  a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);

const vector = (v: number): Tensor => ({ shape: [1], data: Float64Array.from([v]), signed: true });

/** `graph` with its batched attention heads written out one by one (or `graph` itself). */
export function splitHeads(graph: Graph, inputs: Map<string, Tensor>): Graph {
  const consumers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const onlyReader = (t: string): GraphNode | undefined => {
    const cs = consumers.get(t) ?? [];
    return cs.length === 1 && !graph.outputs.some((o) => o.name === t) ? cs[0] : undefined;
  };
  const candidate = graph.nodes.some(
    (n) => n.opType === 'Reshape' && onlyReader(n.outputs[0]!)?.opType === 'Transpose',
  );
  if (!candidate) return graph;

  const shapes = shapesOf(graph, inputs);
  const constants = new Map<string, Tensor>(graph.initializers);
  for (const n of graph.nodes) {
    const v = n.attrs.get('value');
    if (n.opType === 'Constant' && v?.kind === 'tensor') constants.set(n.outputs[0]!, v.value);
  }
  const initializers = new Map(graph.initializers);
  const heads = new Map<string, string[]>();
  const skip = new Set<GraphNode>();
  const nodes: GraphNode[] = [];
  const node = (name: string, opType: string, ins: string[], outs: string[], attrs = new Map()): void => {
    nodes.push({ name, opType, domain: '', inputs: ins, outputs: outs, attrs });
  };

  /** Reshape [.., S, H d] -> [1, S, H, d] + Transpose to [1, H, S, d] or [1, H, d, S]. */
  const headSplit = (n: GraphNode): boolean => {
    if (n.opType !== 'Reshape') return false;
    const t = onlyReader(n.outputs[0]!);
    const xs = shapes.get(n.inputs[0]!);
    const rs = shapes.get(n.outputs[0]!);
    if (!t || t.opType !== 'Transpose' || !xs || !rs || rs.length !== 4 || rs[0] !== 1) return false;
    const [, S, H, d] = rs as [number, number, number, number];
    if (xs.length < 2 || xs[xs.length - 1] !== H * d || xs[xs.length - 2] !== S) return false;
    if (xs.slice(0, -2).some((v) => v !== 1)) return false;
    const perm = intsOf(t, 'perm');
    const keyT = same(perm, [0, 2, 3, 1]);
    if (!same(perm, [0, 2, 1, 3]) && !keyT) return false;
    const T = t.outputs[0]!;
    const names: string[] = [];
    const rank = xs.length;
    for (let h = 0; h < H; h++) {
      const name = `${T}@h${h}`;
      const base = `${t.name}@h${h}`;
      if (H > 1)
        for (const [k, v] of [
          ['starts', h * d],
          ['ends', (h + 1) * d],
          ['axes', -1],
        ] as const)
          initializers.set(`${base}/${k}`, vector(v));
      // one head is the whole activation: Q and V keep its bytes (a relabel), K^T transposes it
      const sliced = H === 1 ? n.inputs[0]! : keyT ? `${name}/cols` : name;
      if (H > 1)
        node(base, 'Slice', [n.inputs[0]!, `${base}/starts`, `${base}/ends`, `${base}/axes`], [sliced]);
      else if (!keyT) node(base, 'Identity', [sliced], [name]);
      if (keyT) {
        const p = [...Array(rank).keys()];
        [p[rank - 2], p[rank - 1]] = [p[rank - 1]!, p[rank - 2]!];
        node(`${base}/T`, 'Transpose', [sliced], [name], new Map([['perm', { kind: 'ints', value: p }]]));
      }
      names.push(name);
    }
    heads.set(T, names);
    skip.add(t);
    return true;
  };

  /** A node reading batched tensors, head by head; false when it is none of the known forms. */
  const perHead = (n: GraphNode): boolean => {
    const x = n.inputs[0]!;
    const xh = heads.get(x);
    const H = [...n.inputs].map((i) => heads.get(i)?.length).find((v) => v !== undefined)!;
    if (n.opType === 'Gather') {
      const idx = constants.get(n.inputs[1] ?? '');
      const xs = shapes.get(x);
      const a = n.attrs.get('axis');
      const axis = a?.kind === 'int' ? a.value : 0;
      if (!xh || !idx || idx.data.length !== 1 || idx.shape.length !== 0 || !xs) return false;
      if ((axis < 0 ? axis + xs.length : axis) !== 1) return false;
      const i = idx.data[0]! < 0 ? idx.data[0]! + H : idx.data[0]!;
      if (!xh[i]) return false;
      node(n.name, 'Identity', [xh[i]!], [n.outputs[0]!]);
      return true;
    }
    if (n.opType === 'Transpose') {
      // [1, H, S, d] -> [1, S, H, d] + Reshape to [.., S, H d]: the heads side by side
      const r = onlyReader(n.outputs[0]!);
      const xs = shapes.get(x);
      const ys = r ? shapes.get(r.outputs[0]!) : undefined;
      if (!xh || !r || r.opType !== 'Reshape' || !same(intsOf(n, 'perm'), [0, 2, 1, 3])) return false;
      if (!xs || !ys || ys[ys.length - 1] !== xs[1]! * xs[3]! || ys[ys.length - 2] !== xs[2]) return false;
      if (ys.slice(0, -2).some((v) => v !== 1)) return false;
      node(n.name, 'Concat', xh, [r.outputs[0]!], new Map([['axis', { kind: 'int', value: -1 }]]));
      skip.add(r);
      return true;
    }
    if (n.opType !== 'MatMul' && !ROW_OPS.has(n.opType)) return false;
    // every other input: the same number of heads, or a constant that broadcasts along rows only
    for (const i of n.inputs) {
      if (i === '') continue;
      const hs = heads.get(i);
      if (hs) {
        if (hs.length !== H) return false;
        continue;
      }
      const c = constants.get(i);
      if (n.opType === 'MatMul' || !c) return false;
      if (c.shape.slice(0, -1).some((v) => v !== 1)) return false;
    }
    for (const o of n.outputs)
      heads.set(
        o,
        Array.from({ length: H }, (_, h) => `${o}@h${h}`),
      );
    for (let h = 0; h < H; h++)
      nodes.push({
        ...n,
        name: `${n.name}@h${h}`,
        inputs: n.inputs.map((i) => heads.get(i)?.[h] ?? i),
        outputs: n.outputs.map((o) => `${o}@h${h}`),
      });
    return true;
  };

  const order = topoSort(graph, new Set([...graph.initializers.keys(), ...graph.inputs.map((i) => i.name)]));
  for (const n of order) {
    if (skip.has(n)) continue;
    if (n.inputs.some((i) => heads.has(i))) {
      if (!perHead(n)) return graph;
    } else if (!headSplit(n)) nodes.push(n);
  }
  if (graph.outputs.some((o) => heads.has(o.name))) return graph;
  return { ...graph, nodes, initializers };
}
