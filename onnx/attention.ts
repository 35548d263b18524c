/**
 * Recognises attention blocks in an integer graph and maps them onto ITA's steps.
 *
 * The pattern, anchored at an ITA softmax node (ITAPartialMax or ITAMax):
 *
 *   x_q -> MatMul(Wq) [-> Add(bq)] -> RequantShift -> Reshape/Transpose* -> Q  (B x H x S x P)
 *   x_k -> MatMul(Wk) [-> Add(bk)] -> RequantShift -> Reshape/Transpose* -> K^T (B x H x P x S)
 *   x_v -> MatMul(Wv) [-> Add(bv)] -> RequantShift -> Reshape/Transpose* -> V  (B x H x S x P)
 *   MatMul(Q, K^T) -> RequantShift -> softmax -> MatMul(., V) -> RequantShift -> O (B x H x S x P)
 *   per head h: Gather(O, axis 1, h) -> MatMul(Wo_h) [-> Add(bo_h)] -> RequantShift -> Out_h
 *   head sum: Add chain over Out_h (H > 1)
 *
 * Each RequantShift becomes an ITA requantiser step (mult = mul, shift = log2(div),
 * add = add / div); where that is not exact (per-channel constants, an add that is not a multiple
 * of div, a factor beyond 8 bits, ...) the block lists the reason. `checkAttention` runs the mapped
 * ITA computation (rtl-model/ref) and compares every step with the graph's tensors.
 */
import type { ItaInputs, RequantTable } from '../golden/types.ts';
import { computeOutputs } from '../rtl-model/ref/ita.ts';
import type { Requant } from '../rtl-model/ref/requant.ts';
import type { TensorMatch } from './compare.ts';
import type { ItaAttention, ItaHead } from './ita-attention.ts';
import { runItaAttention } from './ita-attention.ts';
import type { Graph, GraphNode } from './model.ts';
import type { SoftmaxVariant } from './ops/context.ts';
import type { Tensor, TensorData } from './tensor.ts';
import { shapeStr, transpose } from './tensor.ts';

export interface AttentionBlock {
  /** The softmax node the block was found from. */
  softmax: string;
  H: number;
  S: number;
  E: number;
  P: number;
  /** Graph tensors feeding the Q, K and V projections. */
  inputs: { q: string; k: string; v: string };
  /** Graph tensors of each ITA step, in the graph's layout. */
  steps: {
    Q: string;
    KT: string;
    V: string;
    A: string;
    A_soft: string;
    O: string;
    Out: string[];
    sum: string | undefined;
  };
  /** Whether the head outputs are stacked in one B x H x S x E tensor (a batched projection). */
  stacked: boolean;
  spec: ItaAttention;
  /** Nodes the block covers. */
  nodes: string[];
  /** Why the mapping onto ITA is not exact (empty when it is). */
  issues: string[];
}

class Index {
  readonly producer = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  constructor(readonly graph: Graph) {
    for (const n of graph.nodes) {
      for (const o of n.outputs) this.producer.set(o, n);
      for (const i of n.inputs) {
        const l = this.consumers.get(i) ?? [];
        l.push(n);
        this.consumers.set(i, l);
      }
    }
  }
  constant(name: string): Tensor | undefined {
    const t = this.graph.initializers.get(name);
    if (t) return t;
    const p = this.producer.get(name);
    if (p?.opType === 'Constant') {
      const a = p.attrs.get('value');
      if (a?.kind === 'tensor') return a.value;
    }
    return undefined;
  }
}

class NoMatch extends Error {}

function expect(cond: unknown, why: string): asserts cond {
  if (!cond) throw new NoMatch(why);
}

function attrInt(n: GraphNode, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  if (!a) return dflt;
  if (a.kind === 'int' || a.kind === 'float') return a.value;
  if (a.kind === 'tensor' && a.value.data.length === 1) return a.value.data[0]!;
  return NaN;
}

