/**
 * Differential test: random straight-line programs (ALU, M, loads, stores, AMOs; dense register
 * reuse so that every hazard of the scoreboard, the write port and the LSU shows up) run on the
 * cycle-level cluster and on a small untimed interpreter written here from the ISA manual. Timing
 * must never change results: final registers and the scratch memory must match exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enc, Prog, run, TCDM } from './asm.ts';

const SCRATCH = TCDM + 0x4000; // x10 points here; 256 bytes used
const DUMP = TCDM + 0x5000;
const REGS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]; // x10 is the base pointer

type Op =
  | { k: 'r'; name: string; rd: number; a: number; b: number }
  | { k: 'i'; name: string; rd: number; a: number; imm: number }
  | { k: 'ld'; name: string; rd: number; off: number }
  | { k: 'st'; name: string; src: number; off: number }
  | { k: 'amo'; name: string; rd: number; src: number; off: number };

const R_OPS = [
  'add',
  'sub',
  'and',
  'or',
  'xor',
  'sll',
  'srl',
  'sra',
  'slt',
  'sltu',
  'mul',
  'mulh',
  'mulhsu',
  'mulhu',
  'div',
  'divu',
  'rem',
  'remu',
];
const I_OPS = ['addi', 'xori', 'ori', 'andi', 'slti', 'sltiu', 'slli', 'srli', 'srai'];
const LOADS: Record<string, [number, boolean]> = {
  lb: [1, true],
  lbu: [1, false],
  lh: [2, true],
  lhu: [2, false],
  lw: [4, true],
};
const STORES: Record<string, number> = { sb: 1, sh: 2, sw: 4 };

const reg = fc.constantFrom(...REGS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('r' as const), name: fc.constantFrom(...R_OPS), rd: reg, a: reg, b: reg }),
  fc.record({
    k: fc.constant('i' as const),
    name: fc.constantFrom(...I_OPS),
    rd: reg,
    a: reg,
    imm: fc.integer({ min: -2048, max: 2047 }),
  }),
  fc.record({
    k: fc.constant('ld' as const),
    name: fc.constantFrom(...Object.keys(LOADS)),
    rd: reg,
    off: fc.integer({ min: 0, max: 63 }),
  }),
  fc.record({
    k: fc.constant('st' as const),
    name: fc.constantFrom(...Object.keys(STORES)),
    src: reg,
    off: fc.integer({ min: 0, max: 63 }),
  }),
  fc.record({
    k: fc.constant('amo' as const),
    name: fc.constantFrom('amoadd_w', 'amoswap_w', 'amoxor_w', 'amomaxu_w'),
    rd: reg,
    src: reg,
    off: fc.integer({ min: 0, max: 63 }),
  }),
);

/** Untimed reference interpreter (independent of rtl-model/snitch). */
function interpret(init: number[], ops: Op[], mem: Uint8Array): number[] {
  const x = new Array<number>(32).fill(0);
  REGS.forEach((r, i) => (x[r] = init[i]! >>> 0));
  const S = (v: number) => BigInt(v | 0);
  const U = (v: number) => BigInt(v >>> 0);
  const w = (v: bigint) => Number(BigInt.asUintN(32, v));
  const rd32 = (o: number, n: number) => {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + mem[o + i]!;
    return v;
  };
  const wr = (o: number, n: number, v: number) => {
    for (let i = 0; i < n; i++) mem[o + i] = (v >>> (8 * i)) & 0xff;
  };
  for (const op of ops) {
    switch (op.k) {
      case 'r': {
        const a = x[op.a]!;
        const b = x[op.b]!;
        const sh = BigInt(b & 31);
        const f: Record<string, () => bigint> = {
          add: () => U(a) + U(b),
          sub: () => U(a) - U(b),
          and: () => U(a) & U(b),
          or: () => U(a) | U(b),
          xor: () => U(a) ^ U(b),
          sll: () => U(a) << sh,
          srl: () => U(a) >> sh,
          sra: () => S(a) >> sh,
          slt: () => (S(a) < S(b) ? 1n : 0n),
          sltu: () => (U(a) < U(b) ? 1n : 0n),
          mul: () => S(a) * S(b),
          mulh: () => (S(a) * S(b)) >> 32n,
          mulhsu: () => (S(a) * U(b)) >> 32n,
          mulhu: () => (U(a) * U(b)) >> 32n,
          // the RTL divider's one difference from the ISA: -1 / 1 gives 0 (remainder -1)
          div: () =>
            b === 0
              ? -1n
              : (a | 0) === -1 && b === 1
                ? 0n
                : (a | 0) === -0x80000000 && (b | 0) === -1
                  ? S(a)
                  : S(a) / S(b),
          divu: () => (b === 0 ? -1n : U(a) / U(b)),
          rem: () =>
            b === 0
              ? S(a)
              : (a | 0) === -1 && b === 1
                ? -1n
                : (a | 0) === -0x80000000 && (b | 0) === -1
                  ? 0n
                  : S(a) % S(b),
          remu: () => (b === 0 ? U(a) : U(a) % U(b)),
        };
        x[op.rd] = w(f[op.name]!());
        break;
      }
      case 'i': {
        const a = x[op.a]!;
        const i = op.imm;
        const s = i & 31;
        const f: Record<string, () => bigint> = {
          addi: () => U(a) + BigInt(i),
          xori: () => U(a) ^ BigInt.asUintN(32, BigInt(i)),
          ori: () => U(a) | BigInt.asUintN(32, BigInt(i)),
          andi: () => U(a) & BigInt.asUintN(32, BigInt(i)),
          slti: () => (S(a) < BigInt(i) ? 1n : 0n),
          sltiu: () => (U(a) < BigInt.asUintN(32, BigInt(i)) ? 1n : 0n),
          slli: () => U(a) << BigInt(s),
          srli: () => U(a) >> BigInt(s),
          srai: () => S(a) >> BigInt(s),
        };
        x[op.rd] = w(f[op.name]!());
        break;
      }
      case 'ld': {
        const [n, signed] = LOADS[op.name]!;
        const o = op.off * 4 - ((op.off * 4) % n);
        const raw = rd32(o, n);
        x[op.rd] = signed ? w(BigInt.asIntN(8 * n, BigInt(raw))) : raw;
        break;
      }
      case 'st': {
        const n = STORES[op.name]!;
        wr(op.off * 4 - ((op.off * 4) % n), n, x[op.src]!);
        break;
      }
      case 'amo': {
        const o = op.off * 4;
        const old = rd32(o, 4);
        const b = x[op.src]!;
        const nv = {
          amoadd_w: (old + b) >>> 0,
          amoswap_w: b,
          amoxor_w: (old ^ b) >>> 0,
          amomaxu_w: Math.max(old, b),
        }[op.name]!;
        wr(o, 4, nv);
        x[op.rd] = old;
        break;
      }
    }
  }
  return REGS.map((r) => x[r]!);
}

