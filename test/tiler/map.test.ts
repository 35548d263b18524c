/**
 * The recognise pass on its own (no cycle-level run): small graphs written with onnx/writer.ts,
 * run by the executor for their shapes, then mapped. Each pattern's recogniser takes the nodes it
 * covers; layout nodes become aliases of their input's matrix; a node no recogniser takes is
 * refused by name.
 */
import { describe, expect, it } from 'vitest';
import { bindInputs, runGraph } from '../../onnx/executor.ts';
import { parseModel } from '../../onnx/model.ts';
import { attr, buildModel, type ConstSpec, type NodeSpec } from '../../onnx/writer.ts';
import { RECOGNISERS, mapGraph, validOf, type MappedGraph } from '../../tiler/map.ts';

const rq = (x: string, y: string, add = 0): NodeSpec => ({
  op: 'RequantShift',
  name: `rq_${y}`,
  inputs: [x, 'mul', add === 0 ? 'add0' : 'addk'],
  outputs: [y],
  attrs: { div: attr.int(2 ** 12), n_levels: attr.int(256), signed: attr.int(1) },
});

const CONSTS: Record<string, ConstSpec> = {
  W: {
    shape: [64, 64],
    values: Array.from({ length: 4096 }, (_, i) => ((i * 31) % 255) - 127),
    type: 'int8',
  },
  B: { shape: [64], values: Array.from({ length: 64 }, (_, i) => i - 32), type: 'int32' },
  mul: { shape: [1], values: [50], type: 'int32' },
  add0: { shape: [1], values: [0], type: 'int32' },
  addk: { shape: [1], values: [5], type: 'int32' },
  add350: { shape: [1], values: [350], type: 'int32' },
  lw: { shape: [64], values: Array.from({ length: 64 }, (_, i) => 20 + i), type: 'int32' },
  lb: { shape: [64], values: Array.from({ length: 64 }, (_, i) => 3 * i), type: 'int32' },
  shape: { shape: [2], values: [64, 64], type: 'int64' },
  C2: { shape: [64, 64], values: Array.from({ length: 4096 }, (_, i) => i % 7), type: 'int32' },
  one: { shape: [1], values: [1], type: 'int32' },
  W96: {
    shape: [100, 96],
    values: Array.from({ length: 9600 }, (_, i) => ((i * 29) % 251) - 125),
    type: 'int8',
  },
  nw: { shape: [64, 64], values: Array.from({ length: 4096 }, (_, i) => (i % 9) - 4), type: 'int32' },
  cw: { shape: [64, 3, 3, 3], values: Array.from({ length: 1728 }, (_, i) => (i % 11) - 5), type: 'int8' },
  cmul: { shape: [64, 1, 1], values: Array.from({ length: 64 }, (_, i) => 10 + i), type: 'int32' },
  cshape: { shape: [2], values: [64, 64], type: 'int64' },
};

const gemm = (attrs: NodeSpec['attrs'], c = 'B'): NodeSpec[] => [
  { op: 'Gemm', name: 'gemm', inputs: ['x', 'W', c], outputs: ['acc'], attrs },
  rq('acc', 'y'),
];

/** Builds, runs and maps a graph on x [1, 64, 64] (or `xShape`). */
function mapped(nodes: NodeSpec[], out: string, xShape = [1, 64, 64]): MappedGraph {
  return mappedOut(nodes, [out], xShape);
}

function mappedOut(nodes: NodeSpec[], outs: string[], xShape = [1, 64, 64]): MappedGraph {
  const bytes = buildModel({
    inputs: [{ name: 'x', shape: xShape, type: 'int8' }],
    outputs: outs.map((name) => ({ name, type: 'int8' as const })),
    nodes,
    initializers: CONSTS,
  });
  const g = parseModel(bytes, 'test.onnx');
  const x = {
    dtype: '<i1',
    shape: xShape,
    data: Float64Array.from({ length: xShape.reduce((a, b) => a * b, 1) }, (_, i) => ((i * 13) % 200) - 100),
  };
  const ref = runGraph(g, bindInputs(g, new Map([['x', x]])));
  return mapGraph(g, ref.tensors, { layerOf: new Map() });
}