/** An ONNX RequantShift as an ITA requantiser step, with the reasons it is not exact. */
function requantOf(ix: Index, n: GraphNode, step: string, issues: string[]): Requant {
  const mul = ix.constant(n.inputs[1]!);
  const add = ix.constant(n.inputs[2]!);
  const div = attrInt(n, 'div', NaN);
  const shift = Math.log2(div);
  const nLevels = n.attrs.has('n_levels') ? attrInt(n, 'n_levels', NaN) : attrInt(n, 'n_levels_out', NaN);
  const note = (why: string): void => void issues.push(`${step} (${n.name}): ${why}`);
  if (!mul || !add) {
    note('mul/add are not constants');
    return { mult: 0, shift: 0, add: 0 };
  }
  if (mul.data.length !== 1 || add.data.length !== 1)
    note(`per-element constants ${shapeStr(mul.shape)} (ITA has one per head)`);
  const m = mul.data[0]!;
  const a = add.data[0]!;
  if (!Number.isInteger(shift) || shift < 0 || shift > 31)
    note(`div ${div} is not a power of two up to 2^31`);
  if (m < 0 || m > 255) note(`mul ${m} does not fit ITA's 8-bit unsigned factor`);
  if (a % div !== 0) note(`add ${a} is not a multiple of div ${div} (ITA adds after the shift)`);
  const itaAdd = Math.floor(a / div);
  if (itaAdd < -128 || itaAdd > 127) note(`add / div = ${itaAdd} does not fit ITA's int8 add`);
  if (nLevels !== 256 || attrInt(n, 'signed', 1) !== 1) note('output is not signed 8-bit');
  return { mult: m, shift: Number.isInteger(shift) ? shift : 0, add: itaAdd };
}

interface Projection {
  input: string;
  weight: Tensor;
  bias: Tensor | undefined;
  rq: GraphNode;
  nodes: GraphNode[];
}

/** Walks back from an attention operand through Reshape/Transpose to its projection. */
function projectionOf(ix: Index, tensor: string): Projection {
  const nodes: GraphNode[] = [];
  let p = ix.producer.get(tensor);
  while (p && (p.opType === 'Reshape' || p.opType === 'Transpose')) {
    nodes.push(p);
    p = ix.producer.get(p.inputs[0]!);
  }
  expect(p?.opType === 'RequantShift', 'no RequantShift before the attention operand');
  const rq = p;
  nodes.push(rq);
  let q = ix.producer.get(rq.inputs[0]!);
  let bias: Tensor | undefined;
  if (q?.opType === 'Add') {
    const [a, b] = q.inputs as [string, string];
    const ca = ix.constant(a);
    const cb = ix.constant(b);
    bias = ca ?? cb;
    expect(bias, 'projection bias is not a constant');
    nodes.push(q);
    q = ix.producer.get(ca ? b : a);
  }
  expect(q?.opType === 'MatMul', 'no MatMul projection');
  const weight = ix.constant(q.inputs[1]!);
  expect(weight && weight.shape.length === 2, 'projection weight is not a constant matrix');
  nodes.push(q);
  return { input: q.inputs[0]!, weight, bias, rq, nodes };
}

function only<T>(l: T[] | undefined, why: string): T {
  expect(l && l.length === 1, why);
  return l[0]!;
}

/** Columns [c0, c0 + n) of a rows x cols matrix. */
function columns(t: Tensor, c0: number, n: number): Int32Array {
  const [rows, cols] = t.shape as [number, number];
  const out = new Int32Array(rows * n);
  for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) out[r * n + c] = t.data[r * cols + c0 + c]!;
  return out;
}

function sliceOf(t: Tensor | undefined, c0: number, n: number): Int32Array | undefined {
  return t ? Int32Array.from(t.data.subarray(c0, c0 + n)) : undefined;
}

