/** The decimal writer of golden files: every value written as JavaScript (and numpy) prints it. */
import { describe, expect, it } from 'vitest';
import { TextSink } from '../../golden/text.ts';

const text = (s: TextSink): string => new TextDecoder().decode(s.bytes());

describe('TextSink decimal integers', () => {
  it('writes every value from -40000 to 70000 (the table and beyond both ends)', () => {
    const s = new TextSink(16);
    const want: string[] = [];
    for (let v = -40000; v <= 70000; v++) {
      s.int(v).byte(32);
      want.push(String(v));
    }
    expect(text(s)).toBe(want.join(' ') + ' ');
  });

  it('right-aligns padded values, wide ones as they are', () => {
    const s = new TextSink();
    for (const v of [0, -1, 9, -32768, -32769, 65535, 65536, 2 ** 31 - 1, -(2 ** 31)])
      s.intPadded(v, 7).byte(44);
    expect(text(s)).toBe('      0,     -1,      9, -32768, -32769,  65535,  65536,2147483647,-2147483648,');
  });
});
