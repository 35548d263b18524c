/**
 * The ITAGELU graph op (onnx/ops/ita.ts) computes ITA's activation unit: checked against PyITA's
 * reference data (the activation unit on its own, `preactivation.txt` -> `gelu.txt`, with that
 * case's GELU and activation requantiser constants) and, for every int8 input, against the RTL
 * reference of rtl-model/ref/gelu.ts with other constants.
 */
import { describe, expect, it } from 'vitest';
import { loadGolden, text } from '../../golden/archive.ts';
import { runGraph } from '../../onnx/executor.ts';
import type { Attr, Graph } from '../../onnx/model.ts';
import { InputError } from '../../rtl-model/errors.ts';
import { geluRequantized } from '../../rtl-model/ref/gelu.ts';

const nums = (s: string): number[] =>
  s
    .split(/\s+/)
    .filter((x) => x !== '')
    .map(Number);

function geluGraph(n: number, c: { b: number; c: number; mult: number; shift: number; add: number }): Graph {
  const I = (value: number): Attr => ({ kind: 'int', value });
  return {
    name: 'gelu',
    nodes: [
      {
        name: 'g',
        opType: 'ITAGELU',
        domain: '',
        inputs: ['x'],
        outputs: ['y'],
        attrs: new Map([
          ['b', I(c.b)],
          ['c', I(c.c)],
          ['mult', I(c.mult)],
          ['shift', I(c.shift)],
          ['add', I(c.add)],
        ]),
      },
    ],
    initializers: new Map(),
    inputs: [{ name: 'x', elemType: 3, shape: [n] }],
    outputs: [{ name: 'y', elemType: 3, shape: [n] }],
    valueInfo: new Map(),
    opsets: new Map([['', 13]]),
  };
}

function run(xs: number[], c: { b: number; c: number; mult: number; shift: number; add: number }): number[] {
  const r = runGraph(
    geluGraph(xs.length, c),
    new Map([['x', { shape: [xs.length], data: Float64Array.from(xs), signed: true }]]),
  );
  return Array.from(r.outputs.get('y')!.data);
}

describe('ITAGELU', () => {
  it("equals PyITA's activation unit on its reference data", () => {
    const f = loadGolden('pyita/S64_E64_P64_F64_H1_gelu_seed1');
    const one = (p: string): number => nums(text(f, p))[0]!;
    const consts = {
      b: one('GELU_B.txt'),
      c: one('GELU_C.txt'),
      mult: one('activation_requant_mult.txt'),
      shift: one('activation_requant_shift.txt'),
      add: one('activation_requant_add.txt'),
    };
    expect(one('GELU_ONE.txt')).toBe(consts.c);
    const x = nums(text(f, 'standalone/preactivation.txt'));
    const want = nums(text(f, 'standalone/gelu.txt'));
    expect(x.length).toBeGreaterThan(1000);
    expect(run(x, consts)).toEqual(want);
  });

  it('equals the RTL reference for every int8 input', () => {
    const xs = Array.from({ length: 256 }, (_, i) => i - 128);
    for (const c of [
      { b: -80, c: -7091, mult: 74, shift: 20, add: 0 },
      { b: -40, c: -1773, mult: 200, shift: 16, add: -7 },
      { b: -128, c: -20000, mult: 3, shift: 12, add: 11 },
    ]) {
      const want = xs.map((x) =>
        geluRequantized(x, { one: c.c, b: c.b, c: c.c, rqsMul: c.mult, rqsShift: c.shift, rqsAdd: c.add }),
      );
      expect(run(xs, c)).toEqual(want);
    }
  });

  it('refuses constants outside the hardware widths', () => {
    expect(() => run([1], { b: -80, c: -7091, mult: 256, shift: 20, add: 0 })).toThrow(InputError);
    expect(() => run([1], { b: -80, c: -40000, mult: 74, shift: 20, add: 0 })).toThrow(/attribute c/);
    expect(() => run([200], { b: -80, c: -7091, mult: 74, shift: 20, add: 0 })).toThrow(/not int8/);
  });
});
