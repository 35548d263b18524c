import { describe, expect, it } from 'vitest';
import { satS, satU, sra, sraRound, sraRoundIn, truncU, wrapS } from '../rtl-model/sim/bits.ts';

// Exhaustive checks at small widths against BigInt oracles.
describe('bit helpers', () => {
  it('truncU / wrapS match BigInt.asUintN / asIntN for widths 1..12 over a wide range', () => {
    for (let w = 1; w <= 12; w++) {
      for (let x = -5000; x <= 5000; x++) {
        expect(truncU(x, w)).toBe(Number(BigInt.asUintN(w, BigInt(x))));
        expect(wrapS(x, w)).toBe(Number(BigInt.asIntN(w, BigInt(x))));
      }
    }
  });
  it('truncU / wrapS are exact beyond 32 bits', () => {
    const xs = [2 ** 40 + 12345, -(2 ** 45) - 7, 2 ** 33 - 1, -(2 ** 33), 2 ** 52 - 1, -(2 ** 52)];
    for (const x of xs) {
      for (const w of [8, 19, 26, 31, 32, 33, 40, 48, 52]) {
        expect(truncU(x, w)).toBe(Number(BigInt.asUintN(w, BigInt(x))));
        expect(wrapS(x, w)).toBe(Number(BigInt.asIntN(w, BigInt(x))));
      }
    }
  });
  it('saturation at widths 1..10', () => {
    for (let w = 1; w <= 10; w++) {
      const lo = -(2 ** (w - 1));
      const hi = 2 ** (w - 1) - 1;
      for (let x = -2000; x <= 2000; x++) {
        expect(satS(x, w)).toBe(Math.min(hi, Math.max(lo, x)));
        expect(satU(x, w)).toBe(Math.min(2 ** w - 1, Math.max(0, x)));
      }
    }
  });
  it('sra and sraRound against BigInt floor division, shifts 0..70', () => {
    const xs: number[] = [];
    for (let x = -600; x <= 600; x++) xs.push(x);
    xs.push(2 ** 40 + 3, -(2 ** 41) - 5, 2 ** 33, -(2 ** 33) + 1, -0);
    for (const x of xs) {
      for (let s = 0; s <= 70; s++) {
        const bx = BigInt(x);
        const d = 1n << BigInt(s);
        const floor = bx >= 0n ? bx / d : -((-bx + d - 1n) / d);
        expect(sra(x, s)).toBe(Number(floor));
        // round half up: floor((x + 2^(s-1)) / 2^s)
        const half = s === 0 ? 0n : 1n << BigInt(s - 1);
        const n = bx + half;
        const r = n >= 0n ? n / d : -((-n + d - 1n) / d);
        expect(sraRound(x, s)).toBe(Number(r));
      }
    }
  });
  it('sraRoundIn adds bit s-1 only while it lies inside the signal', () => {
    for (const w of [4, 8, 35]) {
      for (let x = -300; x <= 300; x++) {
        for (let s = 0; s <= w + 3; s++) {
          const bx = BigInt.asIntN(w, BigInt(x));
          let want = bx >> BigInt(s);
          if (s > 0 && s - 1 < w && (BigInt.asUintN(w, bx) >> BigInt(s - 1)) & 1n) want += 1n;
          expect(sraRoundIn(Number(bx), s, w)).toBe(Number(want));
        }
      }
    }
  });
});
