import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildFolder, readCase } from '../../golden/folder.ts';
import { compareFolders } from '../../golden/compare.ts';
import { computeOutputs } from '../../rtl-model/ref/ita.ts';
import type { Activation, ItaInputs, ItaParams, RequantTable, Tensor } from '../../golden/types.ts';
import { firstTensorDiff } from './helpers.ts';

/** Random inputs of the given shape, values drawn with a seeded generator. */
function inputs(p: ItaParams, seed: number): ItaInputs {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8) / 2 ** 24;
  const t = (shape: number[], lo: number, hi: number, zero = false): Tensor => ({
    shape,
    data: Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
      zero ? 0 : lo + Math.floor(rnd() * (hi - lo + 1)),
    ),
  });
  const i8 = (shape: number[]) => t(shape, -128, 127);
  const b = (shape: number[]) => t(shape, -(2 ** 23), 2 ** 23 - 1, !p.bias);
  const table = (steps: number, heads: number): RequantTable => ({
    mult: Array.from({ length: steps }, () => Array.from({ length: heads }, () => Math.floor(rnd() * 256))),
    shift: Array.from({ length: steps }, () =>
      Array.from({ length: heads }, () => 8 + Math.floor(rnd() * 16)),
    ),
    add: Array.from({ length: steps }, () =>
      Array.from({ length: heads }, () => Math.floor(rnd() * 256) - 128),
    ),
  });
  const { S, E, P, F, H } = p;
  return {
    params: p,
    Q: i8([S, E]),
    K: i8([S, E]),
    Wq: i8([H, E, P]),
    Wk: i8([H, E, P]),
    Wv: i8([H, E, P]),
    Wo: i8([H, P, E]),
    Bq: b([H, P]),
    Bk: b([H, P]),
    Bv: b([H, P]),
    Bo: b([H, E]),
    FF: i8([S, E]),
    Wff: i8([1, E, F]),
    Wff2: i8([1, F, E]),
    Bff: b([1, F]),
    Bff2: b([1, E]),
    preactivation: i8([S, F]),
    rqsAttn: table(7, H),
    rqsFfn: table(2, 1),
    gelu: { one: -7091, b: -80, c: -7091, rqsMul: 74, rqsShift: 20, rqsAdd: 0 },
  };
}

describe('write, then read back', () => {
  it('recovers every input and output of random cases (dimensions 64/128, H 1..4)', () => {
    const dim = fc.constantFrom(64, 128);
    fc.assert(
      fc.property(
        fc.record({
          S: dim,
          E: dim,
          P: dim,
          F: dim,
          H: fc.integer({ min: 1, max: 4 }),
          activation: fc.constantFrom<Activation>('identity', 'relu', 'gelu'),
          bias: fc.boolean(),
        }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (p, seed) => {
          const inp = inputs(p, seed);
          const out = computeOutputs(inp);
          const files = buildFolder(
            { inputs: inp, outputs: out },
            { commandLine: 'x', exportSnitchCluster: true },
          );
          const back = readCase(files, { activation: p.activation });
          expect(back.inputs.params).toEqual(p);
          for (const k of [
            'Q',
            'K',
            'Wq',
            'Wk',
            'Wv',
            'Wo',
            'Bq',
            'Bk',
            'Bv',
            'Bo',
            'FF',
            'Wff',
            'Wff2',
            'Bff',
            'Bff2',
            'preactivation',
          ] as const)
            expect(firstTensorDiff(back.inputs[k], inp[k]), k).toBe(-1);
          expect(back.inputs.rqsAttn).toEqual(inp.rqsAttn);
          expect(back.inputs.rqsFfn).toEqual(inp.rqsFfn);
          expect(back.inputs.gelu).toEqual(inp.gelu);
          for (const k of Object.keys(out) as (keyof typeof out)[])
            expect(firstTensorDiff(back.outputs[k], out[k]), k).toBe(-1);
          const again = buildFolder(back, { commandLine: 'x', exportSnitchCluster: true });
          expect(compareFolders(files, again)).toEqual([]);
        },
      ),
      { numRuns: 6 },
    );
  });
});
