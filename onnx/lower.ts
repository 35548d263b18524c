/**
 * Graph rewrites Deeploy applies before it generates code, where they change what is computed:
 * a `TrueIntegerDiv` by a constant followed by a `RequantShift` with a scalar factor and a zero
 * offset becomes one `RequantShift` whose factor absorbs the division:
 *
 *   mul' = mul * floor(Delta * eta / (y * eta + eps)) * 2^8,   div' = div * 2^8
 *
 * (Deeploy has no kernel for a lone TrueIntegerDiv; the executor refuses one.)
 */
import type { Graph, GraphNode } from './model.ts';
import type { Tensor } from './tensor.ts';

const STRETCH = 2 ** 8;

function scalarAttr(n: GraphNode, name: string): number | undefined {
  const a = n.attrs.get(name);
  if (!a) return undefined;
  if (a.kind === 'int' || a.kind === 'float') return a.value;
  if (a.kind === 'tensor' && a.value.data.length === 1) return a.value.data[0];
  return undefined;
}

/** Returns a graph with the fusions applied (the input graph is not changed). */
export function lowerGraph(graph: Graph): Graph {
  const consumers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const initializers = new Map(graph.initializers);
  const drop = new Set<GraphNode>();
  const replace = new Map<GraphNode, GraphNode>();
  for (const div of graph.nodes) {
    if (div.opType !== 'TrueIntegerDiv') continue;
    const out = div.outputs[0]!;
    const next = consumers.get(out);
    if (!next || next.length !== 1 || outputs.has(out)) continue;
    const rq = next[0]!;
    if (rq.opType !== 'RequantShift' || rq.inputs[0] !== out) continue;
    const mul = initializers.get(rq.inputs[1]!);
    const add = initializers.get(rq.inputs[2]!);
    const [delta, eta, eps, y, d] = ['Delta', 'eta', 'eps', 'y']
      .map((k) => scalarAttr(div, k))
      .concat(scalarAttr(rq, 'div'));
    if (!mul || !add || mul.data.length !== 1 || add.data.length !== 1 || add.data[0] !== 0) continue;
    if ([delta, eta, eps, y, d].some((v) => v === undefined)) continue;
    const coeff = Math.floor((delta! * eta!) / (y! * eta! + eps!)) * STRETCH;
    const mulName = `${rq.name}/true_div_mul`;
    const fused: Tensor = {
      shape: mul.shape,
      data: Float64Array.from([mul.data[0]! * coeff]),
      signed: false,
    };
    initializers.set(mulName, fused);
    const attrs = new Map(rq.attrs);
    attrs.set('div', { kind: 'int', value: d! * STRETCH });
    replace.set(rq, { ...rq, inputs: [div.inputs[0]!, mulName, rq.inputs[2]!], attrs });
    drop.add(div);
  }
  if (drop.size === 0) return graph;
  return {
    ...graph,
    initializers,
    nodes: graph.nodes.filter((n) => !drop.has(n)).map((n) => replace.get(n) ?? n),
  };
}
