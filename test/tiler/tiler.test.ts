/**
 * The tiler core: graphs built here (linear, attention with two heads, residual + LayerNorm, a
 * two-layer encoder) run on the cycle-level machine in ITA mode and cluster-only mode and must
 * equal the functional executor in every byte; a corrupted weight must be detected; the L1
 * allocation never overlaps live buffers; what cannot be mapped is refused by name.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Attr, Graph, GraphNode } from '../../onnx/model.ts';
import type { Tensor } from '../../onnx/tensor.ts';
import { InputError } from '../../rtl-model/errors.ts';
import { allocate, overlapping, peakLive, type Lifetime, type Placement } from '../../tiler/alloc.ts';
import type { EncoderModel } from '../../tiler/map.ts';
import { buildPreset } from '../../tiler/presets.ts';
import { runEncoder, type EncoderRunResult } from '../../tiler/run.ts';

/** A small seeded generator (xorshift32). */
function rng(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0 || 1;
  return (lo, hi) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return lo + (s % (hi - lo + 1));
  };
}

const T = (shape: number[], v: ArrayLike<number>): Tensor => ({
  shape,
  data: Float64Array.from(v),
  signed: Array.from(v).some((x) => x < 0),
});

const I = (value: number): Attr => ({ kind: 'int', value });
const Is = (value: number[]): Attr => ({ kind: 'ints', value });

/** Builds a graph node by node; constants become initialisers. */
class G {
  readonly nodes: GraphNode[] = [];
  readonly init = new Map<string, Tensor>();
  readonly layerNodes: string[][] = [[]];
  private n = 0;
  constructor(readonly r: (lo: number, hi: number) => number) {}

