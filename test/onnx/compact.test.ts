/** Tensors held in int8 or int32 arrays (`compactData`) compute what Float64Array tensors compute. */
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../onnx/executor.ts';
import type { Attr, Graph } from '../../onnx/model.ts';
import { compactData, type Tensor } from '../../onnx/tensor.ts';

describe('compactData', () => {
  it('picks the smallest array that holds every value exactly', () => {
    expect(compactData(Float64Array.of(-128, 0, 127))).toBeInstanceOf(Int8Array);
    expect(compactData(Float64Array.of(-129, 5))).toBeInstanceOf(Int32Array);
    expect(compactData(Float64Array.of(255))).toBeInstanceOf(Int32Array);
    expect(compactData(Float64Array.of(-(2 ** 31), 2 ** 31 - 1))).toBeInstanceOf(Int32Array);
    for (const d of [[2 ** 31], [0.5], [-0], [NaN], [1, Infinity]]) {
      const f = Float64Array.from(d);
      expect(compactData(f)).toBe(f);
    }
    const i8 = Int8Array.of(1, -2);
    expect(compactData(i8)).toBe(i8);
    expect(Array.from(compactData(Float64Array.of(-100, 3000)))).toEqual([-100, 3000]);
  });
});

describe('ops reading int8 constants', () => {
  /** One node `op` reading the constant `c` (and `more` constants), its output as the graph output. */
  const run = (op: string, c: Tensor, attrs: Record<string, Attr>, more: Tensor[] = []): number[] => {
    const names = ['c', ...more.map((_, i) => `m${i}`)];
    const graph: Graph = {
      name: 'g',
      nodes: [
        {
          name: 'n',
          opType: op,
          domain: '',
          inputs: names,
          outputs: ['y'],
          attrs: new Map(Object.entries(attrs)),
        },
      ],
      initializers: new Map([c, ...more].map((t, i) => [names[i]!, t])),
      inputs: [],
      outputs: [{ name: 'y', elemType: 0, shape: undefined }],
      valueInfo: new Map(),
      opsets: new Map([['', 13]]),
    };
    return Array.from(runGraph(graph, new Map()).outputs.get('y')!.data);
  };
  const values = Float64Array.from({ length: 256 }, (_, i) => i - 128);
  const as = (data: Tensor['data']): Tensor => ({ shape: [16, 16], data, signed: true });

  it('element-wise results beyond int8 are not wrapped into the input array', () => {
    const attrs = { b: { kind: 'int', value: -42 }, one: { kind: 'int', value: 1929 } } as const;
    const wide = run('iGELU', as(values), attrs);
    expect(wide.some((v) => v < -128 || v > 127)).toBe(true);
    expect(run('iGELU', as(Int8Array.from(values)), attrs)).toEqual(wide);
  });

  it('MatMul and Add read int8 and int32 constants as the same values', () => {
    const b = Float64Array.from({ length: 256 }, (_, i) => ((i * 37) % 255) - 127);
    const bias = Float64Array.from({ length: 16 }, (_, i) => i * 1000 - 7000);
    const mm = run('MatMul', as(values), {}, [as(b)]);
    expect(run('MatMul', as(Int8Array.from(values)), {}, [as(Int8Array.from(b))])).toEqual(mm);
    const add = run('Add', as(values), {}, [{ shape: [16], data: bias, signed: true }]);
    expect(
      run('Add', as(Int8Array.from(values)), {}, [
        { shape: [16], data: Int32Array.from(bias), signed: true },
      ]),
    ).toEqual(add);
  });
});
