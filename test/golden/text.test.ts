/** The decimal writer of golden files: every value written as JavaScript (and numpy) prints it. */
import { describe, expect, it } from 'vitest';
import { TextSink, loadMatrix } from '../../golden/text.ts';
import { packWords } from '../../golden/folder.ts';

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

describe('WebAssembly matrix text', () => {
  // Values of every width: int8, the ends of int32, and a spread of 26-bit values.
  const special = [
    0,
    1,
    -1,
    9,
    10,
    -10,
    99,
    100,
    127,
    -128,
    128,
    -129,
    1000,
    -32768,
    65536,
    2 ** 31 - 1,
    -(2 ** 31),
  ];
  const data = Int32Array.from({ length: 64 * 64 }, (_, i) =>
    i < special.length ? special[i]! : i % 3 ? (i * 2654435761) >> 24 : (i * 2654435761) >> 6,
  );
  const m = loadMatrix(data)!;
  const rects: [first: number, rowStep: number, colStep: number, h: number, w: number][] = [
    [0, 64, 1, 64, 64],
    [5, 1, 64, 12, 20],
    [0, 0, 1, 1, 16],
    [3, 1, 0, 8, 4],
  ];

  it('writes decimal lines as TextSink.column does', () => {
    for (const [first, rowStep, colStep, h, w] of rects) {
      const a = new TextSink(16).str('x');
      const b = new TextSink(16).str('x');
      m.lines(a, first, rowStep, colStep, h, w);
      for (let r = 0; r < h; r++) b.column(data, first + r * rowStep, colStep, w);
      expect(text(a)).toBe(text(b));
    }
    const s = new TextSink();
    m.lines(s, 0, 0, 1, 1, special.length);
    expect(text(s)).toBe(special.map((v) => `${v}\n`).join(''));
  });

  it('packs 8-bit and 24-bit values into hex words as packWords and hexLines do', () => {
    for (const bits of [8, 24] as const)
      for (const [first, rowStep, colStep, h, w] of rects) {
        const values = new Int32Array(h * w);
        for (let r = 0, k = 0; r < h; r++)
          for (let c = 0; c < w; c++) values[k++] = data[first + r * rowStep + c * colStep]!;
        const a = new TextSink();
        m.hex(a, first, rowStep, colStep, h, w, bits);
        expect(text(a)).toBe(text(new TextSink().hexLines(packWords(values, bits))));
      }
  });
});