function matchAt(ix: Index, sm: GraphNode): AttentionBlock {
  const issues: string[] = [];
  const nodes: GraphNode[] = [sm];
  const rqA = ix.producer.get(sm.inputs[0]!);
  expect(rqA?.opType === 'RequantShift', 'no RequantShift before the softmax');
  const mmA = ix.producer.get(rqA.inputs[0]!);
  expect(mmA?.opType === 'MatMul', 'no Q K^T MatMul');
  nodes.push(rqA, mmA);
  const [qT, kT] = mmA.inputs as [string, string];
  const pq = projectionOf(ix, qT);
  const pk = projectionOf(ix, kT);
  const mmO = only(ix.consumers.get(sm.outputs[0]!), 'the softmax feeds more than one node');
  expect(mmO.opType === 'MatMul' && mmO.inputs[0] === sm.outputs[0], 'no A x V MatMul');
  const vT = mmO.inputs[1]!;
  const pv = projectionOf(ix, vT);
  const rqO = only(ix.consumers.get(mmO.outputs[0]!), 'A x V feeds more than one node');
  expect(rqO.opType === 'RequantShift', 'no RequantShift after A x V');
  nodes.push(mmO, rqO, ...pq.nodes, ...pk.nodes, ...pv.nodes);

  // Dimensions from the weights: Wq is E x (H P).
  const E = pq.weight.shape[0]!;
  const HP = pq.weight.shape[1]!;
  const after = ix.consumers.get(rqO.outputs[0]!) ?? [];
  const heads = after.filter((n) => n.opType === 'Gather');
  const outs: { h: number; proj: Projection; out: string }[] = [];
  let H: number;
  let P: number;
  let stacked = false;
  let sum: string | undefined;
  if (heads.length > 0) {
    // One Gather per head, each with its own projection, summed by an Add chain.
    H = heads.length;
    expect(HP % H === 0, `projection width ${HP} is not a multiple of ${H} heads`);
    P = HP / H;
    for (const g of heads) {
      const idx = ix.constant(g.inputs[1]!);
      expect(
        attrInt(g, 'axis', 0) === 1 && idx && idx.data.length === 1,
        'head Gather is not a single index on axis 1',
      );
      const h = idx.data[0]!;
      const mm = only(ix.consumers.get(g.outputs[0]!), 'a head feeds more than one node');
      let tail = only(ix.consumers.get(mm.outputs[0]!), 'a head projection feeds more than one node');
      let bias: Tensor | undefined;
      const chain: GraphNode[] = [g, mm];
      if (tail.opType === 'Add') {
        bias = ix.constant(tail.inputs[0] === mm.outputs[0] ? tail.inputs[1]! : tail.inputs[0]!);
        expect(bias, 'output projection bias is not a constant');
        chain.push(tail);
        tail = only(ix.consumers.get(tail.outputs[0]!), 'a head projection feeds more than one node');
      }
      expect(
        mm.opType === 'MatMul' && tail.opType === 'RequantShift',
        'no output projection MatMul + RequantShift',
      );
      const weight = ix.constant(mm.inputs[1]!);
      expect(
        weight && weight.shape[0] === P && weight.shape[1] === E,
        'output projection weight is not P x E',
      );
      chain.push(tail);
      nodes.push(...chain);
      outs.push({
        h,
        proj: { input: g.outputs[0]!, weight, bias, rq: tail, nodes: chain },
        out: tail.outputs[0]!,
      });
    }
    outs.sort((a, b) => a.h - b.h);
    expect(
      outs.every((o, i) => o.h === i),
      'head indices are not 0..H-1',
    );

    // Head sum: Add nodes that only combine head outputs and earlier sums.
    if (H > 1) {
      const summed = new Set(outs.map((o) => o.out));
      let added = 0;
      for (let progress = true; progress;) {
        progress = false;
        for (const o of [...summed]) {
          for (const n of ix.consumers.get(o) ?? []) {
            if (n.opType === 'Add' && !summed.has(n.outputs[0]!) && n.inputs.every((i) => summed.has(i))) {
              summed.add(n.outputs[0]!);
              nodes.push(n);
              sum = n.outputs[0];
              added++;
              progress = true;
            }
          }
        }
      }
      expect(added === H - 1, `the ${H} head outputs are not summed by an Add chain`);
    }
  } else {
    // One batched projection: O (B x H x S x P) times Wo (H x P x E), then ReduceSum over heads.
    const mm = only(after, 'no per-head Gather or batched projection after the attention output');
    const w = ix.constant(mm.inputs[1]!);
    expect(
      mm.opType === 'MatMul' && w && w.shape.length === 3 && w.shape[2] === E,
      'no batched H x P x E output projection',
    );
    H = w.shape[0]!;
    P = w.shape[1]!;
    expect(
      H * P === HP,
      `output projection ${shapeStr(w.shape)} does not match the ${HP}-wide Q, K, V projections`,
    );
    let tail = only(ix.consumers.get(mm.outputs[0]!), 'the output projection feeds more than one node');
    let bias: Tensor | undefined;
    const chain: GraphNode[] = [mm];
    if (tail.opType === 'Add') {
      bias = ix.constant(tail.inputs[0] === mm.outputs[0] ? tail.inputs[1]! : tail.inputs[0]!);
      expect(
        bias && (bias.data.length === E || bias.data.length === H * E),
        'output projection bias is not E or H x E constants',
      );
      chain.push(tail);
      tail = only(ix.consumers.get(tail.outputs[0]!), 'the output projection feeds more than one node');
    }
    expect(tail.opType === 'RequantShift', 'no RequantShift after the output projection');
    chain.push(tail);
    nodes.push(...chain);
    stacked = true;
    for (let h = 0; h < H; h++) {
      const weight: Tensor = {
        shape: [P, E],
        data: w.data.subarray(h * P * E, (h + 1) * P * E),
        signed: true,
      };
      const b =
        bias && bias.data.length === H * E ? { ...bias, data: bias.data.subarray(h * E, (h + 1) * E) } : bias;
      outs.push({
        h,
        proj: { input: rqO.outputs[0]!, weight, bias: b, rq: tail, nodes: chain },
        out: tail.outputs[0]!,
      });
    }
    const rs = ix.consumers.get(tail.outputs[0]!);
    const axes = rs?.[0]?.attrs.get('axes');
    if (
      rs?.length === 1 &&
      rs[0]!.opType === 'ReduceSum' &&
      axes?.kind === 'ints' &&
      axes.value.join() === '1'
    ) {
      nodes.push(rs[0]!);
      sum = rs[0]!.outputs[0];
    }
  }
  for (const w of [pk.weight, pv.weight])
    expect(w.shape[0] === E && w.shape[1] === HP, 'Q, K, V weights differ in shape');
  if (pk.input !== pv.input)
    issues.push('K and V projections read different tensors (ITA computes V from the K input)');
  const S = ((): number => {
    const t = (ix.graph.valueInfo.get(pq.input) ?? ix.graph.inputs.find((i) => i.name === pq.input))?.shape;
    return t && t.length >= 2 && t[t.length - 2] !== undefined ? t[t.length - 2]! : NaN;
  })();

  const headSpecs: ItaHead[] = outs.map(({ h, proj }) => ({
    wq: columns(pq.weight, h * P, P),
    wk: columns(pk.weight, h * P, P),
    wv: columns(pv.weight, h * P, P),
    wo: Int32Array.from(proj.weight.data),
    bq: sliceOf(pq.bias, h * P, P),
    bk: sliceOf(pk.bias, h * P, P),
    bv: sliceOf(pv.bias, h * P, P),
    bo: proj.bias ? Int32Array.from(proj.bias.data) : undefined,
    rq: {
      q: requantOf(ix, pq.rq, 'Q', issues),
      k: requantOf(ix, pk.rq, 'K', issues),
      v: requantOf(ix, pv.rq, 'V', issues),
      qk: requantOf(ix, rqA, 'QK', issues),
      av: requantOf(ix, rqO, 'AV', issues),
      ow: requantOf(ix, proj.rq, `OW[${h}]`, issues),
    },
  }));
  for (const [b, what] of [
    [pq.bias, 'Q'],
    [pk.bias, 'K'],
    [pv.bias, 'V'],
  ] as const) {
    if (b && b.data.length !== HP)
      issues.push(`${what} bias ${shapeStr(b.shape)} is not one value per column`);
  }
  return {
    softmax: sm.name,
    H,
    S,
    E,
    P,
    inputs: { q: pq.input, k: pk.input, v: pv.input },
    steps: {
      Q: qT,
      KT: kT,
      V: vT,
      A: rqA.outputs[0]!,
      A_soft: sm.outputs[0]!,
      O: rqO.outputs[0]!,
      Out: outs.map((o) => o.out),
      sum,
    },
    stacked,
    spec: {
      S,
      E,
      P,
      heads: headSpecs,
      softmax: {
        op: sm.opType === 'ITAMax' ? 'ITAMax' : 'ITAPartialMax',
        groupWidth: attrInt(sm, 'group_width', 16),
        nLevels: attrInt(sm, 'n_levels', 256),
      },
    },
    nodes: [...new Set(nodes.map((n) => n.name))],
    issues: [...new Set(issues)],
  };
}

