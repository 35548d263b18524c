/**
 * Loading (writer -> protobuf -> loader), npz files, the fused MHSA node, attention recognition
 * with its ITA mapping, refusals, and the `itasim onnx` command line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAttention, findAttention } from '../../onnx/attention.ts';
import { matchActivations } from '../../onnx/compare.ts';
import { runGraph } from '../../onnx/executor.ts';
import { parseModel } from '../../onnx/model.ts';
import { encodeNpy, encodeNpz, parseNpy, parseNpz } from '../../onnx/npz.ts';
import type { SoftmaxVariant } from '../../onnx/ops/context.ts';
import type { GraphSpec, NodeSpec } from '../../onnx/writer.ts';
import { attr, buildModel } from '../../onnx/writer.ts';
import { c, f, runOp, runSpec, vals } from './helpers.ts';

describe('loader and writer', () => {
  it('round-trips initialisers of every storage form, attributes, shapes and value infos', () => {
    const g = parseModel(
      buildModel({
        inputs: [{ name: 'x', shape: [1, 3] }],
        outputs: [{ name: 'y', shape: [1, 3], type: 'int32' }],
        valueInfo: [{ name: 'h', shape: [1, 3] }],
        initializers: {
          wf: c([3], [1, -2, 3]),
          w8: c([2], [-128, 127], 'int8'),
          w32: c([1, 2], [2 ** 31 - 1, -(2 ** 31)], 'int32'),
          w64: c([2], [2 ** 40, -5], 'int64'),
        },
        nodes: [
          {
            op: 'Foo',
            name: 'n',
            domain: 'PACTOps',
            inputs: ['x', 'wf'],
            outputs: ['h'],
            attrs: {
              i: attr.int(-7),
              fl: attr.float(0.5),
              s: attr.string('NOTSET'),
              is: attr.ints([1, 2]),
              t: attr.tensor(256),
            },
          },
        ],
      }),
    );
    expect(g.inputs.map((i) => [i.name, i.shape])).toEqual([['x', [1, 3]]]);
    expect(g.outputs[0]!.elemType).toBe(6);
    expect(g.valueInfo.get('h')!.shape).toEqual([1, 3]);
    expect(Array.from(g.initializers.get('wf')!.data)).toEqual([1, -2, 3]);
    expect(Array.from(g.initializers.get('w8')!.data)).toEqual([-128, 127]);
    expect(g.initializers.get('w32')!.shape).toEqual([1, 2]);
    expect(Array.from(g.initializers.get('w32')!.data)).toEqual([2 ** 31 - 1, -(2 ** 31)]);
    expect(Array.from(g.initializers.get('w64')!.data)).toEqual([2 ** 40, -5]);
    const n = g.nodes[0]!;
    expect([n.opType, n.domain, n.inputs, n.outputs]).toEqual(['Foo', 'PACTOps', ['x', 'wf'], ['h']]);
    expect(n.attrs.get('i')).toEqual({ kind: 'int', value: -7 });
    expect(n.attrs.get('fl')).toEqual({ kind: 'float', value: 0.5 });
    expect(n.attrs.get('s')).toEqual({ kind: 'string', value: 'NOTSET' });
    expect(n.attrs.get('is')).toEqual({ kind: 'ints', value: [1, 2] });
    const t = n.attrs.get('t');
    expect(t?.kind === 'tensor' && Array.from(t.value.data)).toEqual([256]);
  });
  it('rejects bytes that are not a model', () => {
    expect(() => parseModel(new Uint8Array([0xff, 0xff, 0xff]), 'bad.onnx')).toThrow(
      /^bad.onnx: not an ONNX model/,
    );
  });
});

describe('npy / npz', () => {
  it('round-trips int64 arrays and reads int8, float32 and Fortran order', () => {
    const z = parseNpz(
      encodeNpz(
        new Map([['a/b', { shape: [2, 2], data: Float64Array.from([1, -2, 3, 2 ** 40]), signed: true }]]),
      ),
    );
    expect([...z.keys()]).toEqual(['a/b']);
    expect([z.get('a/b')!.shape, Array.from(z.get('a/b')!.data)]).toEqual([
      [2, 2],
      [1, -2, 3, 2 ** 40],
    ]);
    expect(Array.from(parseNpy(encodeNpy([3], [-128, 0, 127], '|i1')).data)).toEqual([-128, 0, 127]);
    expect(Array.from(parseNpy(encodeNpy([2], [1.5, -3], '<f4')).data)).toEqual([1.5, -3]);
    // column-major 2x3 [[1,2,3],[4,5,6]] is stored 1,4,2,5,3,6
    const fortran = encodeNpy([2, 3], [1, 4, 2, 5, 3, 6], '<i4');
    const text = new TextDecoder()
      .decode(fortran.subarray(10, 70))
      .replace("'fortran_order': False", "'fortran_order': True ");
    fortran.set(new TextEncoder().encode(text), 10);
    expect(Array.from(parseNpy(fortran).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('fused MHSA node', () => {
  // S = 16, E = P = H = 1, all inputs 1, weights 1, bq = 2: Q = 3, K = V = 1, A = 3 everywhere,
  // softmax uniform: Deeploy 32512/4096 = 7, RTL 65280/4096 = 15; O = 16*7 = 112 or 16*15 -> 127;
  // output rq (mult 3, shift 2, add 1): 336/4 + 1/2 -> 84, + 1 = 85; 381/4 + 1/2 -> 95, + 1 = 96.
  const one = (name: string) => ({
    [`${name}_requant_mul`]: attr.ints([1]),
    [`${name}_requant_div`]: attr.ints([1]),
    [`${name}_requant_add`]: attr.ints([0]),
  });
  const spec: GraphSpec = {
    inputs: [{ name: 'x', shape: [1, 16, 1] }],
    outputs: [{ name: 'y' }],
    initializers: {
      w: c([1, 1, 1], [1]),
      bq: c([1, 1, 1], [2]),
      b0: c([1, 1, 1], [0]),
    },
    nodes: [
      {
        op: 'MHSA',
        inputs: ['x', 'x', 'x', 'w', 'bq', 'w', 'b0', 'w', 'b0', 'w', 'b0'],
        outputs: ['y'],
        attrs: {
          ...one('wq'),
          ...one('wk'),
          ...one('wv'),
          ...one('preattn'),
          ...one('postattn'),
          wo_requant_mul: attr.ints([3]),
          wo_requant_div: attr.ints([4]),
          wo_requant_add: attr.ints([1]),
          n_levels: attr.int(256),
          signed: attr.int(1),
          heads: attr.int(1),
          dim: attr.int(16),
          dim_head: attr.int(1),
        },
      },
    ],
  };
  it.each([
    ['deeploy', 85],
    ['rtl', 96],
  ] as const)('computes ITA attention with the %s softmax', (variant, want) => {
    const y = runSpec(spec, { x: f([1, 16, 1], new Array(16).fill(1)) }, variant).outputs.get('y')!;
    expect(y.shape).toEqual([1, 1, 16, 1]);
    expect(vals(y)).toEqual(new Array(16).fill(want));
  });
});

/** A small deterministic generator for weights and inputs. */
function lcg(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  };
}

