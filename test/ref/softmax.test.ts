import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { itaMax, itaMaxInverse, itaMaxRowSum } from '../../rtl-model/ref/softmax.ts';
import { ItaSerdiv } from '../../rtl-model/ita/serdiv.ts';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';

/** SoftmaxScalar / b on the cycle-level ita_serdiv of the softmax (20 bits), to its result. */
function serdiv(b: number): number {
  const top = new (class extends Module {
    constructor() {
      super(null, 'tb');
    }
  })();
  const d = new ItaSerdiv(top, 'i_serdiv', 20);
  const sim = new Simulator(top);
  d.op_a_i = 65280;
  d.op_b_i = b;
  d.in_vld_i = 1;
  d.out_rdy_i = 0;
  for (let c = 0; c < 64; c++) {
    sim.settle();
    if (d.out_vld_o) return d.res_o;
    sim.step();
    d.in_vld_i = 0;
  }
  throw new Error('serdiv gave no result');
}

const row = (...groups: number[][]) => Int32Array.from(groups.flat());
const fill = (n: number, v: number) => Array.from({ length: n }, () => v);

/**
 * PyITA's streamingPartialSoftmax (integer path), transcribed on whole rows with plain numbers:
 * group maximum, shift of the sum where the maximum grows, 2^8 >> (max - x) per element.
 */
function pyItaStreaming(a: Int32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows * cols);
  const rsh = (x: number, s: number) => (s >= 31 ? 0 : Math.floor(x / 2 ** s));
  for (let r = 0; r < rows; r++) {
    const x = Array.from(a.subarray(r * cols, (r + 1) * cols));
    let globalMax = -128;
    let partial = 0;
    for (let g = 0; g < cols / 16; g++) {
      const part = x.slice(g * 16, g * 16 + 16);
      const current = Math.max(...part);
      let shiftSum = 0;
      if (current > globalMax) {
        shiftSum = Math.floor(current - globalMax + 0.5 + 2 ** -23);
        globalMax = current;
      }
      const expSum = part.reduce((s, v) => s + rsh(256, Math.floor(globalMax - v + 0.5 + 2 ** -23)), 0);
      partial = rsh(partial, shiftSum) + expSum;
    }
    const inverse = Math.floor((255 * 256) / partial);
    for (let c = 0; c < cols; c++) out[r * cols + c] = rsh(inverse, globalMax - x[c]!);
  }
  return out;
}

describe('itaMax', () => {
  it('equal values share 2^8-1 scaled by 1/n', () => {
    // sum = 16 * 256 = 4096, inverse = floor(65280 / 4096) = 15
    expect(Array.from(itaMax(row(fill(16, 0)), 1, 16))).toEqual(fill(16, 15));
    // 64 equal values: sum 16384, inverse 3
    expect(Array.from(itaMax(row(fill(64, -7)), 1, 64))).toEqual(fill(64, 3));
  });

  it('a single maximum far above the rest takes 255', () => {
    const x = row([127, ...fill(15, -128)]);
    const y = itaMax(x, 1, 16);
    expect(y[0]).toBe(255); // sum 256 (256 >> 255 is 0 for the others)
    expect(Array.from(y.subarray(1))).toEqual(fill(15, 0));
  });

  it('renormalises the running sum when a later group raises the maximum', () => {
    // group 0: all 0 -> sum 4096; group 1: all 2 -> sum (4096 >> 2) + 16 * 256 = 5120
    // inverse floor(65280 / 5120) = 12; outputs: 12 >> 2 = 3 for group 0, 12 for group 1
    const y = itaMax(row(fill(16, 0), fill(16, 2)), 1, 32);
    expect(Array.from(y)).toEqual([...fill(16, 3), ...fill(16, 12)]);
  });

  it('floors inside the running sum (the partial sums lose the bits shifted out)', () => {
    // group 0: one 0 and fifteen -9 (256 >> 9 = 0): sum 256; group 1: all 1: (256 >> 1) + 4096 = 4224
    // group 2: all 4: (4224 >> 3) + 4096 = 528 + 4096 = 4624 -> inverse floor(65280 / 4624) = 14
    const y = itaMax(row([0, ...fill(15, -9)], fill(16, 1), fill(16, 4)), 1, 48);
    expect(y[0]).toBe(14 >> 4);
    expect(y[16]).toBe(14 >> 3);
    expect(y[32]).toBe(14);
  });

  it('gives what its row sums give for any int32 values (shift amounts past 2^31 too)', () => {
    // pass 2 from the JavaScript pass 1, for comparison with the whole matrix
    const byRows = (a: Int32Array, rows: number, cols: number) => {
      const out = new Int32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        const { max, inverse } = itaMaxRowSum(a, r * cols, cols);
        for (let c = 0; c < cols; c++) {
          const d = max - a[r * cols + c]!;
          out[r * cols + c] = (d >= 19 ? 0 : inverse >>> d) & 0xff;
        }
      }
      return out;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(8, 1000, 2 ** 31),
        fc.integer(),
        (rows, groups, span, seed) => {
          const cols = 16 * groups;
          let s = seed >>> 0;
          const a = Int32Array.from({ length: rows * cols }, () => {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            return Math.floor((s / 2 ** 32) * 2 * span - span) | 0;
          });
          expect(itaMax(a, rows, cols)).toEqual(byRows(a, rows, cols));
        },
      ),
    );
  });

  it('treats rows independently', () => {
    const y = itaMax(row(fill(16, 0), [127, ...fill(15, -128)]), 2, 16);
    expect(Array.from(y.subarray(0, 16))).toEqual(fill(16, 15));
    expect(y[16]).toBe(255);
  });

  it('matches PyITA streamingPartialSoftmax on random rows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }).chain((g) =>
          fc.tuple(
            fc.constant(g * 16),
            fc.array(fc.oneof(fc.integer({ min: -128, max: 127 }), fc.integer({ min: 100, max: 127 })), {
              minLength: g * 16 * 2,
              maxLength: g * 16 * 2,
            }),
          ),
        ),
        ([cols, values]) => {
          const a = Int32Array.from(values);
          expect(Array.from(itaMax(a, 2, cols))).toEqual(Array.from(pyItaStreaming(a, 2, cols)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('itaMaxInverse', () => {
  it('equals the cycle-level divider for every sum a row reaches, and for a zero sum', () => {
    // zero: the divider's all-ones 20-bit quotient, of which the softmax keeps 19 bits
    expect(itaMaxInverse(0)).toBe(2 ** 19 - 1);
    for (const b of [0, 1, 2, 3, 255, 256, 257, 4096, 65279, 65280, 65281, 2 ** 17, 2 ** 19 - 1])
      expect([b, itaMaxInverse(b)]).toEqual([b, serdiv(b) % 2 ** 19]);
  });
});