export interface AttentionSearch {
  blocks: AttentionBlock[];
  /** Softmax nodes that did not match, with the reason. */
  unmatched: { softmax: string; reason: string }[];
}

/** Finds every attention block anchored at an ITA softmax node. */
export function findAttention(graph: Graph): AttentionSearch {
  const ix = new Index(graph);
  const r: AttentionSearch = { blocks: [], unmatched: [] };
  for (const n of graph.nodes) {
    if (n.opType !== 'ITAPartialMax' && n.opType !== 'ITAMax') continue;
    try {
      r.blocks.push(matchAt(ix, n));
    } catch (e) {
      if (!(e instanceof NoMatch)) throw e;
      r.unmatched.push({ softmax: n.name, reason: e.message });
    }
  }
  return r;
}

/** Head h of batch 0 of a B x H x a x b tensor as a x b. */
function headOf(t: Tensor, h: number): TensorData {
  const n = t.shape[t.shape.length - 1]! * t.shape[t.shape.length - 2]!;
  return t.data.subarray(h * n, (h + 1) * n);
}

function compareArrays(
  name: string,
  reference: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
): TensorMatch {
  let bad = 0;
  let first = -1;
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) {
    if (got[i] !== want[i]) {
      bad++;
      if (first < 0) first = i;
    }
  }
  const detail =
    got.length !== want.length
      ? `${got.length} vs ${want.length} values`
      : first >= 0
        ? `first at ${first}: ITA ${got[first]} vs graph ${want[first]}`
        : '';
  return { name, reference, elements: n, mismatches: bad, detail };
}