  const(shape: number[], v: ArrayLike<number>): string {
    const name = `c${this.n++}`;
    this.init.set(name, T(shape, v));
    return name;
  }
  rand(shape: number[], lo: number, hi: number): string {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.const(
      shape,
      Array.from({ length: n }, () => this.r(lo, hi)),
    );
  }
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outs = 1): string {
    const name = `${op}_${this.n++}`;
    const outputs = Array.from({ length: outs }, (_, i) => `${name}_y${i}`);
    this.nodes.push({ name, opType: op, domain: '', inputs, outputs, attrs: new Map(Object.entries(attrs)) });
    this.layerNodes[this.layerNodes.length - 1]!.push(name);
    return outputs[0]!;
  }
  /** Deeploy RequantShift with scalar constants. */
  rq(x: string, mul: number, add: number, shift: number): string {
    return this.node('RequantShift', [x, this.const([1], [mul]), this.const([1], [add])], {
      div: I(2 ** shift),
      n_levels: I(256),
      signed: I(1),
    });
  }
  linear(x: string, K: number, N: number, act: 'identity' | 'relu' = 'identity', shift = 12): string {
    const mm = this.node('MatMul', [x, this.rand([K, N], -128, 127)]);
    const b = this.node('Add', [mm, this.rand([N], -3000, 3000)]);
    const sh = shift + Math.round(Math.log2(K)) - 3;
    const y = this.rq(b, this.r(60, 120), this.r(-4, 4) * 2 ** sh, sh);
    return act === 'relu' ? this.node('Relu', [y]) : y;
  }
  attention(x: string, E: number, P: number, H: number): string {
    const step = (s: string, mul: number, div: number): Record<string, Attr> => ({
      [`${s}_requant_mul`]: Is(Array.from({ length: H }, () => mul + this.r(0, 10))),
      [`${s}_requant_div`]: Is(new Array<number>(H).fill(div)),
      [`${s}_requant_add`]: Is(Array.from({ length: H }, () => this.r(-3, 3))),
    });
    const m = this.node(
      'MHSA',
      [
        x,
        x,
        x,
        this.rand([H, E, P], -128, 127),
        this.rand([H, P], -2000, 2000),
        this.rand([H, E, P], -128, 127),
        this.rand([H, P], -2000, 2000),
        this.rand([H, E, P], -128, 127),
        this.rand([H, P], -2000, 2000),
        this.rand([H, P, E], -128, 127),
        this.rand([H, E], -2000, 2000),
      ],
      {
        heads: I(H),
        dim_head: I(P),
        n_levels: I(256),
        ...step('wq', 60, 2 ** 14),
        ...step('wk', 60, 2 ** 14),
        ...step('wv', 60, 2 ** 14),
        ...step('preattn', 50, 2 ** 13),
        ...step('postattn', 60, 2 ** 13),
        ...step('wo', 60, 2 ** 14),
      },
    );
    const s = this.node('ReduceSum', [m], { axes: Is([1]), keepdims: I(0) });
    return this.rq(s, 3, 0, 2);
  }
  add(a: string, b: string): string {
    return this.rq(this.node('Add', [a, b]), 1, 0, 1);
  }
  layernorm(x: string, E: number): string {
    return this.node('iLayerNorm', [x, this.rand([E], 20, 120), this.rand([E], -500, 500)], {
      D: I(2 ** 8),
      n_levels: I(256),
    });
  }
  nonorm(x: string, E: number): string {
    return this.node('iNoNorm', [x, this.rand([E], -4, 4), this.rand([E], -300, 300)], {
      D: I(2 ** 4),
      mul: I(3),
      n_levels: I(256),
    });
  }
  newLayer(): void {
    this.layerNodes.push([]);
  }

  model(name: string, x: string, S: number, E: number, outs: string[]): EncoderModel {
    const graph: Graph = {
      name,
      nodes: this.nodes,
      initializers: this.init,
      inputs: [{ name: x, elemType: 3, shape: [1, S, E] }],
      outputs: outs.map((o) => ({ name: o, elemType: 3, shape: undefined })),
      valueInfo: new Map(),
      opsets: new Map([['', 13]]),
    };
    const inputs = new Map([
      [
        x,
        T(
          [1, S, E],
          Array.from({ length: S * E }, () => this.r(-100, 100)),
        ),
      ],
    ]);
    return { name, graph, inputs, layerOutputs: outs, layerNodes: this.layerNodes, description: name };
  }
}

function linearModel(seed: number, S = 64, K = 64, N = 128): EncoderModel {
  const g = new G(rng(seed));
  const y = g.linear('x', K, N, 'relu');
  return g.model('linear', 'x', S, K, [y]);
}

function attentionModel(seed: number, S = 64, E = 64, H = 2): EncoderModel {
  const g = new G(rng(seed));
  const y = g.attention('x', E, 64, H);
  return g.model('attention', 'x', S, E, [y]);
}

function residualModel(seed: number, S = 64, E = 64): EncoderModel {
  const g = new G(rng(seed));
  const l = g.linear('x', E, E);
  const y = g.layernorm(g.add('x', l), E);
  return g.model('residual', 'x', S, E, [y]);
}

/** Two encoder layers: attention + residual + LayerNorm, FFN (ReLU) + residual + LayerNorm / NoNorm. */
function encoderModel(seed: number, S = 64, E = 64, H = 2, F = 128): EncoderModel {
  const g = new G(rng(seed));
  let x = 'x';
  const outs: string[] = [];
  for (let l = 0; l < 2; l++) {
    if (l > 0) g.newLayer();
    const a = g.attention(x, E, 64, H);
    const n1 = g.layernorm(g.add(x, a), E);
    const f = g.linear(g.linear(n1, E, F, 'relu'), F, E);
    const r = g.add(n1, f);
    x = l === 0 ? g.layernorm(r, E) : g.nonorm(r, E);
    outs.push(x);
  }
  return g.model('encoder', 'x', S, E, outs);
}

