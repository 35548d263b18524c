/**
 * The properties itasim is fuzzed with. Each is a fast-check property plus what is needed to
 * report a failure: `npm test` runs them with a few runs each, `itasim fuzz` at scale.
 */
import fc from 'fast-check';
import { geluRequantized, reluRequantized } from '../rtl-model/ref/gelu.ts';
import { requantize } from '../rtl-model/ref/requant.ts';
import { itaMax } from '../rtl-model/ref/softmax.ts';
import { acc26, geluConst, requantConst, softmaxRow } from './arbitraries.ts';
import { activationOracle, itaMaxRowOracle, requantOracle } from './oracles.ts';

/** A named property over values of type T. */
export interface FuzzProperty<T = unknown> {
  name: string;
  description: string;
  arbitrary: fc.Arbitrary<T>;
  /** Returns nothing when the property holds; throws (or returns a message) when it fails. */
  check(value: T): string | void;
}

function define<T>(p: FuzzProperty<T>): FuzzProperty<unknown> {
  return p as unknown as FuzzProperty<unknown>;
}

function neq(what: string, got: unknown, want: unknown): string {
  return `${what}: model ${JSON.stringify(got)}, oracle ${JSON.stringify(want)}`;
}

export const PROPERTIES: FuzzProperty[] = [
  define({
    name: 'requant',
    description: 'requantiser equals the BigInt oracle over 26-bit inputs and all 8-bit constants',
    arbitrary: fc.tuple(acc26(), requantConst()),
    check: ([x, rq]) => {
      const got = requantize(x, rq.mult, rq.shift, rq.add);
      const want = requantOracle(x, rq.mult, rq.shift, rq.add);
      if (got !== want) return neq(`requantize(${x}, ${rq.mult}, ${rq.shift}, ${rq.add})`, got, want);
    },
  }),
  define({
    name: 'activation',
    description: 'GELU and ReLU with requantisation equal the BigInt oracle for all int8 inputs and constants',
    arbitrary: geluConst(),
    check: (g) => {
      const consts = { one: g.c, b: g.b, c: g.c, rqsMul: g.rqsMul, rqsShift: g.rqsShift, rqsAdd: g.rqsAdd };
      for (let x = -128; x <= 127; x++) {
        const gelu = geluRequantized(x, consts);
        const wantGelu = activationOracle(x, 'gelu', g);
        if (gelu !== wantGelu) return neq(`gelu(${x})`, gelu, wantGelu);
        const relu = reluRequantized(x, consts);
        const wantRelu = activationOracle(x, 'relu', g);
        if (relu !== wantRelu) return neq(`relu(${x})`, relu, wantRelu);
      }
    },
  }),
  define({
    name: 'softmax',
    description: 'ITAMax equals the BigInt oracle on rows of every length up to 512',
    arbitrary: softmaxRow(),
    check: (row) => {
      const got = Array.from(itaMax(Int32Array.from(row), 1, row.length));
      const want = itaMaxRowOracle(row);
      const i = got.findIndex((v, k) => v !== want[k]);
      if (i >= 0) return neq(`itaMax column ${i}`, got[i], want[i]);
    },
  }),
  define({
    name: 'softmax-invariants',
    description: 'ITAMax outputs are uint8, monotonic in the input, and the row maximum gets the largest output',
    arbitrary: softmaxRow(),
    check: (row) => {
      const out = itaMax(Int32Array.from(row), 1, row.length);
      const max = Math.max(...row);
      let top = -1;
      for (let i = 0; i < row.length; i++) {
        const v = out[i]!;
        if (v < 0 || v > 255 || !Number.isInteger(v)) return `output ${v} at ${i} is not uint8`;
        if (row[i] === max) top = Math.max(top, v);
      }
      for (let i = 0; i < row.length; i++) {
        if (out[i]! > top) return `column ${i} (${row[i]}) outputs ${out[i]}, more than the maximum's ${top}`;
        for (let j = 0; j < row.length; j++) {
          if (row[i]! > row[j]! && out[i]! < out[j]!) {
            return `not monotonic: x[${i}]=${row[i]} > x[${j}]=${row[j]} but out ${out[i]} < ${out[j]}`;
          }
        }
      }
      // All-equal rows: every element gets the same share, floor(65280 / (256 * n)) >> 0.
      if (row.every((v) => v === row[0])) {
        const want = Math.floor(65280 / (256 * row.length)) & 0xff;
        if (out.some((v) => v !== want)) return `constant row of ${row.length}: expected ${want} everywhere`;
      }
    },
  }),
];

/** Looks a property up by name. */
export function propertyByName(name: string): FuzzProperty | undefined {
  return PROPERTIES.find((p) => p.name === name);
}

/** The fast-check property of a FuzzProperty. */
export function toFcProperty(p: FuzzProperty): fc.IPropertyWithHooks<[unknown]> {
  return fc.property(p.arbitrary, (v) => {
    const msg = p.check(v);
    if (typeof msg === 'string') throw new Error(msg);
  });
}
