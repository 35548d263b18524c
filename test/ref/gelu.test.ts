import { describe, expect, it } from 'vitest';
import { geluRaw, geluRequantized, geluRequantizedPyIta, reluRequantized } from '../../rtl-model/ref/gelu.ts';
import type { GeluConstants } from '../../golden/types.ts';

/** The constants every PyITA folder carries (GELU_*.txt, activation_requant_*.txt). */
const G: GeluConstants = { one: -7091, b: -80, c: -7091, rqsMul: 74, rqsShift: 20, rqsAdd: 0 };

/** PyITA's i_gelu_requantized for x = -128..127 with these constants (computed with PyITA's gelu.py). */
// prettier-ignore
const PYITA_GELU = [
  ...Array.from({ length: 59 }, () => 0),
  1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4,
  ...Array.from({ length: 25 }, () => 5),
  4, 4, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 1, 1, 0, 0, -1, -1, -2, -2, -3, -4, -4, -5, -6, -7, -7, -8, -9, -10, -11, -11, -12,
  -13, -14, -15, -16, -17, -18, -19, -20, -21, -22, -23, -24, -25, -26, -27, -28, -29, -30, -31, -32, -33, -34, -36, -37,
  -38, -39, -40, -41, -42, -43, -45, -46, -47, -48, -49, -50, -51, -53, -54, -55, -56, -57, -58, -59, -61, -62, -63, -64,
  -65, -66, -67, -68, -70, -71, -72, -73, -74, -75, -76, -77, -78, -79, -80, -81, -82, -83, -84, -85, -86, -87, -88, -89,
  -90, -91, -92, -93, -94, -95, -96, -97, -98, -99, -100, -101, -102, -103, -104, -105, -106, -107, -108, -109, -110,
  -111, -112, -113, -114, -115, -116, -117, -118, -119, -120, -121, -122, -123, -124, -125, -126, -127,
];

describe('integer GELU', () => {
  it('computes the polynomial by hand for a few inputs', () => {
    // x = 127: |x| clipped to -b = 80, poly 0, erf = c = -7091, sum = erf + c = -14182
    expect(geluRaw(127, G.b, G.c)).toBe(127 * -14182);
    // x = 10: poly = 10 - 80 = -70, 4900 + c = -2191, sum = -2191 - 7091 = -9282
    expect(geluRaw(10, G.b, G.c)).toBe(10 * -9282);
    // x = -10: erf = +2191, sum = 2191 - 7091 = -4900
    expect(geluRaw(-10, G.b, G.c)).toBe(-10 * -4900);
    // x = -128: clipped to 80 like -127, erf = -c, sum 0
    expect(geluRaw(-128, G.b, G.c)).toBe(0);
    expect(geluRaw(0, G.b, G.c)).toBe(0);
    // requantised: 74 * 127 * -14182 / 2^20 = -127.1 -> -127
    expect(geluRequantized(127, G)).toBe(-127);
  });

  it('matches PyITA for every int8 input with PyITA constants', () => {
    expect(PYITA_GELU).toHaveLength(256);
    for (let x = -128; x <= 127; x++) {
      expect(geluRequantized(x, G)).toBe(PYITA_GELU[x + 128]);
      expect(geluRequantizedPyIta(x, G)).toBe(PYITA_GELU[x + 128]);
    }
  });

  it('uses c where PyITA adds q_1 (the RTL has no q_1 input)', () => {
    const g = { ...G, one: 0 };
    expect(geluRequantized(50, g)).toBe(geluRequantized(50, G));
    expect(geluRequantizedPyIta(50, g)).not.toBe(geluRequantizedPyIta(50, G));
  });
});

describe('ReLU', () => {
  it('clamps at zero, then requantises', () => {
    const g = { ...G, rqsMul: 3, rqsShift: 1, rqsAdd: -2 };
    expect(reluRequantized(-5, g)).toBe(-2); // 0 * 3 >> 1 - 2
    expect(reluRequantized(5, g)).toBe(6); // 15 / 2 = 7.5 -> 8, - 2
    expect(reluRequantized(127, g)).toBe(127); // saturates
    for (let x = -128; x <= 127; x++) expect(reluRequantized(x, G)).toBe(0); // PyITA's scale maps all to 0
  });
});