/** Runs and checks the result: every layer bit-exact, statistics consistent. */
function check(model: EncoderModel, clusterOnly: boolean, layers?: number): EncoderRunResult {
  let placements: Placement[] = [];
  const r = runEncoder(model, { clusterOnly, layers, beforeRun: (_m, s) => (placements = s.placements) });
  for (const l of r.layers) expect(l.mismatch).toBeNull();
  expect(r.bitExact).toBe(true);
  expect(r.layers.length).toBe(layers ?? model.layerOutputs.length);
  // the static allocation never overlaps live buffers
  expect(overlapping(placements)).toBeNull();
  expect(Math.max(...placements.map((p) => p.offset + p.bytes))).toBeLessThanOrEqual(119 * 1024);
  // statistics add up
  expect(r.layers.reduce((n, l) => n + l.cycles, 0)).toBe(r.cycles);
  expect(r.opStats.reduce((n, o) => n + o.ops, 0)).toBe(r.ops);
  if (clusterOnly) expect(r.itaBusy).toBe(0);
  else {
    expect(r.itaBusy).toBeGreaterThan(0);
    expect(r.itaUtilisation).toBeCloseTo(r.itaBusy / r.cycles, 12);
  }
  return r;
}

describe('tiler: small graphs on the cycle-level machine, bit-exact', () => {
  it('one linear layer (ReLU), ITA and cluster-only', () => {
    const ita = check(linearModel(1), false);
    expect(ita.opStats.map((o) => [o.kind, o.unit])).toEqual([['linear', 'ita']]);
    expect(ita.ops).toBe(2 * 64 * 64 * 128);
    expect(ita.itaJobs).toBe(2);
    const co = check(linearModel(1), true);
    expect(co.opStats[0]!.unit).toBe('cores');
    expect(co.itaJobs).toBe(0);
    // the speed-up of ITA over the cores
    expect(co.cycles).toBeGreaterThan(10 * ita.cycles);
  });

  it('attention with 2 heads and the head sum (ITA), 128 rows', () => {
    const r = check(attentionModel(2, 128, 64, 2), false);
    expect(r.opStats.map((o) => [o.kind, o.unit])).toEqual([
      ['attention', 'ita'],
      ['sum', 'cores'],
    ]);
    // per head: Q, K 2 jobs each, V 2, QK 2 x 2, AV 2 x 2, OW 2
    expect(r.itaJobs).toBe(2 * 16);
  });

  it('attention with 3 heads (ITA), 64 rows', () => {
    check(attentionModel(3, 64, 64, 3), false);
  });

  it('attention with 1 head (cluster-only)', () => {
    check(attentionModel(4, 64, 64, 1), true);
  });

  it('residual add + iLayerNorm after a linear (ITA and cluster-only)', () => {
    const r = check(residualModel(5), false);
    expect(r.opStats.map((o) => o.kind)).toEqual(['linear', 'add', 'layernorm']);
    check(residualModel(5), true);
  });

  it('a two-layer encoder (ITA), every layer checked; --layers 1 runs the first only', () => {
    const m = encoderModel(6);
    const r = check(m, false);
    expect(r.layers.map((l) => l.layer)).toEqual([0, 1]);
    expect(r.layers.every((l) => l.cycles > 0 && l.ita > 0 && l.ops > 0)).toBe(true);
    expect(r.timeline.some((t) => t.unit === 'ita')).toBe(true);
    // every lane drawn from the activity it names: one per compute core; the DMA lane covers the
    // cycles with a transfer in flight (gaps under 32 cycles within a step merged), not the steps
    for (let i = 0; i < 8; i++) expect(r.timeline.some((t) => t.unit === `core${i}`)).toBe(true);
    const dma = r.timeline.filter((t) => t.unit === 'dma');
    const drawn = dma.reduce((n, t) => n + t.end - t.start, 0);
    expect(drawn).toBeGreaterThanOrEqual(r.dmaBusy);
    expect(drawn).toBeLessThan(r.dmaBusy + 32 * dma.length);
    const one = check(encoderModel(6), false, 1);
    expect(one.cycles).toBeLessThan(r.cycles);
  });

  it('the MobileBERT preset, 1 layer, S = 64 (ITA): bit-exact', () => {
    const r = check(buildPreset('mobilebert', { seq: 64, layers: 1 }), false);
    expect(r.opStats.filter((o) => o.unit === 'ita').map((o) => o.kind)).toContain('attention');
    expect(r.opStats.filter((o) => o.kind === 'linear').every((o) => o.unit === 'ita')).toBe(true);
  });

  it.each(['dinov2', 'whisper'])('the %s preset, 1 layer, S = 64 (ITA): bit-exact', (name) => {
    const r = check(buildPreset(name, { seq: 64, layers: 1 }), false);
    expect(r.opStats.filter((o) => o.unit === 'ita').map((o) => o.kind)).toContain('attention');
    expect(r.opStats.some((o) => o.kind === 'layernorm')).toBe(true);
  });

  it('layout nodes (Reshape, Transpose of a size-1 axis, Squeeze, Unsqueeze) resolve at map time', () => {
    const g = new G(rng(8));
    const r = g.node('Reshape', ['x', g.const([2], [64, 64])]);
    const u = g.node('Unsqueeze', [r], { axes: Is([0]) });
    const t = g.node('Transpose', [u], { perm: Is([1, 0, 2]) });
    const y = g.node('Squeeze', [g.linear(t, 64, 64)], { axes: Is([1]) });
    const res = check(g.model('layout', 'x', 64, 64, [y]), false);
    expect(res.opStats.map((o) => o.kind)).toEqual(['linear']);
  });

  it('dropWeights: the same run, the model left without its initialisers', () => {
    const keep = runEncoder(linearModel(3));
    const model = linearModel(3);
    expect(model.graph.initializers.size).toBeGreaterThan(0);
    const drop = runEncoder(model, { dropWeights: true });
    expect(model.graph.initializers.size).toBe(0);
    const same = (r: typeof keep) => ({ ...r, simSeconds: 0, simCyclesPerSecond: 0 });
    expect(same(drop)).toEqual(same(keep));
    expect(drop.bitExact).toBe(true);
  });

  it('detects a wrong byte: one weight corrupted in DRAM after placement', () => {
    const r = runEncoder(linearModel(7), {
      beforeRun: (m, s) => {
        const key = [...s.dram.addr.keys()].find((k) => k.endsWith('/w0'))!;
        const a = s.dram.get(key) + 100;
        m.write(a, Uint8Array.of(m.read(a, 1)[0]! ^ 0x40));
      },
    });
    expect(r.bitExact).toBe(false);
    expect(r.layers[0]!.mismatch).toMatch(
      /^Relu_\d+_y0\[\d+, 1\] = -?\d+, expected -?\d+ \(\d+ bytes differ\)/,
    );
  });
});

