/**
 * The integer graph executor: a table of op handlers (one small definition per op, in `ops/`)
 * and a loop that runs the nodes in dependency order, keeping every tensor by name.
 */
import { InputError } from '../rtl-model/errors.ts';
import type { Graph, GraphNode } from './model.ts';
import type { NpyArray } from './npz.ts';
import type { OpDef, SoftmaxVariant } from './ops/context.ts';
import { OpContext, UnsupportedError } from './ops/context.ts';
import { lowerGraph } from './lower.ts';
import { linearOps } from './ops/linear.ts';
import { itaOps } from './ops/ita.ts';
import { mhsaOps } from './ops/mhsa.ts';
import { quantOps } from './ops/quant.ts';
import { shapeOps } from './ops/shape.ts';
import { softmaxOps } from './ops/softmax.ts';
import type { Tensor } from './tensor.ts';
import { sameShape, shapeStr, sizeOf } from './tensor.ts';

/** Every op the executor runs, by ONNX op type. */
export const OPS: Readonly<Record<string, OpDef>> = {
  ...linearOps,
  ...shapeOps,
  ...quantOps,
  ...softmaxOps,
  ...mhsaOps,
  ...itaOps,
  TrueIntegerDiv: {
    attrs: ['Delta', 'eps', 'eta', 'y'],
    run: (ctx) =>
      ctx.refuse(
        'supported only when followed by a RequantShift with a scalar mul and a zero add (the two are fused, as in Deeploy)',
      ),
  },
};

export interface RunOptions {
  softmax?: SoftmaxVariant;
  /** Called before each node runs (progress). */
  onNode?: (index: number, total: number, node: GraphNode) => void;
  /**
   * Called for each node output that is not a graph output once the last node reading it has run
   * (at once for an output no node reads), with the node that produced it: the tensor is replaced
   * in `tensors` by what the call returns (the same tensor keeps it, a smaller one frees its values).
   * Without it every tensor is kept as computed.
   */
  release?: (name: string, t: Tensor, producer: GraphNode) => Tensor;
}

export interface RunResult {
  /** Every tensor: initialisers, inputs and each node output. */
  tensors: Map<string, Tensor>;
  /** The graph outputs, in declaration order. */
  outputs: Map<string, Tensor>;
  /** Nodes in the order they ran. */
  order: GraphNode[];
}

/**
 * Checks that every node's op and attributes are known, before anything runs. Throws an
 * UnsupportedError naming the first offending node, its op and what is missing.
 */
export function checkSupported(graph: Graph): void {
  for (const n of graph.nodes) {
    const def = OPS[n.opType];
    if (!def) throw new UnsupportedError(n.name, n.opType, `op ${n.opType} is not supported`);
    for (const a of n.attrs.keys()) {
      if (!def.attrs.includes(a))
        throw new UnsupportedError(n.name, n.opType, `attribute ${a} is not supported`);
    }
  }
}

/** Orders nodes so that each runs after the producers of its inputs. */
export function topoSort(graph: Graph, available: Set<string>): GraphNode[] {
  const have = new Set(available);
  const pending = [...graph.nodes];
  const order: GraphNode[] = [];
  while (pending.length > 0) {
    const i = pending.findIndex((n) => n.inputs.every((x) => x === '' || have.has(x)));
    if (i < 0) {
      const n = pending[0]!;
      const missing = n.inputs.find((x) => x !== '' && !have.has(x));
      throw new InputError(
        `node ${n.name} (${n.opType}): input ${missing} is neither a graph input, an initialiser nor a node output`,
      );
    }
    const n = pending.splice(i, 1)[0]!;
    order.push(n);
    for (const o of n.outputs) if (o !== '') have.add(o);
  }
  return order;
}

/** Turns an npz array into a tensor, requiring integer values. */
export function tensorFromNpy(name: string, a: NpyArray): Tensor {
  let signed = false;
  for (const v of a.data) {
    if (!Number.isInteger(v)) throw new InputError(`input ${name}: value ${v} is not an integer`);
    if (v < 0) signed = true;
  }
  return { shape: a.shape, data: a.data, signed };
}

/**
 * Matches the arrays of an inputs.npz to the graph inputs: by name when every graph input has an
 * array of its name, otherwise by position (Deeploy's test harness feeds them in order). Shapes
 * must agree where the graph declares them.
 */
