/**
 * Gaps mutation testing found in the functional reference (see fuzz/README.md): PyITA's GELU
 * clips its input to -127 (`gelu.py`: `max(q, -2**7 + 1)`), and ITAMax rejects rows that are not
 * whole groups of 16 and arrays shorter than rows x cols, naming the numbers.
 */
import { describe, expect, it } from 'vitest';
import { geluRequantizedPyIta } from '../../rtl-model/ref/gelu.ts';
import { itaMax } from '../../rtl-model/ref/softmax.ts';
import { geluConstants } from '../../golden/generate.ts';

describe('functional reference: cases the properties did not reach', () => {
  it("PyITA's GELU treats -128 as -127", () => {
    // b = -200 keeps |q| = 127, 128 below the clip of the polynomial: -127 gives 688848 >> 14 = 42,
    // an unclipped -128 would give 675712 >> 14 = 41
    const g = { one: 5, b: -200, c: 100, rqsMul: 1, rqsShift: 14, rqsAdd: 0 };
    expect(geluRequantizedPyIta(-127, g)).toBe(42);
    expect(geluRequantizedPyIta(-128, g)).toBe(42);
    // PyITA's constants saturate the polynomial there: both 0
    expect(geluRequantizedPyIta(-128, geluConstants())).toBe(geluRequantizedPyIta(-127, geluConstants()));
  });
  it('ITAMax rejects partial groups and short arrays with the numbers in the message', () => {
    expect(() => itaMax(new Int32Array(24), 1, 24)).toThrow(/24 columns is not a multiple of 16/);
    expect(() => itaMax(new Int32Array(31), 2, 16)).toThrow(/31 values for 2 x 16/);
    expect(() => itaMax(new Int32Array(32), 2, 16)).not.toThrow();
  });
});