describe('tiler: L1 allocation', () => {
  it('never overlaps buffers whose lifetimes intersect; 64-byte aligned; inside the region', () => {
    const item = fc.record({
      bytes: fc.integer({ min: 1, max: 20000 }),
      first: fc.integer({ min: 0, max: 30 }),
      len: fc.integer({ min: 0, max: 10 }),
    });
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 4096, max: 200000 }),
        (xs, size) => {
          const items: Lifetime[] = xs.map((x, i) => ({
            key: `b${i}`,
            bytes: x.bytes,
            first: x.first,
            last: x.first + x.len,
          }));
          let ps;
          try {
            ps = allocate(items, size);
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
            expect((e as Error).message).toMatch(
              /^L1: buffer b\d+ \(\d+ bytes, steps \d+\.\.\d+\) does not fit/,
            );
            // everything fits one after the other: first fit never fails then
            expect(items.reduce((n, it) => n + Math.ceil(it.bytes / 64) * 64, 0)).toBeGreaterThan(size);
            expect(peakLive(items)).toBeGreaterThan(0);
            return;
          }
          expect(overlapping(ps)).toBeNull();
          ps.forEach((p, i) => {
            expect(p.key).toBe(items[i]!.key);
            expect(p.offset % 64).toBe(0);
            expect(p.offset + p.bytes).toBeLessThanOrEqual(size);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reuses bytes across disjoint lifetimes', () => {
    const ps = allocate(
      [
        { key: 'a', bytes: 4096, first: 0, last: 1 },
        { key: 'b', bytes: 4096, first: 2, last: 3 },
        { key: 'c', bytes: 100, first: 1, last: 2 },
      ],
      8192,
    );
    expect(ps.map((p) => p.offset)).toEqual([0, 0, 4096]);
    expect(() => allocate([{ key: 'a', bytes: 9000, first: 0, last: 0 }], 8192)).toThrow(
      /L1: buffer a \(9000 bytes/,
    );
  });
});

describe('tiler: refusals name the node and the reason', () => {
  const refuse = (build: (g: G) => string, re: RegExp, E = 64): void => {
    const g = new G(rng(9));
    const y = build(g);
    expect(() => runEncoder(g.model('bad', 'x', 64, E, [y]))).toThrow(re);
    try {
      runEncoder(g.model('bad', 'x', 64, E, [y]));
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
    }
  };
  it('a requantiser that ITA cannot apply sends the linear to the cores, bit-exact, saying why', () => {
    for (const [mul, add, why] of [
      [80, 5, /add 5 is neither a multiple of div 4096 .* nor of mul 80/],
      [300, 0, /mul 300 is not in ITA's form \(0\.\.255\)/],
    ] as const) {
      const g = new G(rng(9));
      const h = g.linear('x', 64, 64);
      const y = g.rq(g.node('MatMul', [h, g.rand([64, 64], -128, 127)]), mul, add, 12);
      const r = check(g.model('dgemm', 'x', 64, 64, [y]), false);
      expect(r.opStats.map((o) => [o.kind, o.unit])).toEqual([
        ['linear', 'ita'],
        ['dgemm', 'cores'],
      ]);
      expect(r.opStats[1]!.reason).toMatch(why);
    }
  });
  it('ops without a mapping, padded columns where they are not exact, MHSA with v != k', () => {
    refuse((g) => g.node('Sub', ['x', 'x']), /^node Sub_\d+ \(Sub\): op Sub has no tiler mapping/);
    refuse(
      (g) => g.layernorm(g.rq(g.node('MatMul', ['x', g.rand([64, 96], -128, 127)]), 80, 0, 12), 96),
      /^node iLayerNorm_\d+ \(iLayerNorm\): input data \(RequantShift_\d+_y0\) has 96 columns, padded to 128: only linear layers \(against zero weights\) and iSoftmax/,
    );
    refuse((g) => {
      const y = g.attention('x', 64, 64, 1);
      const mh = g.nodes.find((n) => n.opType === 'MHSA')!;
      mh.inputs[2] = g.layernorm('x', 64);
      return y;
    }, /^node MHSA_\d+ \(MHSA\): v must be the same tensor as k/);
  });
  it('a transpose that moves data beyond swapping the two axes of a matrix', () => {
    refuse((g) => {
      const x3 = g.node('Reshape', ['x', g.const([3], [4, 16, 64])]);
      return g.linear(g.node('Transpose', [x3], { perm: Is([1, 0, 2]) }), 64, 64);
    }, /^node Transpose_\d+ \(Transpose\): perm \[1,0,2\] of \[4x16x64\] moves data beyond swapping/);
  });
  it('layers out of range', () => {
    expect(() => runEncoder(linearModel(1), { layers: 2 })).toThrow(
      /^layers must be an integer from 1 to 1, got 2/,
    );
  });
});
