/**
 * The encoder presets: shapes and structure of each graph, reproducible seeds, constants in ITA's
 * exact forms, activations in range through the functional executor, MobileBERT's head padding,
 * refused parameters, and the ONNX loader's layer rule.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGolden, text } from '../../golden/archive.ts';
import { runGraph } from '../../onnx/executor.ts';
import type { Graph, GraphNode } from '../../onnx/model.ts';
import type { Tensor } from '../../onnx/tensor.ts';
import { buildModel, constFromTensor, type NodeSpec } from '../../onnx/writer.ts';
import { InputError } from '../../rtl-model/errors.ts';
import {
  PRESETS,
  PRESET_DIMS,
  buildPreset,
  geluConstants,
  loadOnnxModel,
  type EncoderModel,
} from '../../tiler/presets.ts';

const ALLOWED = new Set([
  'MHSA',
  'ReduceSum',
  'RequantShift',
  'MatMul',
  'Add',
  'Relu',
  'ITAGELU',
  'iLayerNorm',
  'iNoNorm',
]);

const scalar = (g: Graph, name: string): number => {
  const t = g.initializers.get(name)!;
  expect(t.data.length).toBe(1);
  return t.data[0]!;
};
const int = (n: GraphNode, a: string): number => {
  const v = n.attrs.get(a)!;
  if (v.kind !== 'int') throw new Error(`${a} is not an int`);
  return v.value;
};
const ints = (n: GraphNode, a: string): number[] => {
  const v = n.attrs.get(a)!;
  if (v.kind !== 'ints') throw new Error(`${a} is not ints`);
  return v.value;
};

function spread(t: Tensor): { std: number; saturated: number } {
  let s = 0;
  let s2 = 0;
  let sat = 0;
  for (const v of t.data) {
    s += v;
    s2 += v * v;
    if (v <= -128 || v >= 127) sat++;
  }
  const n = t.data.length;
  return { std: Math.sqrt(s2 / n - (s / n) ** 2), saturated: sat / n };
}

describe('presets: structure', () => {
  it.each(PRESETS)('%s: shapes, layers and op types', (name) => {
    const m = buildPreset(name, { seq: 64, layers: 2 });
    const d = PRESET_DIMS[name];
    expect(m.name).toBe(name);
    expect(m.layerOutputs).toHaveLength(2);
    expect(m.layerNodes).toHaveLength(2);
    expect(m.graph.inputs).toEqual([{ name: 'x', elemType: 3, shape: [1, 64, d.embed] }]);
    expect(m.inputs.get('x')!.shape).toEqual([1, 64, d.embed]);
    expect(m.description).toContain('S=64');
    const names = new Set(m.graph.nodes.map((n) => n.name));
    expect(m.layerNodes.flat().sort()).toEqual([...names].sort());
    for (const n of m.graph.nodes) expect(ALLOWED.has(n.opType), n.opType).toBe(true);
    // the layer output is produced inside its layer
    m.layerOutputs.forEach((o, l) => {
      const p = m.graph.nodes.find((n) => n.outputs.includes(o))!;
      expect(m.layerNodes[l]).toContain(p.name);
    });
    const per = (op: string): number => m.layerNodes[0]!.filter((n) => n.includes(`_${op}_`)).length;
    expect(per('MHSA')).toBe(1);
    if (name === 'mobilebert') {
      expect(per('MatMul')).toBe(2 + 8 + 1);
      expect(per('iNoNorm')).toBe(2 + 1 + 4 + 1);
      expect(per('Relu')).toBe(4);
    } else {
      // the FFN (1536 hidden) runs as two halves of 768: ITA's inner dimension stops at 960
      expect(per('MatMul')).toBe(4);
      expect(per('ITAGELU')).toBe(2);
      for (const n of m.graph.nodes.filter((x) => x.opType === 'MatMul'))
        expect(m.graph.initializers.get(n.inputs[1]!)!.shape[0]).toBeLessThanOrEqual(960);
      expect(per('iLayerNorm')).toBe(2);
    }
  });

  it('defaults: full depth and the documented sequence lengths', () => {
    expect(PRESET_DIMS).toEqual({
      mobilebert: { layers: 24, seq: 128, embed: 512, heads: 4, ffn: 512 },
      dinov2: { layers: 12, seq: 192, embed: 384, heads: 6, ffn: 1536 },
      whisper: { layers: 4, seq: 192, embed: 384, heads: 6, ffn: 1536 },
    });
    const w = buildPreset('whisper');
    expect(w.layerOutputs).toHaveLength(4);
    expect(w.inputs.get('x')!.shape).toEqual([1, 192, 384]);
    // the final LayerNorm closes the last layer only
    const lastOut = w.graph.nodes.find((n) => n.outputs.includes(w.layerOutputs[3]!))!;
    expect(lastOut.opType).toBe('iLayerNorm');
    const firstOut = w.graph.nodes.find((n) => n.outputs.includes(w.layerOutputs[0]!))!;
    expect(firstOut.opType).toBe('RequantShift');
  });

  it('constants are in the exact forms of ITA', () => {
    for (const name of PRESETS) {
      const m = buildPreset(name, { seq: 64, layers: 1 });
      const g = m.graph;
      for (const n of g.nodes) {
        if (n.opType === 'RequantShift') {
          const mul = scalar(g, n.inputs[1]!);
          const add = scalar(g, n.inputs[2]!);
          const div = int(n, 'div');
          expect(Number.isInteger(Math.log2(div))).toBe(true);
          expect(mul).toBeGreaterThanOrEqual(1);
          expect(mul).toBeLessThanOrEqual(63);
          expect(add % div === 0).toBe(true);
          expect(Math.abs(add / div)).toBeLessThanOrEqual(127);
        }
        if (n.opType === 'MatMul') {
          const w = g.initializers.get(n.inputs[1]!)!;
          const K = w.shape[0]!;
          for (const v of w.data) expect(v >= -128 && v <= 127).toBe(true);
          const add = g.nodes.find((x) => x.inputs.includes(n.outputs[0]!))!;
          expect(add.opType).toBe('Add');
          const b = g.initializers.get(add.inputs[1]!)!;
          const bmax = Math.max(...Array.from(b.data, Math.abs));
          expect(K * 128 * 128 + bmax).toBeLessThan(2 ** 25);
        }
        if (n.opType === 'MHSA') {
          for (const s of ['wq', 'wk', 'wv', 'preattn', 'postattn', 'wo']) {
            for (const v of ints(n, `${s}_requant_mul`)) expect(v >= 0 && v <= 255).toBe(true);
            for (const v of ints(n, `${s}_requant_div`)) expect(Number.isInteger(Math.log2(v))).toBe(true);
            for (const v of ints(n, `${s}_requant_add`)) expect(v >= -128 && v <= 127).toBe(true);
          }
          expect(n.inputs[0]).toBe(n.inputs[1]);
          expect(n.inputs[1]).toBe(n.inputs[2]);
        }
      }
    }
  });

  it("GELU constants equal PyITA's for the same input scale", () => {
    const f = loadGolden('pyita/S64_E64_P64_F64_H1_gelu_seed1');
    const one = (p: string): number => Number(text(f, p).trim().split(/\s+/)[0]);
    expect(geluConstants()).toEqual({
      b: one('GELU_B.txt'),
      c: one('GELU_C.txt'),
      mult: one('activation_requant_mult.txt'),
      shift: one('activation_requant_shift.txt'),
      add: one('activation_requant_add.txt'),
    });
  });

  it("MobileBERT's 32-wide heads are padded to 64 with zeros and zero q/k/v requant adds", () => {
    const m = buildPreset('mobilebert', { seq: 64, layers: 1 });
    const g = m.graph;
    const n = g.nodes.find((x) => x.opType === 'MHSA')!;
    expect(int(n, 'dim_head')).toBe(64);
    expect(int(n, 'heads')).toBe(4);
    const [H, E, P] = [4, 128, 64];
    for (const i of [3, 5, 7]) {
      const w = g.initializers.get(n.inputs[i]!)!;
      const b = g.initializers.get(n.inputs[i + 1]!)!;
      expect(w.shape).toEqual([H, E, P]);
      let live = 0;
      for (let h = 0; h < H; h++)
        for (let e = 0; e < E; e++)
          for (let p = 0; p < P; p++) {
            const v = w.data[(h * E + e) * P + p]!;
            if (p >= 32) expect(v).toBe(0);
            else if (v !== 0) live++;
          }
      expect(live).toBeGreaterThan(H * E * 30);
      for (let h = 0; h < H; h++) for (let p = 32; p < P; p++) expect(b.data[h * P + p]).toBe(0);
    }
    const wo = g.initializers.get(n.inputs[9]!)!;
    for (let h = 0; h < H; h++)
      for (let p = 32; p < P; p++) for (let e = 0; e < E; e++) expect(wo.data[(h * P + p) * E + e]).toBe(0);
    for (const s of ['wq', 'wk', 'wv']) expect(ints(n, `${s}_requant_add`)).toEqual([0, 0, 0, 0]);
  });
});

describe('presets: seeds', () => {
  const same = (a: EncoderModel, b: EncoderModel, nodes: number): void => {
    expect(b.graph.nodes.slice(0, nodes).map((n) => n.name)).toEqual(
      a.graph.nodes.slice(0, nodes).map((n) => n.name),
    );
    for (const [k, t] of a.graph.initializers) {
      const u = b.graph.initializers.get(k);
      if (!u) continue;
      expect(Array.from(u.data)).toEqual(Array.from(t.data));
    }
  };

  it('the same seed gives the same graph and inputs, another seed different weights', () => {
    const a = buildPreset('dinov2', { seq: 64, layers: 1, seed: 7 });
    const b = buildPreset('dinov2', { seq: 64, layers: 1, seed: 7 });
    same(a, b, a.graph.nodes.length);
    expect(b.graph.initializers.size).toBe(a.graph.initializers.size);
    expect(Array.from(b.inputs.get('x')!.data)).toEqual(Array.from(a.inputs.get('x')!.data));
    const c = buildPreset('dinov2', { seq: 64, layers: 1, seed: 8 });
    const w = (m: EncoderModel): number[] =>
      Array.from(
        m.graph.initializers.get(m.graph.nodes.find((n) => n.opType === 'MatMul')!.inputs[1]!)!.data,
      );
    expect(w(c)).not.toEqual(w(a));
    expect(Array.from(c.inputs.get('x')!.data)).not.toEqual(Array.from(a.inputs.get('x')!.data));
  });

  it('the first layers do not depend on the depth or on the sequence length', () => {
    const one = buildPreset('mobilebert', { seq: 64, layers: 1 });
    const two = buildPreset('mobilebert', { seq: 128, layers: 2 });
    same(one, two, one.graph.nodes.length);
    expect(two.layerOutputs[0]).toBe(one.layerOutputs[0]);
    expect(Array.from(two.inputs.get('x')!.data.subarray(0, 64 * 512))).toEqual(
      Array.from(one.inputs.get('x')!.data),
    );
  });
});

describe('presets: activations stay in range (functional executor)', () => {
  it.each([
    ['mobilebert', 64, 2],
    ['dinov2', 128, 1],
    ['whisper', 64, 1],
  ] as const)(
    '%s S=%d, %d layer(s)',
    (name, seq, layers) => {
      const m = buildPreset(name, { seq, layers });
      const r = runGraph(m.graph, m.inputs, { softmax: 'rtl' });
      let checked = 0;
      for (const n of r.order) {
        if (!['RequantShift', 'iNoNorm', 'iLayerNorm', 'ITAGELU', 'Relu'].includes(n.opType)) continue;
        const { std, saturated } = spread(r.tensors.get(n.outputs[0]!)!);
        const lo = n.opType === 'ITAGELU' || n.opType === 'Relu' ? 6 : 8;
        expect(std, `${n.name} std`).toBeGreaterThan(lo);
        expect(std, `${n.name} std`).toBeLessThan(60);
        expect(saturated, `${n.name} saturated`).toBeLessThan(0.02);
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(layers * 8);
      for (const o of m.layerOutputs) {
        const { std } = spread(r.tensors.get(o)!);
        expect(std).toBeGreaterThan(12);
        expect(std).toBeLessThan(50);
      }
    },
    60_000,
  );
});

describe('presets: storage of the constants', () => {
  it('weights are held a byte a value, and compute what Float64Array copies compute', () => {
    const m = buildPreset('mobilebert', { seq: 64, layers: 1 });
    const w = m.graph.initializers.get(m.graph.nodes.find((n) => n.opType === 'MatMul')!.inputs[1]!)!;
    expect(w.data).toBeInstanceOf(Int8Array);
    const ref = runGraph(m.graph, m.inputs, { softmax: 'rtl' });
    const wide: Graph = {
      ...m.graph,
      initializers: new Map(
        [...m.graph.initializers].map(([k, t]) => [k, { ...t, data: Float64Array.from(t.data) }]),
      ),
    };
    const out = runGraph(wide, m.inputs, { softmax: 'rtl' });
    for (const o of m.layerOutputs)
      expect(Array.from(out.tensors.get(o)!.data)).toEqual(Array.from(ref.tensors.get(o)!.data));
  });
});

describe('presets: refused parameters', () => {
  it.each([0, 32, 100, 1024, 65.5])('seq %s', (seq) => {
    expect(() => buildPreset('mobilebert', { seq })).toThrow(InputError);
    expect(() => buildPreset('mobilebert', { seq })).toThrow(/--seq must be a multiple of 64 from 64 to 960/);
  });
  it('layers and names', () => {
    expect(() => buildPreset('mobilebert', { layers: 25 })).toThrow(
      /--layers must be an integer from 1 to 24/,
    );
    expect(() => buildPreset('whisper', { layers: 0 })).toThrow(/--layers/);
    expect(() => buildPreset('bert')).toThrow(/preset must be one of mobilebert, dinov2, whisper/);
  });
});

describe('loadOnnxModel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'itasim-onnx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let written = 0;
  /** A preset written as a network.onnx (constants as int32 initialisers). */
  function writeOnnx(m: EncoderModel): string {
    const nodes: NodeSpec[] = m.graph.nodes.map((n) => ({
      op: n.opType,
      name: n.name,
      inputs: n.inputs,
      outputs: n.outputs,
      attrs: Object.fromEntries(n.attrs),
    }));
    const init = Object.fromEntries(
      [...m.graph.initializers].map(([k, t]) => [k, constFromTensor(t, 'int32')]),
    );
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: m.inputs.get('x')!.shape, type: 'int8' }],
      outputs: [{ name: m.layerOutputs[m.layerOutputs.length - 1]!, type: 'int8' }],
      nodes,
      initializers: init,
    });
    const sub = join(dir, String(written++));
    mkdirSync(sub);
    const path = join(sub, 'network.onnx');
    writeFileSync(path, bytes);
    return path;
  }

  it('finds one layer per MHSA block, with the pre-norm LayerNorm in the next layer', () => {
    const m = buildPreset('whisper', { seq: 64, layers: 2 });
    const path = writeOnnx(m);
    const l = loadOnnxModel(path);
    expect(l.name).toBe('network');
    expect(l.layerOutputs).toEqual(m.layerOutputs);
    expect(l.layerNodes).toEqual(m.layerNodes);
    expect(l.inputs.get('x')!.shape).toEqual([1, 64, 384]);
    // the loaded graph computes what the preset computes
    const x = m.inputs;
    const a = runGraph(m.graph, x, { softmax: 'rtl' }).outputs;
    const b = runGraph(l.graph, x, { softmax: 'rtl' }).outputs;
    expect(Array.from(b.values())[0]!.data).toEqual(Array.from(a.values())[0]!.data);
  });

  it('refuses a missing file with one line', () => {
    expect(() => loadOnnxModel('/nonexistent/network.onnx')).toThrow(InputError);
  });
});