const linear: NodeSpec[] = [
  { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['acc'] },
  { op: 'Add', name: 'bias', inputs: ['acc', 'B'], outputs: ['accb'] },
  rq('accb', 'h'),
];

describe('recognise (mapGraph)', () => {
  it('has one recogniser per pattern-starting op', () => {
    expect(Object.keys(RECOGNISERS)).toEqual(
      expect.arrayContaining(['MHSA', 'MatMul', 'Add', 'iLayerNorm', 'iNoNorm', 'Reshape', 'Transpose']),
    );
  });

  it('takes MatMul + bias Add + RequantShift as one linear, then a residual Add and a LayerNorm', () => {
    const m = mapped(
      [
        ...linear,
        { op: 'Add', name: 'res', inputs: ['x', 'h'], outputs: ['s'] },
        rq('s', 'r'),
        {
          op: 'iLayerNorm',
          name: 'ln',
          inputs: ['r', 'lw', 'lb'],
          outputs: ['y'],
          attrs: { D: attr.int(256), n_levels: attr.int(256) },
        },
      ],
      'y',
    );
    expect(m.ops.map((o) => [o.kind, o.nodes])).toEqual([
      ['linear', ['mm', 'bias', 'rq_h']],
      ['add', ['res', 'rq_r']],
      ['layernorm', ['ln']],
    ]);
    const lin = m.ops[0]!;
    if (lin.kind !== 'linear') throw new Error('not a linear');
    expect(Array.from(lin.bias.slice(0, 3))).toEqual([-32, -31, -30]);
    // the weights transposed: row j of wT is column j of W
    expect(lin.wT[1]).toBe(CONSTS.W!.values[64] as number);
  });

  it('resolves a Reshape as an alias of its input matrix', () => {
    const m = mapped(
      [
        { op: 'Reshape', name: 'rs', inputs: ['x', 'shape'], outputs: ['xr'] },
        { op: 'MatMul', name: 'mm', inputs: ['xr', 'W'], outputs: ['acc'] },
        rq('acc', 'y'),
      ],
      'y',
    );
    expect(m.mats.get('xr')).toBe(m.mats.get('x'));
    expect(m.ops.map((o) => o.kind)).toEqual(['linear']);
  });

  it("folds a requantiser add that is a multiple of mul into ITA's bias (add / mul per column)", () => {
    const op = mapped(
      [
        ...linear.slice(0, 2),
        {
          op: 'RequantShift',
          name: 'rq_y',
          inputs: ['accb', 'mul', 'add350'],
          outputs: ['y'],
          attrs: { div: attr.int(2 ** 12), n_levels: attr.int(256), signed: attr.int(1) },
        },
      ],
      'y',
    ).ops[0]!;
    if (op.kind !== 'linear') throw new Error(`not a linear: ${op.kind}`);
    // (x mul + 350 + 2^11) >> 12 = ((x + 7) mul + 2^11) >> 12: bias + 7, ITA's add 0
    expect([op.rq, op.bias[0], op.bias[63]]).toEqual([{ mult: 50, shift: 12, add: 0 }, -32 + 7, 31 + 7]);
  });

  it("maps a requantiser add that ITA would apply after the shift to Deeploy's int32 gemm", () => {
    const op = mapped(
      [{ op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['acc'] }, rq('acc', 'y', 5)],
      'y',
    ).ops[0]!;
    if (op.kind !== 'dgemm') throw new Error(`not a dgemm: ${op.kind}`);
    expect(op.notIta).toMatch(/^RequantShift: add 5 is neither a multiple of div 4096 .* nor of mul 50/);
    expect([op.perRow, op.mul[0], op.add[63], op.shift, op.unsigned]).toEqual([false, 50, 5, 12, false]);
  });

  it('takes Gemm (transB, beta times a bias per column) + RequantShift as one linear', () => {
    const m = mapped(gemm({ transB: attr.int(1), beta: attr.int(3) }), 'y', [64, 64]);
    const lin = m.ops[0]!;
    if (lin.kind !== 'linear') throw new Error('not a linear');
    expect(lin.nodes).toEqual(['gemm', 'rq_y']);
    // transB: B is already N x K, the layout of wT
    expect(Array.from(lin.wT.slice(0, 64))).toEqual(Array.from(CONSTS.W!.values).slice(0, 64));
    expect(Array.from(lin.bias.slice(0, 2))).toEqual([-96, -93]);
  });

  it('maps a Gemm with alpha != 1 or a bias per element to the int32 gemm, saying why', () => {
    const a = mapped(gemm({ alpha: attr.int(2) }), 'y', [64, 64]).ops[0]!;
    if (a.kind !== 'dgemm') throw new Error('not a dgemm');
    expect([a.alpha, a.notIta]).toEqual([2, 'alpha = 2: ITA computes A x B unscaled']);
    const c = mapped(gemm({ beta: attr.int(2) }, 'C2'), 'y', [64, 64]).ops[0]!;
    if (c.kind !== 'dgemm') throw new Error('not a dgemm');
    expect(c.notIta).toMatch(/a bias per element/);
    expect(Array.from(c.bias!.slice(0, 8))).toEqual([0, 2, 4, 6, 8, 10, 12, 0]);
  });

  it('pads a 96-column output to 128 (zero weights beyond) and an odd-sized input, K included', () => {
    const W96: NodeSpec = { op: 'MatMul', name: 'mm', inputs: ['x', 'W96'], outputs: ['acc'] };
    const m = mapped([W96, rq('acc', 'y')], 'y', [1, 40, 100]);
    const lin = m.ops[0]!;
    if (lin.kind !== 'linear') throw new Error('not a linear');
    expect([lin.x.rows, lin.x.cols, lin.x.valid]).toEqual([64, 128, { rows: 40, cols: 100 }]);
    expect([lin.y.rows, lin.y.cols, lin.y.valid]).toEqual([64, 128, { rows: 40, cols: 96 }]);
    // wT is 128 x 128: row j < 96 holds column j of W in its first 100 entries, zeros after
    expect(lin.wT.length).toBe(128 * 128);
    expect(lin.wT[128 + 99]).toBe(CONSTS.W96!.values[99 * 96 + 1] as number);
    expect(lin.wT[128 + 100]).toBe(0);
    expect(Array.from(lin.wT.slice(96 * 128, 97 * 128)).every((v) => v === 0)).toBe(true);
  });

  it('keeps iNoNorm weights per element (rows x cols)', () => {
    const nonorm = (w: string): NodeSpec => ({
      op: 'iNoNorm',
      name: 'nn',
      inputs: ['x', w, 'lb'],
      outputs: ['y'],
      attrs: { D: attr.int(16), mul: attr.int(3), n_levels: attr.int(256) },
    });
    const op = mapped([nonorm('nw')], 'y').ops[0]!;
    if (op.kind !== 'nonorm') throw new Error('not a nonorm');
    expect(op.w.length).toBe(4096);
    expect(op.w[65]).toBe(CONSTS.nw!.values[65]);
  });

  it('refuses padded columns where the op is not exact on them, at the node that reads them', () => {
    const nonorm: NodeSpec = {
      op: 'iNoNorm',
      name: 'nn',
      inputs: ['x', 'one', 'one'],
      outputs: ['y'],
      attrs: { D: attr.int(16), mul: attr.int(3), n_levels: attr.int(256) },
    };
    expect(() => mapped([nonorm], 'y', [64, 48])).toThrow(
      /^node nn \(iNoNorm\): input data \(x\) has 48 columns, padded to 64: only linear layers \(against zero weights\) and iSoftmax/,
    );
  });

  it('takes iSoftmax over a signed matrix; refuses one over an unsigned matrix (a softmax output)', () => {
    const sm = (x: string, y: string): NodeSpec => ({
      op: 'iSoftmax',
      name: `sm_${y}`,
      inputs: [x],
      outputs: [y],
      attrs: {
        coeffA: attr.int(1),
        coeffB: attr.int(345),
        coeffC: attr.int(62395),
        log2: attr.int(255),
        n_levels: attr.int(256),
      },
    });
    expect(mapped([sm('x', 'y')], 'y').ops.map((o) => o.kind)).toEqual(['isoftmax']);
    expect(() => mapped([sm('x', 'p'), sm('p', 'y')], 'y')).toThrow(
      /^node sm_y \(iSoftmax\): the input must be signed int8/,
    );
  });

  it('lets iSoftmax read padded columns (it runs over the row itself)', () => {
    const sm: NodeSpec = {
      op: 'iSoftmax',
      name: 'sm',
      inputs: ['x'],
      outputs: ['y'],
      attrs: {
        coeffA: attr.int(1),
        coeffB: attr.int(345),
        coeffC: attr.int(62395),
        log2: attr.int(255),
        n_levels: attr.int(256),
      },
    };
    const op = mapped([sm], 'y', [1, 3, 8, 8]).ops[0]!;
    expect([op.kind, op.nodes[0]]).toEqual(['isoftmax', 'sm']);
    if (op.kind !== 'isoftmax') throw new Error('not isoftmax');
    expect([op.x.rows, op.x.cols, op.y.valid]).toEqual([64, 64, { rows: 24, cols: 8 }]);
  });

  describe('the ops of a compact convolutional transformer', () => {
    const conv: NodeSpec = {
      op: 'Conv',
      name: 'conv',
      inputs: ['x', 'cw'],
      outputs: ['c'],
      attrs: { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) },
    };
    const convRq: NodeSpec = {
      op: 'RequantShift',
      name: 'conv_rq',
      inputs: ['c', 'cmul', 'add0'],
      outputs: ['cr'],
      attrs: { div: attr.int(2 ** 8), n_levels: attr.int(256), signed: attr.int(1) },
    };
    const pool = (perm?: number[]): NodeSpec[] => [
      {
        op: 'MaxPool',
        name: 'pool',
        inputs: ['cr'],
        outputs: ['p'],
        attrs: { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) },
      },
      ...(perm
        ? [{ op: 'Transpose', name: 'tr', inputs: ['p'], outputs: ['y'], attrs: { perm: attr.ints(perm) } }]
        : []),
    ];

    it('takes Conv + RequantShift per channel, then MaxPool + Transpose to channels last as one op', () => {
      const g = mapped([conv, convRq, ...pool([0, 2, 3, 1])], 'y', [1, 3, 8, 8]);
      expect(g.ops.map((o) => [o.kind, o.nodes])).toEqual([
        ['conv', ['conv', 'conv_rq']],
        ['pool', ['pool', 'tr']],
      ]);
      const [c, p] = g.ops;
      if (c?.kind !== 'conv' || p?.kind !== 'pool') throw new Error('conv, pool expected');
      expect([c.y.chw, c.y.rows, c.y.cols, c.y.valid]).toEqual([true, 64, 64, undefined]);
      expect([p.y.chw, validOf(p.y)]).toEqual([undefined, { rows: 16, cols: 64 }]);
    });

    it('refuses a Conv without a requantiser and a conv output read by anything but MaxPool', () => {
      expect(() => mapped([{ ...conv, outputs: ['y'] }], 'y', [1, 3, 8, 8])).toThrow(
        /^node conv \(Conv\): a Conv must feed exactly one RequantShift/,
      );
      const reshape: NodeSpec = { op: 'Reshape', name: 'flat', inputs: ['cr', 'cshape'], outputs: ['y'] };
      expect(() => mapped([conv, convRq, reshape], 'y', [1, 3, 8, 8])).toThrow(
        /^node flat \(Reshape\): input data \(cr\) is a conv output held one pixel per row: only MaxPool reads it/,
      );
    });

    it('maps a matrix transpose and a product of two activations; refuses a transpose of three axes', () => {
      const nodes: NodeSpec[] = [
        {
          op: 'Transpose',
          name: 'kt',
          inputs: ['x'],
          outputs: ['xt'],
          attrs: { perm: attr.ints([0, 2, 1]) },
        },
        { op: 'MatMul', name: 'qk', inputs: ['x', 'xt'], outputs: ['s'] },
        rq('s', 'y'),
      ];
      const g = mapped(nodes, 'y');
      // read only as B of the product, whose B^T is x: the transpose is not computed
      expect(g.ops.map((o) => o.kind)).toEqual(['dgemm']);
      expect(g.readAsBT).toEqual(['kt']);
      const d = g.ops[0]!;
      if (d.kind !== 'dgemm') throw new Error('dgemm expected');
      // B^T of x x^T is x itself, read row by row
      expect([d.bMat?.name, d.bDirect, d.itaRq]).toEqual(['x', false, { mult: 50, shift: 12, add: 0 }]);
      // read by anything else too (here an element-wise op): computed on the cores
      const also: NodeSpec[] = [...nodes, rq('xt', 'z')];
      expect(mappedOut(also, ['y', 'z']).ops.map((o) => o.kind)).toEqual(['transpose', 'dgemm', 'lut']);
      const t3: NodeSpec = {
        op: 'Transpose',
        name: 't3',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { perm: attr.ints([2, 0, 1]) },
      };
      expect(() => mapped([t3], 'y', [2, 64, 64])).toThrow(/^node t3 \(Transpose\): perm \[2,0,1\]/);
    });

    it("takes element-wise ops of one 8-bit input as a table of the executor's results; refuses per-channel constants", () => {
      const gelu: NodeSpec[] = [
        {
          op: 'iGELU',
          name: 'gelu',
          inputs: ['x'],
          outputs: ['g'],
          attrs: { b: attr.int(-42), one: attr.int(1929) },
        },
        rq('g', 'y'),
      ];
      const op = mapped(gelu, 'y').ops[0]!;
      if (op.kind !== 'lut') throw new Error('lut expected');
      expect(op.nodes).toEqual(['gelu', 'rq_y']);
      // entry u: the executor's value of the int8 u (here 0, 1, -1, -128)
      const exp = (v: number): number => {
        const sign = Math.sign(v);
        const q = Math.min(sign * v, 42);
        const l = sign * (1929 - (q - 42) ** 2);
        const gl = v * ((1929 + l) >> 1);
        return Math.max(-128, Math.min(127, Math.floor((gl * 50 + 2048) / 4096)));
      };
      for (const u of [0, 1, 255, 128])
        expect((op.table[u]! << 24) >> 24, `entry ${u}`).toBe(exp((u << 24) >> 24));
      const perChannel: NodeSpec = {
        op: 'RequantShift',
        name: 'rqc',
        inputs: ['x', 'lw', 'add0'],
        outputs: ['y'],
        attrs: { div: attr.int(2 ** 8), n_levels: attr.int(256), signed: attr.int(1) },
      };
      expect(() => mapped([perChannel], 'y')).toThrow(
        /^node rqc \(RequantShift\): constant lw must hold one value/,
      );
    });

    it('takes IntegerMean over the rows without keepdims; refuses keepdims', () => {
      const mean = (keep: number): NodeSpec => ({
        op: 'IntegerMean',
        name: 'mean',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { axes: attr.ints([1]), keepdims: attr.int(keep) },
      });
      expect(mapped([mean(0)], 'y').ops.map((o) => o.kind)).toEqual(['colmean']);
      expect(() => mapped([mean(1)], 'y')).toThrow(/^node mean \(IntegerMean\): keepdims must be 0/);
    });
  });
});