/**
 * The block as one ITA attention case (batch 0 of the graph's tensors), in the form the ITA
 * reference and the cycle-level model take. ITA reads V from the K input, so the graph must feed
 * the K and V projections from one tensor. The feed-forward part is unused (F = 64, all zero), and
 * the head-sum step, a plain Add in the graph, gets neutral constants.
 */
export function toItaInputs(block: AttentionBlock, tensors: Map<string, Tensor>): ItaInputs {
  if (block.inputs.k !== block.inputs.v)
    throw new Error('ITA computes V from the K input; the block reads two tensors');
  const q = tensors.get(block.inputs.q);
  const k = tensors.get(block.inputs.k);
  if (!q || !k) throw new Error('the attention inputs were not computed');
  const { H, E, P } = block;
  const S = q.shape[q.shape.length - 2]!;
  const F = 64;
  const heads = block.spec.heads;
  const t = (shape: number[], data: ArrayLike<number>) => ({ shape, data: Int32Array.from(data) });
  const cat = (pick: (h: ItaHead) => Int32Array | undefined, n: number) =>
    heads.flatMap((h) => Array.from(pick(h) ?? new Int32Array(n)));
  const steps = ['q', 'k', 'v', 'qk', 'av', 'ow'] as const;
  const table = (f: (r: Requant) => number, sum: number): number[][] => [
    ...steps.map((st) => heads.map((h) => f(h.rq[st]))),
    heads.map(() => sum),
  ];
  const rqsAttn: RequantTable = {
    mult: table((r) => r.mult, 1),
    shift: table((r) => r.shift, 0),
    add: table((r) => r.add, 0),
  };
  const zero = (n: number) => new Int32Array(n);
  return {
    params: { S, E, P, F, H, activation: 'identity', bias: heads.some((h) => h.bq || h.bk || h.bv || h.bo) },
    Q: t([S, E], q.data.subarray(0, S * E)),
    K: t([S, E], k.data.subarray(0, S * E)),
    Wq: t(
      [H, E, P],
      cat((h) => h.wq, E * P),
    ),
    Wk: t(
      [H, E, P],
      cat((h) => h.wk, E * P),
    ),
    Wv: t(
      [H, E, P],
      cat((h) => h.wv, E * P),
    ),
    Wo: t(
      [H, P, E],
      cat((h) => h.wo, P * E),
    ),
    Bq: t(
      [H, P],
      cat((h) => h.bq, P),
    ),
    Bk: t(
      [H, P],
      cat((h) => h.bk, P),
    ),
    Bv: t(
      [H, P],
      cat((h) => h.bv, P),
    ),
    Bo: t(
      [H, E],
      cat((h) => h.bo, E),
    ),
    FF: t([S, E], zero(S * E)),
    Wff: t([1, E, F], zero(E * F)),
    Wff2: t([1, F, E], zero(F * E)),
    Bff: t([1, F], zero(F)),
    Bff2: t([1, E], zero(E)),
    preactivation: t([S, F], zero(S * F)),
    rqsAttn,
    rqsFfn: { mult: [[1], [1]], shift: [[0], [0]], add: [[0], [0]] },
    gelu: { one: 0, b: 0, c: 0, rqsMul: 1, rqsShift: 0, rqsAdd: 0 },
  };
}

