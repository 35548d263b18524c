/**
 * Multi-head attention as Deeploy's graphs write it out, with the heads as a batch axis. Heads
 * come from an S x (H d) activation reshaped to [1, S, H, d] and transposed to [1, H, S, d] (K^T:
 * [1, H, d, S]); from a [1, 1, H, d] relayout transposed to [1, H, 1, d] (the heads as rows, as
 * microLlama holds Q and K); or from a graph input [1, H, R, C] read together with batched tensors
 * (a cache of keys or values). Batched MatMuls, requantisers, softmaxes, Adds, Concats of rows and
 * Transposes within a head follow; the heads go back through a Transpose to [1, S, H, d] and a
 * Reshape to S x (H d), or one Gather per head, or leave as a graph output. `splitHeads` rewrites
 * that region head by head: each head a `Slice` (of columns, of rows, of the input), reshaped to
 * [1, 1, R, C]; each batched node H nodes of one head; the heads joined by a `Concat` of columns,
 * relabelled where a Gather picked one, or joined as rows into a batched graph output. Every value
 * is the same; the tensors are matrices, which is what the tiler maps. Head h of a batched tensor
 * `t` is named `t@h<h>`.
 *
 * The rewrite is all or nothing: when any reader of a batched tensor is not one of the forms
 * above (a reduction over the heads, a per-head constant, an op with another layout), the graph
 * is returned unchanged and the mapper refuses the node it cannot map, as before.
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
  // heads come out of a Transpose of four axes
  const candidate = graph.nodes.some((n) => n.opType === 'Transpose' && intsOf(n, 'perm')?.length === 4);
  if (!candidate) return graph;

  const shapes = shapesOf(graph, inputs);
  const constants = new Map<string, Tensor>(graph.initializers);
  for (const n of graph.nodes) {
    const v = n.attrs.get('value');
    if (n.opType === 'Constant' && v?.kind === 'tensor') constants.set(n.outputs[0]!, v.value);
  }
  const initializers = new Map(graph.initializers);
  const graphInputs = new Set(graph.inputs.map((i) => i.name));
  const heads = new Map<string, string[]>();
  /** Rank of each head's tensor (a Slice of columns keeps the activation's rank). */
  const headRank = new Map<string, number>();
  const setHeads = (t: string, names: string[], rank: number): void => {
    heads.set(t, names);
    headRank.set(t, rank);
  };
  /** A Slice of `x` on one axis, [lo, hi), named `out`. */
  const sliceNode = (base: string, x: string, axis: number, lo: number, hi: number, out: string): void => {
    for (const [k, v] of [
      ['starts', lo],
      ['ends', hi],
      ['axes', axis],
    ] as const)
      initializers.set(`${base}/${k}`, vector(v));
    node(base, 'Slice', [x, `${base}/starts`, `${base}/ends`, `${base}/axes`], [out]);
  };
  /** Heads joined back into `out` of shape `shape` (a Concat of rows, then a relabel). */
  const join = (base: string, hs: string[], out: string, shape: number[], axis = 0): void => {
    const cat = `${out}@cat`;
    node(`${base}/cat`, 'Concat', hs, [cat], new Map([['axis', { kind: 'int', value: axis }]]));
    initializers.set(`${base}/shape`, {
      shape: [shape.length],
      data: Float64Array.from(shape),
      signed: true,
    });
    node(`${base}/reshape`, 'Reshape', [cat, `${base}/shape`], [out]);
  };
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
    // every head as [1, 1, S, d] (K^T: [1, 1, d, S]), the rank of the batched tensor
    const shapeName = `${t.name}/head_shape`;
    initializers.set(shapeName, { shape: [4], data: Float64Array.from([1, 1, S, d]), signed: true });
    for (let h = 0; h < H; h++) {
      const name = `${T}@h${h}`;
      const base = `${t.name}@h${h}`;
      // one head is the whole activation: its bytes as they are (a relabel)
      const cols = H === 1 ? n.inputs[0]! : `${name}/cols`;
      if (H > 1) sliceNode(base, n.inputs[0]!, -1, h * d, (h + 1) * d, cols);
      const rows = keyT ? `${name}/rows` : name;
      node(`${base}/R`, 'Reshape', [cols, shapeName], [rows]);
      if (keyT)
        node(
          `${base}/T`,
          'Transpose',
          [rows],
          [name],
          new Map([['perm', { kind: 'ints', value: [0, 1, 3, 2] }]]),
        );
      names.push(name);
    }
    setHeads(T, names, 4);
    skip.add(t);
    return true;
  };

  /** Transpose [1, 1, H, d] -> [1, H, 1, d]: head h is row h (a relabel of the axes of size 1). */
  const rowHeads = (n: GraphNode): boolean => {
    const xs = shapes.get(n.inputs[0]!);
    if (n.opType !== 'Transpose' || !same(intsOf(n, 'perm'), [0, 2, 1, 3])) return false;
    if (!xs || xs.length !== 4 || xs[0] !== 1 || xs[1] !== 1 || xs[2]! < 2) return false;
    const T = n.outputs[0]!;
    const names = Array.from({ length: xs[2]! }, (_, h) => `${T}@h${h}`);
    names.forEach((name, h) => sliceNode(`${n.name}@h${h}`, n.inputs[0]!, 2, h, h + 1, name));
    setHeads(T, names, 4);
    return true;
  };

  /** A graph input [1, H, R, C] read with batched tensors of H heads: head h is a Slice of it. */
  const inputHeads = (t: string, H: number): boolean => {
    const xs = shapes.get(t);
    if (!graphInputs.has(t) || !xs || xs.length !== 4 || xs[0] !== 1 || xs[1] !== H) return false;
    const names = Array.from({ length: H }, (_, h) => `${t}@h${h}`);
    names.forEach((name, h) => sliceNode(`${t}@h${h}/slice`, t, 1, h, h + 1, name));
    setHeads(t, names, 4);
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
      // the head's tensor relabelled to the Gather's shape (no head axis)
      const ys = shapes.get(n.outputs[0]!);
      if (!ys) return false;
      initializers.set(`${n.name}/shape`, { shape: [ys.length], data: Float64Array.from(ys), signed: true });
      node(n.name, 'Reshape', [xh[i]!, `${n.name}/shape`], [n.outputs[0]!]);
      return true;
    }
    const merging = onlyReader(n.outputs[0]!)?.opType === 'Reshape';
    if (n.opType === 'Transpose' && same(intsOf(n, 'perm'), [0, 2, 1, 3]) && merging) {
      // [1, H, S, d] -> [1, S, H, d] + Reshape to [.., S, H d]: the heads side by side
      const r = onlyReader(n.outputs[0]!);
      const xs = shapes.get(x);
      const ys = r ? shapes.get(r.outputs[0]!) : undefined;
      if (!xh || !r) return false;
      if (!xs || !ys || ys[ys.length - 1] !== xs[1]! * xs[3]! || ys[ys.length - 2] !== xs[2]) return false;
      if (ys.slice(0, -2).some((v) => v !== 1)) return false;
      // each head's rows as they are, side by side: a Concat of columns, relabelled
      const cat = `${r.outputs[0]!}@cat`;
      node(n.name, 'Concat', xh, [cat], new Map([['axis', { kind: 'int', value: -1 }]]));
      initializers.set(`${n.name}/shape`, { shape: [ys.length], data: Float64Array.from(ys), signed: true });
      node(`${n.name}/reshape`, 'Reshape', [cat, `${n.name}/shape`], [r.outputs[0]!]);
      skip.add(r);
      return true;
    }
    const rank = Math.max(...n.inputs.map((i) => headRank.get(i) ?? 0));
    const attrs = new Map(n.attrs);
    if (n.opType === 'Transpose' || n.opType === 'Concat') {
      // the head axis (1) stays where it is; each head's tensor lacks it when its rank is 3
      const xs = shapes.get(x);
      if (!xs || xs.length !== 4) return false;
      const drop = 4 - rank;
      if (n.opType === 'Transpose') {
        const p = intsOf(n, 'perm');
        if (!p || p[0] !== 0 || p[1] !== 1) return false;
        attrs.set('perm', {
          kind: 'ints',
          value: [...Array(2 - drop).keys(), ...p.slice(2).map((v) => v - drop)],
        });
      } else {
        const a = n.attrs.get('axis');
        const ax = a?.kind === 'int' ? (a.value < 0 ? a.value + 4 : a.value) : -1;
        if (ax < 2) return false;
        attrs.set('axis', { kind: 'int', value: ax - drop });
      }
    } else if (n.opType !== 'MatMul' && !ROW_OPS.has(n.opType)) return false;
    // every other input: the same number of heads (a graph input [1, H, R, C] is split here), or
    // a constant or an activation without the head axis, which broadcasts to every head alike
    for (const i of n.inputs) {
      if (i === '') continue;
      const hs = heads.get(i);
      if (hs) {
        if (hs.length !== H) return false;
        continue;
      }
      if (inputHeads(i, H)) continue;
      const sh = constants.get(i)?.shape ?? shapes.get(i);
      if (n.opType === 'MatMul' || n.opType === 'Concat' || !sh) return false;
      if (sh.slice(0, -1).some((v) => v !== 1)) return false;
    }
    for (const o of n.outputs)
      setHeads(
        o,
        Array.from({ length: H }, (_, h) => `${o}@h${h}`),
        rank,
      );
    for (let h = 0; h < H; h++)
      nodes.push({
        ...n,
        attrs,
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
    } else if (!headSplit(n) && !rowHeads(n)) nodes.push(n);
  }
  if (heads.size === 0) return graph;
  // a graph output with the head axis: its heads joined back (rows one after the other)
  for (const o of graph.outputs) {
    const hs = heads.get(o.name);
    const sh = shapes.get(o.name);
    if (!hs) continue;
    if (!sh) return graph;
    join(`${o.name}@join`, hs, o.name, sh);
  }
  return { ...graph, nodes, initializers };
}