export function bindInputs(graph: Graph, arrays: Map<string, NpyArray>): Map<string, Tensor> {
  const names = graph.inputs.map((i) => i.name);
  const byName = names.every((n) => arrays.has(n));
  const list = [...arrays.entries()];
  if (!byName && list.length < names.length) {
    throw new InputError(
      `the graph has ${names.length} inputs (${names.join(', ')}), the inputs file holds ${list.length} arrays`,
    );
  }
  const out = new Map<string, Tensor>();
  graph.inputs.forEach((vi, i) => {
    const [key, arr] = byName ? [vi.name, arrays.get(vi.name)!] : list[i]!;
    const t = tensorFromNpy(key, arr);
    const decl = vi.shape;
    if (decl && decl.every((d) => d !== undefined) && !sameShape(decl as number[], t.shape)) {
      if (sizeOf(decl as number[]) !== t.data.length) {
        throw new InputError(
          `input ${vi.name}: array ${key} has shape ${shapeStr(t.shape)}, the graph declares ${shapeStr(decl as number[])}`,
        );
      }
      t.shape = decl as number[];
    }
    out.set(vi.name, t);
  });
  return out;
}

/** Arrays of an inputs file that `bindInputs` leaves unused (extra arrays beyond the graph inputs). */
export function unusedArrays(graph: Graph, arrays: Map<string, NpyArray>): string[] {
  const names = graph.inputs.map((i) => i.name);
  if (names.every((n) => arrays.has(n))) return [...arrays.keys()].filter((k) => !names.includes(k));
  return [...arrays.keys()].slice(names.length);
}

/** Runs the graph on the given inputs. */
export function runGraph(given: Graph, inputs: Map<string, Tensor>, options: RunOptions = {}): RunResult {
  checkSupported(given);
  const graph = lowerGraph(given);
  const tensors = new Map<string, Tensor>(graph.initializers);
  const release = options.release;
  for (const vi of graph.inputs) {
    const t = inputs.get(vi.name);
    if (!t) throw new InputError(`graph input ${vi.name} is not given`);
    tensors.set(vi.name, t);
  }
  const order = topoSort(graph, new Set(tensors.keys()));
  const opts = { softmax: options.softmax ?? 'deeploy' };
  const checked = new Set<string>();
  // for `release`: the index of the last node reading each tensor, and its producer
  const lastUse = new Map<string, number>();
  const producer = new Map<string, GraphNode>();
  const kept = new Set(graph.outputs.map((o) => o.name));
  if (release)
    order.forEach((node, i) => {
      node.inputs.forEach((x) => lastUse.set(x, i));
      node.outputs.forEach((o) => producer.set(o, node));
    });
  const releaseAt = (name: string, i: number): void => {
    const by = producer.get(name);
    if (!by || kept.has(name) || (lastUse.get(name) ?? i) !== i) return;
    const t = tensors.get(name);
    if (t) tensors.set(name, release!(name, t, by));
    producer.delete(name);
  };
  order.forEach((node, i) => {
    options.onNode?.(i, order.length, node);
    const ins = node.inputs.map((x) => (x === '' ? undefined : tensors.get(x)));
    node.inputs.forEach((x) => {
      if (x === '' || checked.has(x) || !graph.initializers.has(x)) return;
      const bad = tensors.get(x)!.data.find((v) => !Number.isInteger(v));
      if (bad !== undefined)
        throw new UnsupportedError(
          node.name,
          node.opType,
          `initialiser ${x} holds the non-integer value ${bad}`,
        );
      checked.add(x);
    });
    const outs = OPS[node.opType]!.run(new OpContext(node, ins, opts));
    node.outputs.forEach((o, j) => {
      if (o === '') return;
      const t = outs[j];
      if (!t) throw new UnsupportedError(node.name, node.opType, `output ${j} (${o}) is not produced`);
      tensors.set(o, t);
    });
    if (release) {
      for (const x of node.inputs) if (x !== '') releaseAt(x, i);
      for (const o of node.outputs) if (o !== '') releaseAt(o, i);
    }
  });
  const outputs = new Map<string, Tensor>();
  for (const o of graph.outputs) {
    const t = tensors.get(o.name);
    if (!t) throw new InputError(`graph output ${o.name} is produced by no node`);
    outputs.set(o.name, t);
  }
  return { tensors, outputs, order };
}