function assemble(init: number[], ops: Op[]): Prog {
  const p = new Prog();
  p.onlyCore(0, 5, 'spin');
  REGS.forEach((r, i) => p.li(r, init[i]!));
  p.li(10, SCRATCH);
  const e = enc as unknown as Record<string, (...a: number[]) => number>;
  for (const op of ops) {
    switch (op.k) {
      case 'r':
        p.emit(e[op.name]!(op.rd, op.a, op.b));
        break;
      case 'i':
        p.emit(e[op.name]!(op.rd, op.a, op.name.endsWith('li') ? op.imm & 31 : op.imm));
        break;
      case 'ld': {
        const n = LOADS[op.name]![0];
        p.emit(e[op.name]!(op.rd, 10, op.off * 4 - ((op.off * 4) % n)));
        break;
      }
      case 'st': {
        const n = STORES[op.name]!;
        p.emit(e[op.name]!(op.src, 10, op.off * 4 - ((op.off * 4) % n)));
        break;
      }
      case 'amo':
        p.li(13, SCRATCH + op.off * 4).emit(e[op.name]!(op.rd, 13, op.src));
        break;
    }
  }
  p.li(13, DUMP);
  REGS.forEach((r, i) => p.emit(enc.sw(r, 13, 4 * i)));
  p.emit(enc.fence());
  return p.pass().spin();
}

describe('cycle model vs untimed interpreter', () => {
  it('random programs give the same registers and memory', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -0x80000000, max: 0x7fffffff }), {
          minLength: REGS.length,
          maxLength: REGS.length,
        }),
        fc.array(opArb, { minLength: 20, maxLength: 120 }),
        (init, ops) => {
          const mem = new Uint8Array(256);
          const want = interpret(init, ops, mem);
          const { cluster } = run(assemble(init, ops));
          const got = REGS.map((_, i) => cluster.mem.read(DUMP + 4 * i, 4));
          expect(got).toEqual(want);
          const off = SCRATCH - TCDM;
          expect(Array.from(cluster.mem.tcdm.subarray(off, off + 256))).toEqual(Array.from(mem));
        },
      ),
      { numRuns: 40, seed: 42 },
    );
  });
});