/** A QuantLib-style two-head attention graph: S 16, E 4, P 2, H 2. */
function attentionGraph(qkAdd = 0, batched = false): GraphSpec {
  const rnd = lcg(7);
  const mat = (r: number, k: number) =>
    c(
      [r, k],
      Array.from({ length: r * k }, () => rnd(-20, 20)),
    );
  const rqAttrs = (div: number) => ({
    div: attr.tensor(div),
    n_levels_out: attr.tensor(256),
    signed: attr.tensor(1),
  });
  const nodes: NodeSpec[] = [];
  const proj = (n: string, perm: number[], w: string) => {
    nodes.push({ op: 'MatMul', inputs: ['x', w], outputs: [`${n}_mm`] });
    nodes.push({ op: 'Add', inputs: [`${n}_mm`, `${n}_b`], outputs: [`${n}_add`] });
    nodes.push({
      op: 'RequantShift',
      inputs: [`${n}_add`, 'mul', 'zero'],
      outputs: [`${n}_rq`],
      attrs: rqAttrs(64),
    });
    nodes.push({ op: 'Reshape', inputs: [`${n}_rq`, 'shape4'], outputs: [`${n}_r`] });
    nodes.push({
      op: 'Transpose',
      inputs: [`${n}_r`],
      outputs: [`${n}_t`],
      attrs: { perm: attr.ints(perm) },
    });
  };
  proj('q', [0, 2, 1, 3], 'wq');
  proj('k', [0, 2, 3, 1], 'wk');
  proj('v', [0, 2, 1, 3], 'wv');
  nodes.push({ op: 'MatMul', inputs: ['q_t', 'k_t'], outputs: ['a'] });
  nodes.push({
    op: 'RequantShift',
    name: 'rq_qk',
    inputs: ['a', 'mul', 'qk_add'],
    outputs: ['a_rq'],
    attrs: rqAttrs(16),
  });
  nodes.push({
    op: 'ITAPartialMax',
    inputs: ['a_rq'],
    outputs: ['soft'],
    attrs: { group_width: attr.int(16), n_levels: attr.tensor(256) },
  });
  nodes.push({ op: 'MatMul', inputs: ['soft', 'v_t'], outputs: ['o'] });
  nodes.push({ op: 'RequantShift', inputs: ['o', 'mul', 'zero'], outputs: ['o_rq'], attrs: rqAttrs(64) });
  if (batched) {
    nodes.push({ op: 'MatMul', inputs: ['o_rq', 'wo'], outputs: ['po'] });
    nodes.push({ op: 'RequantShift', inputs: ['po', 'mul', 'zero'], outputs: ['out'], attrs: rqAttrs(64) });
    nodes.push({
      op: 'ReduceSum',
      inputs: ['out'],
      outputs: ['y'],
      attrs: { axes: attr.ints([1]), keepdims: attr.int(0) },
    });
  }
  for (const h of batched ? [] : [0, 1]) {
    nodes.push({
      op: 'Gather',
      inputs: ['o_rq', `idx${h}`],
      outputs: [`g${h}`],
      attrs: { axis: attr.int(1) },
    });
    nodes.push({ op: 'MatMul', inputs: [`g${h}`, `wo${h}`], outputs: [`po${h}`] });
    nodes.push({
      op: 'RequantShift',
      inputs: [`po${h}`, 'mul', 'zero'],
      outputs: [`out${h}`],
      attrs: rqAttrs(64),
    });
  }
  if (!batched) nodes.push({ op: 'Add', inputs: ['out0', 'out1'], outputs: ['y'] });
  return {
    inputs: [{ name: 'x', shape: [1, 16, 4] }],
    outputs: [{ name: 'y' }],
    valueInfo: [{ name: 'x', shape: [1, 16, 4] }],
    initializers: {
      wq: mat(4, 4),
      wk: mat(4, 4),
      wv: mat(4, 4),
      wo0: mat(2, 4),
      wo1: mat(2, 4),
      wo: { ...mat(4, 4), shape: [2, 2, 4] },
      q_b: c([4], [5, -5, 100, 0]),
      k_b: c([4], [0, 3, -7, 1]),
      v_b: c([4], [1, 1, 1, 1]),
      mul: c([], [37]),
      zero: c([], [0]),
      qk_add: c([], [qkAdd]),
      shape4: c([4], [1, 16, 2, 2], 'int64'),
      idx0: c([], [0], 'int64'),
      idx1: c([], [1], 'int64'),
    },
    nodes,
  };
}