/**
 * Runs the block's ITA mapping (batch 0) on the graph's own input tensors and compares each step
 * with the graph's tensors from a run with the same softmax variant.
 */
export function checkAttention(
  block: AttentionBlock,
  tensors: Map<string, Tensor>,
  variant: SoftmaxVariant,
): TensorMatch[] {
  const get = (n: string): Tensor => {
    const t = tensors.get(n);
    if (!t) throw new Error(`tensor ${n} was not computed`);
    return t;
  };
  const q = get(block.inputs.q);
  const S = q.shape[q.shape.length - 2]!;
  const E = block.E;
  const part = (t: Tensor): Int32Array => Int32Array.from(t.data.subarray(0, S * E));
  const spec = { ...block.spec, S };
  const r = runItaAttention(spec, part(q), part(get(block.inputs.k)), part(get(block.inputs.v)), variant);
  if (variant === 'rtl' && block.inputs.k === block.inputs.v) {
    // The RTL variant goes through the ITA reference itself (rtl-model/ref/ita.ts).
    const o = computeOutputs(toItaInputs(block, tensors));
    const per = (x: { data: Int32Array }, n: number): Int32Array[] =>
      block.spec.heads.map((_, h) => x.data.subarray(h * n, (h + 1) * n));
    Object.assign(r, {
      Qp: per(o.Qp, S * block.P),
      Kp: per(o.Kp, S * block.P),
      Vp: per(o.Vp, S * block.P),
      A: per(o.A, S * S),
      A_soft: per(o.A_soft, S * S),
      O_soft: per(o.O_soft, S * block.P),
      Out_soft: per(o.Out_soft, S * E),
    });
  }
  const rows: TensorMatch[] = [];
  const st = block.steps;
  const kT = get(st.KT);
  // K^T in the graph is B x H x P x S; ITA's Kp is S x P per head.
  const k = transpose(
    { shape: [block.H, block.P, S], data: kT.data.subarray(0, block.H * block.P * S), signed: true },
    [0, 2, 1],
  );
  for (let h = 0; h < block.H; h++) {
    const tag = block.H > 1 ? `[${h}]` : '';
    rows.push(compareArrays(`Q${tag}`, st.Q, r.Qp[h]!, headOf(get(st.Q), h)));
    rows.push(compareArrays(`K${tag}`, st.KT, r.Kp[h]!, headOf(k, h)));
    rows.push(compareArrays(`V${tag}`, st.V, r.Vp[h]!, headOf(get(st.V), h)));
    rows.push(compareArrays(`QK${tag}`, st.A, r.A[h]!, headOf(get(st.A), h)));
    rows.push(compareArrays(`softmax${tag}`, st.A_soft, r.A_soft[h]!, headOf(get(st.A_soft), h)));
    rows.push(compareArrays(`AV${tag}`, st.O, r.O_soft[h]!, headOf(get(st.O), h)));
    const out = block.stacked ? headOf(get(st.Out[h]!), h) : get(st.Out[h]!).data.subarray(0, S * E);
    rows.push(compareArrays(`OW${tag}`, st.Out[h]!, r.Out_soft[h]!, out));
  }
  if (st.sum) rows.push(compareArrays('head sum', st.sum, r.sum, get(st.sum).data.subarray(0, S * E)));
  return rows;
}