describe('attention recognition and its ITA mapping', () => {
  const rnd = lcg(99);
  const x = f(
    [1, 16, 4],
    Array.from({ length: 64 }, () => rnd(-100, 100)),
  );
  it('finds the two-head block with its steps and exact constants', () => {
    const found = findAttention(parseModel(buildModel(attentionGraph())));
    expect(found.unmatched).toEqual([]);
    expect(found.blocks).toHaveLength(1);
    const b = found.blocks[0]!;
    expect([b.H, b.S, b.E, b.P]).toEqual([2, 16, 4, 2]);
    expect(b.steps).toEqual({
      Q: 'q_t',
      KT: 'k_t',
      V: 'v_t',
      A: 'a_rq',
      A_soft: 'soft',
      O: 'o_rq',
      Out: ['out0', 'out1'],
      sum: 'y',
    });
    expect(b.issues).toEqual([]);
    expect(b.spec.heads[1]!.rq.qk).toEqual({ mult: 37, shift: 4, add: 0 });
    // head 1 takes columns 2..3 of Wq
    const wq = parseModel(buildModel(attentionGraph())).initializers.get('wq')!.data;
    expect(Array.from(b.spec.heads[1]!.wq)).toEqual(
      [0, 1, 2, 3].flatMap((r) => [wq[r * 4 + 2], wq[r * 4 + 3]]),
    );
  });
  it.each(['deeploy', 'rtl'] as SoftmaxVariant[])(
    'the mapped ITA computation equals the graph (%s softmax on both sides)',
    (variant) => {
      const spec = attentionGraph();
      const r = runSpec(spec, { x }, variant);
      const b = findAttention(parseModel(buildModel(spec))).blocks[0]!;
      const rows = checkAttention(b, r.tensors, variant);
      expect(rows.map((m) => m.name)).toEqual([
        'Q[0]',
        'K[0]',
        'V[0]',
        'QK[0]',
        'softmax[0]',
        'AV[0]',
        'OW[0]',
        'Q[1]',
        'K[1]',
        'V[1]',
        'QK[1]',
        'softmax[1]',
        'AV[1]',
        'OW[1]',
        'head sum',
      ]);
      expect(rows.filter((m) => m.mismatches > 0)).toEqual([]);
      // the softmax is not trivial: several distinct values per variant
      expect(new Set(r.tensors.get('soft')!.data).size).toBeGreaterThan(3);
    },
  );
  it.each(['deeploy', 'rtl'] as SoftmaxVariant[])(
    'a fused MHSA node built from the block equals the unfused graph (%s)',
    (variant) => {
      const spec = attentionGraph();
      const r = runSpec(spec, { x }, variant);
      const b = findAttention(parseModel(buildModel(spec))).blocks[0]!;
      const heads = b.spec.heads;
      const cat = (pick: (h: (typeof heads)[number]) => Int32Array | undefined, n: number) =>
        heads.flatMap((h) => Array.from(pick(h) ?? new Int32Array(n)));
      const rq = (step: 'q' | 'k' | 'v' | 'qk' | 'av' | 'ow', name: string) => ({
        [`${name}_requant_mul`]: attr.ints(heads.map((h) => h.rq[step].mult)),
        [`${name}_requant_div`]: attr.ints(heads.map((h) => 2 ** h.rq[step].shift)),
        [`${name}_requant_add`]: attr.ints(heads.map((h) => h.rq[step].add)),
      });
      const { E, P, H } = b;
      const mhsa: GraphSpec = {
        inputs: [{ name: 'x', shape: [1, 16, E] }],
        outputs: [{ name: 'y' }],
        initializers: {
          wq: c(
            [H, E, P],
            cat((h) => h.wq, 0),
          ),
          bq: c(
            [H, 1, P],
            cat((h) => h.bq, P),
          ),
          wk: c(
            [H, E, P],
            cat((h) => h.wk, 0),
          ),
          bk: c(
            [H, 1, P],
            cat((h) => h.bk, P),
          ),
          wv: c(
            [H, E, P],
            cat((h) => h.wv, 0),
          ),
          bv: c(
            [H, 1, P],
            cat((h) => h.bv, P),
          ),
          wo: c(
            [H, P, E],
            cat((h) => h.wo, 0),
          ),
          bo: c(
            [H, E],
            cat((h) => h.bo, E),
          ),
        },
        nodes: [
          {
            op: 'MHSA',
            inputs: ['x', 'x', 'x', 'wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'bo'],
            outputs: ['y'],
            attrs: {
              ...rq('q', 'wq'),
              ...rq('k', 'wk'),
              ...rq('v', 'wv'),
              ...rq('qk', 'preattn'),
              ...rq('av', 'postattn'),
              ...rq('ow', 'wo'),
              n_levels: attr.int(256),
              signed: attr.int(1),
              heads: attr.int(H),
              dim: attr.int(16),
              dim_head: attr.int(P),
            },
          },
        ],
      };
      const y = runSpec(mhsa, { x }, variant).outputs.get('y')!;
      expect(y.shape).toEqual([1, H, 16, E]);
      const perHead = [...r.tensors.get('out0')!.data, ...r.tensors.get('out1')!.data];
      expect(vals(y)).toEqual(perHead);
    },
  );
  it.each(['deeploy', 'rtl'] as SoftmaxVariant[])(
    'maps a batched output projection with a ReduceSum head sum (%s)',
    (variant) => {
      const spec = attentionGraph(0, true);
      const b = findAttention(parseModel(buildModel(spec))).blocks[0]!;
      expect([b.H, b.P, b.stacked, b.steps.Out, b.steps.sum, b.issues]).toEqual([
        2,
        2,
        true,
        ['out', 'out'],
        'y',
        [],
      ]);
      const rows = checkAttention(b, runSpec(spec, { x }, variant).tensors, variant);
      expect(rows).toHaveLength(15);
      expect(rows.filter((m) => m.mismatches > 0)).toEqual([]);
    },
  );
  it('mismatching variants are caught by the check', () => {
    const spec = attentionGraph();
    const r = runSpec(spec, { x }, 'deeploy');
    const b = findAttention(parseModel(buildModel(spec))).blocks[0]!;
    const soft = checkAttention(b, r.tensors, 'rtl').find((m) => m.name === 'softmax[0]')!;
    expect(soft.mismatches).toBeGreaterThan(0);
  });
  it('reports a requantisation that ITA cannot do exactly', () => {
    const b = findAttention(parseModel(buildModel(attentionGraph(24)))).blocks[0]!;
    expect(b.issues).toEqual(['QK (rq_qk): add 24 is not a multiple of div 16 (ITA adds after the shift)']);
  });
  it('reports softmax nodes that are not part of an attention block', () => {
    const g = parseModel(
      buildModel({
        inputs: [{ name: 'x', shape: [1, 16] }],
        outputs: [{ name: 'y' }],
        nodes: [
          { op: 'ITAMax', name: 'sm', inputs: ['x'], outputs: ['y'], attrs: { n_levels: attr.tensor(256) } },
        ],
      }),
    );
    expect(findAttention(g)).toEqual({
      blocks: [],
      unmatched: [{ softmax: 'sm', reason: 'no RequantShift before the softmax' }],
    });
  });
});

describe('releasing tensors during a run', () => {
  it('hands each node output over once its last reader ran, graph outputs never', () => {
    // a -> Relu -> r; r + a -> s; s + r -> y (graph output); a -> Relu -> dead (read by nothing)
    const spec: GraphSpec = {
      inputs: [{ name: 'a', shape: [3] }],
      outputs: [{ name: 'y' }],
      initializers: {},
      nodes: [
        { op: 'Relu', name: 'n0', inputs: ['a'], outputs: ['r'] },
        { op: 'Relu', name: 'n1', inputs: ['a'], outputs: ['dead'] },
        { op: 'Add', name: 'n2', inputs: ['r', 'a'], outputs: ['s'] },
        { op: 'Add', name: 'n3', inputs: ['s', 'r'], outputs: ['y'] },
      ],
    };
    const graph = parseModel(buildModel(spec));
    const feed = () => new Map([['a', { shape: [3], data: Float64Array.of(-2, 1, 3), signed: true }]]);
    const whole = runGraph(graph, feed());
    const seen: string[] = [];
    const small = { shape: [0], data: new Float64Array(0), signed: false };
    const r = runGraph(graph, feed(), {
      onNode: (_i, _n, node) => seen.push(`run ${node.name}`),
      release: (name, t, by) => {
        seen.push(`release ${name} of ${by.name}`);
        expect(Array.from(t.data)).toEqual(Array.from(whole.tensors.get(name)!.data));
        return small;
      },
    });
    expect(seen).toEqual([
      'run n0',
      'run n1',
      'release dead of n1',
      'run n2',
      'run n3',
      'release s of n2',
      'release r of n0',
    ]);
    expect(vals(r.outputs.get('y')!)).toEqual(vals(whole.outputs.get('y')!));
    expect(r.tensors.get('r')).toBe(small);
    expect(r.tensors.get('a')!.data.length).toBe(3);
  });
});

describe('refusals', () => {
  it('names the node, the op and what is missing', () => {
    expect(() => runOp('LSTM', f([1], [1]))).toThrow('node n0 (LSTM): op LSTM is not supported');
    expect(() =>
      runOp('Conv', f([1, 1, 2, 2], [1, 2, 3, 4]), { foo: attr.int(1) }, [c([1, 1, 1, 1], [1])]),
    ).toThrow('node n0 (Conv): attribute foo is not supported');
    expect(() =>
      runOp('RequantShift', f([1], [1]), { div: attr.tensor(1), signed: attr.tensor(1) }, [
        c([], [1]),
        c([], [0]),
      ]),
    ).toThrow('node n0 (RequantShift): missing attribute n_levels_out');
    expect(() => runOp('MatMul', [f([1, 2], [1, 2]), f([1, 2], [1, 2])])).toThrow(
      'node n0 (MatMul): inner dimensions differ: [1x2] x [1x2]',
    );
    expect(() => runOp('Add', f([2], [1, 2]), {}, [c([1], [0.5])])).toThrow(
      'node n0 (Add): initialiser c0 holds the non-integer value 0.5',
    );
  });
});

describe('itasim onnx (command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'itasim-onnx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = join(import.meta.dirname, '../../bin/itasim.js');
  const spec: GraphSpec = {
    inputs: [{ name: 'x', shape: [2] }],
    outputs: [{ name: 'y' }],
    initializers: { m: c([], [3]), a: c([], [0]) },
    nodes: [
      {
        op: 'RequantShift',
        name: 'rq',
        inputs: ['x', 'm', 'a'],
        outputs: ['y'],
        attrs: { div: attr.tensor(2), n_levels: attr.tensor(256), signed: attr.tensor(1) },
      },
    ],
  };
  const arr = (values: number[]) => ({
    shape: [values.length],
    data: Float64Array.from(values),
    signed: true,
  });
  writeFileSync(join(dir, 'net.onnx'), buildModel(spec));
  writeFileSync(join(dir, 'in.npz'), encodeNpz(new Map([['x', arr([5, -5])]])));
  // (15 + 1) >> 1 = 8; (-15 + 1) >> 1 = -7
  writeFileSync(join(dir, 'good.npz'), encodeNpz(new Map([['y', arr([8, -7])]])));
  writeFileSync(join(dir, 'bad.npz'), encodeNpz(new Map([['y', arr([8, -8])]])));
  it('runs, writes outputs and reports matches', () => {
    const out = execFileSync(
      'node',
      [
        cli,
        'onnx',
        'run',
        join(dir, 'net.onnx'),
        '--inputs',
        join(dir, 'in.npz'),
        '--compare',
        join(dir, 'good.npz'),
        '--outputs',
        join(dir, 'out.npz'),
      ],
      { encoding: 'utf8' },
    );
    expect(out).toContain('1/1 tensors bit-exact, 2/2 elements');
    const written = parseNpz(readFileSync(join(dir, 'out.npz')));
    expect(Array.from(written.get('y')!.data)).toEqual([8, -7]);
    const bad = spawnSync(
      'node',
      [
        cli,
        'onnx',
        'run',
        join(dir, 'net.onnx'),
        '--inputs',
        join(dir, 'in.npz'),
        '--compare',
        join(dir, 'bad.npz'),
      ],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('first at flat index 1: -7 vs reference -8');
  });
  it('--json: the outputs, the comparison and pass', () => {
    const args = [cli, 'onnx', 'run', join(dir, 'net.onnx'), '--inputs', join(dir, 'in.npz'), '--json'];
    const plain = JSON.parse(execFileSync('node', args, { encoding: 'utf8' })) as Record<string, unknown>;
    expect(plain.outputs).toEqual([{ name: 'y', shape: [2], data: [8, -7] }]);
    expect(plain.pass).toBe(null);
    const bad = spawnSync('node', [...args, '--compare', join(dir, 'bad.npz')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    const rep = JSON.parse(bad.stdout) as { pass: boolean; compare: { mismatches: number }[] };
    expect(rep.pass).toBe(false);
    expect(rep.compare[0]!.mismatches).toBe(1);
  });
  it('refuses an unsupported op with one line and exit code 2', () => {
    writeFileSync(
      join(dir, 'lstm.onnx'),
      buildModel({ ...spec, nodes: [{ op: 'LSTM', name: 'l0', inputs: ['x'], outputs: ['y'] }] }),
    );
    const r = spawnSync(
      'node',
      [cli, 'onnx', 'run', join(dir, 'lstm.onnx'), '--inputs', join(dir, 'in.npz')],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('itasim: node l0 (LSTM): op LSTM is not supported\n');
  });
});

describe('executor order', () => {
  it('runs nodes listed out of dependency order', () => {
    const g = parseModel(
      buildModel({
        inputs: [{ name: 'x', shape: [2] }],
        outputs: [{ name: 'z' }],
        nodes: [
          { op: 'Add', inputs: ['y', 'y'], outputs: ['z'] },
          { op: 'Add', inputs: ['x', 'x'], outputs: ['y'] },
        ],
      }),
    );
    const r = runGraph(g, new Map([['x', { shape: [2], data: Float64Array.from([1, -3]), signed: true }]]));
    expect(vals(r.outputs.get('z')!)).toEqual([4, -12]);
  });
});

describe('activation keys', () => {
  it('ties QuantLib module keys to the last node of the module, exact names first, then position', () => {
    const node = (name: string, opType: string, out: string) => ({
      name,
      opType,
      domain: '',
      inputs: [],
      outputs: [out],
      attrs: new Map(),
    });
    const order = [
      node('__QL_REPLACED__INTEGERIZE_PACT_LIN_PASS_4_MatMul', 'MatMul', 'mm'),
      node('__QL_REPLACED__INTEGERIZE_PACT_LIN_PASS_4_Add', 'Add', 'add'),
      node('_conv_layers.0.3_MaxPool', 'MaxPool', 'pool'),
      node('Gemm_0', 'Gemm', 'x'),
    ];
    const tensors = new Map(
      ['mm', 'add', 'pool', 'x', 'input'].map((n) => [n, { data: new Float64Array(n === 'x' ? 6 : 4) }]),
    );
    const keys = [
      'ff_fn__ql_replaced__integerize_pact_lin_pass_4',
      'tokenizer_conv_layers_0_3',
      'input',
      'classifier_lin',
    ];
    const sizes = new Map(keys.map((k) => [k, k === 'classifier_lin' ? 6 : 4]));
    const m = matchActivations(order, tensors, keys, sizes);
    expect(Object.fromEntries(m)).toEqual({
      ff_fn__ql_replaced__integerize_pact_lin_pass_4: { tensor: 'add', how: 'module' },
      tokenizer_conv_layers_0_3: { tensor: 'pool', how: 'module' },
      input: { tensor: 'input', how: 'name' },
      classifier_lin: { tensor: 'x', how: 'order' },
    });
  });
});
