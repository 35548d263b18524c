/**
 * The project's own ISA tests: one generator per rv32ima instruction (plus the Zicsr subset, the
 * system instructions and Xdma), each running a small program on core 0 and comparing every result
 * word with a reference computed here in BigInt from the ISA manual's definition.
 */
import { describe, expect, it } from 'vitest';
import { INSTRUCTIONS } from '../../rtl-model/snitch/isa.ts';
import { enc, load, Prog, run, TCDM, PERIPH } from './asm.ts';

const M32 = (1n << 32n) - 1n;
const U = (x: number) => BigInt(x >>> 0);
const S = (x: number) => BigInt(x | 0);
const W = (x: bigint) => Number(x & M32);

/** Edge values and a fixed pseudo-random set. */
const EDGE = [0, 1, -1, 2, 0x7fffffff, -0x80000000, 0x12345678, -0x1234567, 31, 32, 0xffff, 0x8000];
function rand(seed: number, n: number): number[] {
  const out: number[] = [];
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s | 0);
  }
  return out;
}
const VALUES = [...EDGE, ...rand(7, 6)];
const PAIRS: [number, number][] = [];
for (const a of VALUES)
  for (const b of [0, 1, -1, 7, 0x7fffffff, -0x80000000, 0x5a5a5a5a, -3]) PAIRS.push([a, b]);

const sh = (b: number) => BigInt(b & 31);
// Division follows the ISA except for one pair where `snitch_shared_muldiv_serdiv` differs:
// for a = -1 the leading-zero count of the normalised dividend (`lzc_a_input = {~op_a_i, 1'b0}`
// truncated to 32 bits) is taken from an all-zero word, `shift_a = WIDTH`, so with b = 1
// `div_shift = 31 - 32 < 0` flags a zero quotient: DIV(-1, 1) = 0 and REM(-1, 1) = -1 in the RTL.
const REF_R: Record<string, (a: number, b: number) => bigint> = {
  add: (a, b) => U(a) + U(b),
  sub: (a, b) => U(a) - U(b),
  sll: (a, b) => U(a) << sh(b),
  slt: (a, b) => (S(a) < S(b) ? 1n : 0n),
  sltu: (a, b) => (U(a) < U(b) ? 1n : 0n),
  xor: (a, b) => U(a) ^ U(b),
  srl: (a, b) => U(a) >> sh(b),
  sra: (a, b) => S(a) >> sh(b),
  or: (a, b) => U(a) | U(b),
  and: (a, b) => U(a) & U(b),
  mul: (a, b) => S(a) * S(b),
  mulh: (a, b) => (S(a) * S(b)) >> 32n,
  mulhsu: (a, b) => (S(a) * U(b)) >> 32n,
  mulhu: (a, b) => (U(a) * U(b)) >> 32n,
  div: (a, b) =>
    b === 0 ? M32 : a === -0x80000000 && b === -1 ? U(a) : a === -1 && b === 1 ? 0n : bdiv(S(a), S(b)),
  divu: (a, b) => (b === 0 ? M32 : U(a) / U(b)),
  rem: (a, b) =>
    b === 0
      ? U(a)
      : a === -0x80000000 && b === -1
        ? 0n
        : a === -1 && b === 1
          ? M32
          : S(a) - bdiv(S(a), S(b)) * S(b),
  remu: (a, b) => (b === 0 ? U(a) : U(a) % U(b)),
};
/** Division rounding towards zero (BigInt division already truncates). */
function bdiv(a: bigint, b: bigint): bigint {
  return a / b;
}

const IMMS = [0, 1, -1, 2047, -2048, 0x555, -0x2aa, 15];
const REF_I: Record<string, (a: number, i: number) => bigint> = {
  addi: (a, i) => U(a) + BigInt(i),
  slti: (a, i) => (S(a) < BigInt(i) ? 1n : 0n),
  sltiu: (a, i) => (U(a) < (BigInt(i) & M32) ? 1n : 0n),
  xori: (a, i) => U(a) ^ (BigInt(i) & M32),
  ori: (a, i) => U(a) | (BigInt(i) & M32),
  andi: (a, i) => U(a) & (BigInt(i) & M32),
  slli: (a, i) => U(a) << BigInt(i & 31),
  srli: (a, i) => U(a) >> BigInt(i & 31),
  srai: (a, i) => S(a) >> BigInt(i & 31),
};

const RES = TCDM + 0x1000; // result area
const covered = new Set<string>();

/** Runs `body` on core 0 (others spin); `x10` points to the result area. Returns result words. */
function exec(body: (p: Prog) => void, nWords: number): { words: number[]; cycles: number } {
  const p = new Prog();
  p.onlyCore(0, 5, 'spin');
  p.li(10, RES);
  body(p);
  p.pass();
  p.spin();
  const { cluster, cycles } = run(p);
  const words: number[] = [];
  for (let i = 0; i < nWords; i++) words.push(cluster.mem.read(RES + 4 * i, 4));
  return { words, cycles };
}

describe('rv32im register-register instructions', () => {
  for (const [name, ref] of Object.entries(REF_R)) {
    it(name, () => {
      covered.add(name);
      const op = (enc as unknown as Record<string, (rd: number, a: number, b: number) => number>)[name]!;
      const { words } = exec((p) => {
        PAIRS.forEach(([a, b]) => {
          p.li(5, a)
            .li(6, b)
            .emit(op(7, 5, 6), enc.sw(7, 10, 0), enc.addi(10, 10, 4));
        });
        // bypass cases: result used immediately, source equal to destination
        p.li(5, 3)
          .li(6, 5)
          .emit(op(5, 5, 6), enc.sw(5, 10, 0), op(6, 6, 6), enc.sw(6, 10, 4));
      }, PAIRS.length + 2);
      const expected = PAIRS.map(([a, b]) => W(ref(a, b)));
      expected.push(W(ref(3, 5)), W(ref(5, 5)));
      expect(words).toEqual(expected);
    });
  }
});

describe('rv32i register-immediate instructions', () => {
  for (const [name, ref] of Object.entries(REF_I)) {
    it(name, () => {
      covered.add(name);
      const op = (enc as unknown as Record<string, (rd: number, a: number, i: number) => number>)[name]!;
      const imms = name.endsWith('li') ? [0, 1, 5, 16, 31] : IMMS;
      const cases: [number, number][] = [];
      for (const a of VALUES) for (const i of imms) cases.push([a, i]);
      const { words } = exec((p) => {
        for (const [a, i] of cases) p.li(5, a).emit(op(7, 5, i), enc.sw(7, 10, 0), enc.addi(10, 10, 4));
      }, cases.length);
      expect(words).toEqual(cases.map(([a, i]) => W(ref(a, i))));
    });
  }
  it('lui, auipc', () => {
    covered.add('lui').add('auipc');
    const { words } = exec((p) => {
      p.emit(enc.lui(7, 0xfffff), enc.sw(7, 10, 0), enc.lui(7, 0x12345), enc.sw(7, 10, 4));
      const at = p.pc;
      p.emit(enc.auipc(7, 0x80000), enc.sw(7, 10, 8));
      p.li(8, at).emit(enc.sw(8, 10, 12));
    }, 4);
    expect(words.slice(0, 2)).toEqual([0xfffff000, 0x12345000]);
    expect(words[2]).toBe((words[3]! + 0x80000000) >>> 0);
  });
});

describe('rv32i control transfer', () => {
  const BR: Record<string, (a: number, b: number) => boolean> = {
    beq: (a, b) => a === b,
    bne: (a, b) => a !== b,
    blt: (a, b) => (a | 0) < (b | 0),
    bge: (a, b) => (a | 0) >= (b | 0),
    bltu: (a, b) => a >>> 0 < b >>> 0,
    bgeu: (a, b) => a >>> 0 >= b >>> 0,
  };
  for (const [name, taken] of Object.entries(BR)) {
    it(name, () => {
      covered.add(name);
      const op = (enc as unknown as Record<string, (a: number, b: number, o: number) => number>)[name]!;
      const cases: [number, number][] = [
        [0, 0],
        [1, 2],
        [2, 1],
        [-1, 1],
        [1, -1],
        [-5, -5],
        [0x7fffffff, -0x80000000],
      ];
      const { words } = exec((p) => {
        cases.forEach(([a, b], k) => {
          // x7 = 1 if taken (skips the `addi x7, x0, 2`), else 2
          p.li(5, a)
            .li(6, b)
            .emit(enc.addi(7, 0, 1));
          p.rel(`t${k}`, (o) => op(5, 6, o)).emit(enc.addi(7, 0, 2));
          p.label(`t${k}`).emit(enc.sw(7, 10, 0), enc.addi(10, 10, 4));
        });
        // backward branch: count down a loop of 5
        p.li(5, 5)
          .li(7, 0)
          .label('loop')
          .emit(enc.addi(7, 7, 1), enc.addi(5, 5, -1));
        p.rel('loop', (o) => enc.bne(5, 0, o)).emit(enc.sw(7, 10, 0));
      }, cases.length + 1);
      expect(words).toEqual([...cases.map(([a, b]) => (taken(a, b) ? 1 : 2)), 5]);
    });
  }
  it('jal, jalr', () => {
    covered.add('jal').add('jalr');
    let link = 0;
    let back = 0;
    const { words } = exec((p) => {
      p.li(7, 0);
      link = p.pc + 4;
      p.rel('f', (o) => enc.jal(1, o)); // call
      back = p.pc;
      p.emit(enc.sw(7, 10, 0), enc.sw(1, 10, 4), enc.sw(9, 10, 8));
      p.rel('end', (o) => enc.jal(0, o));
      p.label('f').emit(enc.addi(7, 7, 42));
      p.emit(enc.jalr(9, 1, 0)); // return, link in x9
      p.label('end');
    }, 3);
    expect(words[0]).toBe(42);
    expect(words[1]).toBe(link);
    // f sits after the 4 words following `back`; jalr is f's second word, its link is pc + 4
    expect(words[2]).toBe(back + 4 * 4 + 4 + 4);
  });
});

describe('rv32i loads and stores', () => {
  it('lb, lbu, lh, lhu, lw, sb, sh, sw on TCDM and DRAM', () => {
    ['lb', 'lbu', 'lh', 'lhu', 'lw', 'sb', 'sh', 'sw'].forEach((n) => covered.add(n));
    for (const base of [TCDM + 0x2000, 0x8000_8000]) {
      const { words } = exec((p) => {
        p.li(11, base)
          .li(5, 0x80ff7f01)
          .emit(enc.sw(5, 11, 0));
        p.li(5, 0xa5).emit(enc.sb(5, 11, 4), enc.addi(5, 0, 0x5a), enc.sb(5, 11, 5));
        p.li(5, 0x8001).emit(enc.sh(5, 11, 6));
        const loads: [keyof typeof enc, number][] = [
          ['lb', 0],
          ['lb', 3],
          ['lbu', 3],
          ['lbu', 1],
          ['lh', 2],
          ['lhu', 2],
          ['lh', 0],
          ['lw', 0],
          ['lw', 4],
          ['lhu', 6],
          ['lb', 5],
        ];
        for (const [op, off] of loads) {
          p.emit(
            (enc[op] as (a: number, b: number, c: number) => number)(7, 11, off),
            enc.sw(7, 10, 0),
            enc.addi(10, 10, 4),
          );
        }
      }, 11);
      expect(words).toEqual([
        0x01, 0xffffff80, 0x80, 0x7f, 0xffff80ff, 0x80ff, 0x7f01, 0x80ff7f01, 0x80015aa5, 0x8001, 0x5a,
      ]);
    }
  });
  it('misaligned load and store trap with the RTL causes (4, 6); the access is not performed', () => {
    const { words } = exec((p) => {
      setTrapVector(p, 'handler');
      p.li(11, TCDM + 0x3000)
        .li(12, 0x1234)
        .li(13, RES + 40)
        .emit(enc.sw(0, 11, 0));
      p.emit(enc.lw(7, 11, 2)); // misaligned load -> trap
      p.emit(enc.sh(12, 11, 1)); // misaligned store -> trap
      p.emit(enc.lw(7, 11, 0), enc.sw(7, 13, 0));
      p.rel('done', (o) => enc.jal(0, o));
      p.label('handler');
      p.emit(enc.csrrs(8, 0, 0x342), enc.sw(8, 10, 0), enc.addi(10, 10, 4)); // record mcause
      p.emit(enc.csrrs(8, 0, 0x341), enc.addi(8, 8, 4), enc.csrrw(0, 8, 0x341), enc.mret());
      p.label('done');
    }, 11);
    expect(words.slice(0, 2)).toEqual([4, 6]);
    expect(words[10]).toBe(0); // the misaligned store did not reach memory
  });
});

/** mtvec := address of `label`. */
function setTrapVector(p: Prog, label: string): void {
  p.words.push(() => enc.lui(6, ((p.addr(label) + 0x800) >>> 12) & 0xfffff));
  p.words.push(() => enc.addi(6, 6, (p.addr(label) << 20) >> 20));
  p.emit(enc.csrrw(0, 6, 0x305));
}

describe('rv32a', () => {
  const AMO: Record<string, (m: number, r: number) => number> = {
    amoswap_w: (_m, r) => r,
    amoadd_w: (m, r) => (m + r) | 0,
    amoxor_w: (m, r) => m ^ r,
    amoand_w: (m, r) => m & r,
    amoor_w: (m, r) => m | r,
    amomin_w: (m, r) => ((m | 0) < (r | 0) ? m : r),
    amomax_w: (m, r) => ((m | 0) > (r | 0) ? m : r),
    amominu_w: (m, r) => (m >>> 0 < r >>> 0 ? m : r),
    amomaxu_w: (m, r) => (m >>> 0 > r >>> 0 ? m : r),
  };
  for (const [name, f] of Object.entries(AMO)) {
    it(name, () => {
      covered.add(name.replace('_', '.'));
      const cases: [number, number][] = [
        [5, 3],
        [-8, 3],
        [0x7fffffff, -1],
        [-0x80000000, 0x7fffffff],
        [0x0f0f, 0xff00],
      ];
      for (const base of [TCDM + 0x4000, 0x8000_9000]) {
        const op = (enc as unknown as Record<string, (rd: number, a: number, b: number) => number>)[name]!;
        const { words } = exec((p) => {
          p.li(11, base);
          cases.forEach(([m, r]) => {
            p.li(5, m)
              .emit(enc.sw(5, 11, 0))
              .li(6, r)
              .emit(op(7, 11, 6), enc.lw(8, 11, 0));
            p.emit(enc.sw(7, 10, 0), enc.sw(8, 10, 4), enc.addi(10, 10, 8));
          });
        }, cases.length * 2);
        expect(words).toEqual(cases.flatMap(([m, r]) => [m >>> 0, f(m, r) >>> 0]));
      }
    });
  }
  it("lr.w / sc.w: success, failure without reservation; the own hart's store keeps the reservation", () => {
    covered.add('lr.w').add('sc.w');
    const { words } = exec((p) => {
      p.li(11, TCDM + 0x5000)
        .li(5, 10)
        .emit(enc.sw(5, 11, 0));
      p.emit(enc.lr_w(7, 11), enc.addi(7, 7, 1), enc.sc_w(8, 11, 7), enc.lw(9, 11, 0));
      p.emit(enc.sw(7, 10, 0), enc.sw(8, 10, 4), enc.sw(9, 10, 8));
      p.emit(enc.sc_w(8, 11, 0), enc.lw(9, 11, 0), enc.sw(8, 10, 12), enc.sw(9, 10, 16)); // no reservation
      // snitch_amo_shim only drops a reservation for a write of another hart (`core_id_i !=
      // reservation_q.core`), so this SC succeeds.
      p.emit(enc.lr_w(7, 11), enc.sw(0, 11, 0), enc.sc_w(8, 11, 5), enc.lw(9, 11, 0));
      p.emit(enc.sw(8, 10, 20), enc.sw(9, 10, 24));
    }, 7);
    expect(words).toEqual([11, 0, 11, 1, 11, 0, 10]);
  });
});

describe('Zicsr, system instructions', () => {
  it('csrrw/csrrs/csrrc and immediate forms on mscratch; mhartid; mcycle and minstret advance', () => {
    ['csrrw', 'csrrs', 'csrrc', 'csrrwi', 'csrrsi', 'csrrci'].forEach((n) => covered.add(n));
    const { words } = exec((p) => {
      p.li(5, 0xf0f0).emit(enc.csrrw(7, 5, 0x340), enc.csrrs(8, 0, 0x340));
      p.li(5, 0x0ff0).emit(enc.csrrs(9, 5, 0x340), enc.csrrs(12, 0, 0x340));
      p.li(5, 0x00f0).emit(enc.csrrc(0, 5, 0x340), enc.csrrs(13, 0, 0x340));
      p.emit(
        enc.csrrwi(0, 21, 0x340),
        enc.csrrsi(0, 8, 0x340),
        enc.csrrci(0, 1, 0x340),
        enc.csrrs(14, 0, 0x340),
      );
      p.emit(
        enc.sw(7, 10, 0),
        enc.sw(8, 10, 4),
        enc.sw(9, 10, 8),
        enc.sw(12, 10, 12),
        enc.sw(13, 10, 16),
        enc.sw(14, 10, 20),
      );
      p.emit(enc.csrrs(15, 0, 0xf14), enc.sw(15, 10, 24));
      p.emit(
        enc.csrrs(16, 0, 0xb00),
        enc.csrrs(17, 0, 0xb00),
        enc.csrrs(18, 0, 0xb02),
        enc.csrrs(19, 0, 0xb02),
      );
      p.emit(enc.sub(16, 17, 16), enc.sub(18, 19, 18), enc.sw(16, 10, 28), enc.sw(18, 10, 32));
    }, 9);
    expect(words).toEqual([0, 0xf0f0, 0xf0f0, 0xfff0, 0xff00, (21 | 8) & ~1, 0, 1, 1]);
  });
  it('ecall, ebreak and an illegal word trap to mtvec with mcause/mepc; mret returns', () => {
    ['ecall', 'ebreak', 'mret'].forEach((n) => covered.add(n));
    const { words } = exec((p) => {
      setTrapVector(p, 'h');
      p.emit(enc.ecall(), enc.ebreak(), 0xffffffff);
      p.rel('done', (o) => enc.jal(0, o));
      p.label('h');
      p.emit(enc.csrrs(8, 0, 0x342), enc.sw(8, 10, 0), enc.addi(10, 10, 4));
      p.emit(enc.csrrs(8, 0, 0x341), enc.addi(8, 8, 4), enc.csrrw(0, 8, 0x341), enc.mret());
      p.label('done');
    }, 3);
    expect(words).toEqual([11, 3, 2]);
  });
  it('fence waits for outstanding stores; fence.i executes', () => {
    covered.add('fence').add('fence.i');
    const { words } = exec((p) => {
      p.li(11, 0x8000_a000)
        .li(5, 77)
        .emit(enc.sw(5, 11, 0), enc.fence(), enc.fence_i(), enc.lw(6, 11, 0), enc.sw(6, 10, 0));
    }, 1);
    expect(words).toEqual([77]);
  });
  it('wfi sleeps until the cluster CLINT bit is set by another core', () => {
    covered.add('wfi');
    const p = new Prog();
    p.emit(enc.csrrs(5, 0, 0xf14));
    p.rel('c1', (o) => enc.bne(5, 0, o));
    // core 0: enable MCIE, sleep, then clear its CLINT bit and record the wake-up
    p.li(6, 1 << 19).emit(enc.csrrs(0, 6, 0x304), enc.wfi());
    p.li(11, PERIPH + 0x188)
      .li(6, 1)
      .emit(enc.sw(6, 11, 0));
    p.li(10, RES)
      .li(6, 99)
      .emit(enc.sw(6, 10, 0))
      .pass();
    p.label('c1').li(7, 1);
    p.rel('spin', (o) => enc.bne(5, 7, o));
    // core 1: wait a while, then set core 0's bit
    p.li(8, 200)
      .label('w')
      .emit(enc.addi(8, 8, -1));
    p.rel('w', (o) => enc.bne(8, 0, o));
    p.li(11, PERIPH + 0x180)
      .li(6, 1)
      .emit(enc.sw(6, 11, 0));
    p.spin();
    const { cluster, cycles } = run(p);
    expect(cluster.mem.read(RES, 4)).toBe(99);
    expect(cycles).toBeGreaterThan(400); // core 0 really slept through core 1's 200-iteration loop
    expect(cluster.cores[0]!.nStall[6]!.value).toBeGreaterThan(300);
  });
});

describe('Xdma', () => {
  const SRC = 0x8001_0000;
  const DST = TCDM + 0x8000;
  const pattern = (n: number) => new Uint8Array(n).map((_, i) => (i * 7 + 3) & 0xff);

  it('dmsrc, dmdst, dmcpyi, dmstati: 1-D copy DRAM -> TCDM, transfer ids and completion', () => {
    ['dmsrc', 'dmdst', 'dmcpyi', 'dmstati'].forEach((n) => covered.add(n));
    const p = new Prog();
    p.onlyCore(8, 5, 'spin');
    p.li(10, RES).li(11, SRC).li(12, DST).li(13, 200).li(19, 0x100);
    p.emit(enc.dmsrc(11, 0), enc.dmdst(12, 0), enc.dmcpyi(14, 13, 0));
    p.emit(enc.add(12, 12, 19), enc.dmdst(12, 0), enc.dmcpyi(15, 13, 0));
    // `idma_transfer_id_gen`: the first transfer gets id 2; `completed` starts at 1 and counts
    // finished transfers, so it reaches 3 = the second id when both are done
    p.label('w').emit(enc.dmstati(16, 0));
    p.rel('w', (o) => enc.bltu(16, 15, o)); // until completed reaches the second transfer's id
    p.emit(
      enc.dmstati(17, 1),
      enc.dmstati(18, 2),
      enc.sw(14, 10, 0),
      enc.sw(15, 10, 4),
      enc.sw(17, 10, 8),
      enc.sw(18, 10, 12),
    );
    p.pass().spin();
    const c = load(p);
    const src = pattern(300);
    c.mem.load(SRC, src);
    expect(c.run(5000).finished).toBe(true);
    expect([0, 4, 8, 12].map((o) => c.mem.read(RES + o, 4))).toEqual([2, 3, 4, 0]);
    const t = c.mem.tcdm;
    const off = DST - TCDM;
    expect(Array.from(t.subarray(off, off + 200))).toEqual(Array.from(src.subarray(0, 200)));
    expect(Array.from(t.subarray(off + 0x100, off + 0x100 + 200))).toEqual(Array.from(src.subarray(0, 200)));
    expect(t[off + 200]).toBe(0); // nothing beyond the 200 bytes of the first copy (before 0x100 + ...)
  });

  it('dmcpy, dmstat, dmstr, dmrep: 2-D strided copy moves exactly the selected bytes', () => {
    ['dmcpy', 'dmstat', 'dmstr', 'dmrep'].forEach((n) => covered.add(n));
    const rows = 5;
    const size = 24;
    const srcStride = 40;
    const dstStride = 32;
    const p = new Prog();
    p.onlyCore(8, 5, 'spin');
    p.li(10, RES)
      .li(11, SRC + 3)
      .li(12, DST + 8)
      .li(13, size)
      .li(20, srcStride)
      .li(21, dstStride)
      .li(22, rows)
      .li(23, 2);
    p.emit(enc.dmsrc(11, 0), enc.dmdst(12, 0), enc.dmstr(20, 21), enc.dmrep(22), enc.dmcpy(14, 13, 23));
    p.li(24, 0).label('w').emit(enc.dmstat(16, 24));
    p.rel('w', (o) => enc.bltu(16, 14, o)); // until completed (from 1) reaches the id (2)
    p.li(24, 2).emit(enc.dmstat(18, 24), enc.sw(14, 10, 0), enc.sw(18, 10, 4));
    p.pass().spin();
    const c = load(p);
    const src = pattern(400);
    c.mem.load(SRC, src);
    expect(c.run(5000).finished).toBe(true);
    expect([0, 4].map((o) => c.mem.read(RES + o, 4))).toEqual([2, 0]);
    const expected = new Uint8Array(rows * dstStride + 16);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < size; j++) expected[8 + r * dstStride + j] = src[3 + r * srcStride + j]!;
    const off = DST - TCDM;
    expect(Array.from(c.mem.tcdm.subarray(off, off + expected.length))).toEqual(Array.from(expected));
  });

  it('DMA core: mul/div results and Xdma results share the response port without loss', () => {
    const p = new Prog();
    p.onlyCore(8, 5, 'spin');
    p.li(10, RES).li(12, 1234).li(13, 77);
    for (let gap = 0; gap < 6; gap++) {
      p.emit(enc.mul(20, 12, 13));
      for (let k = 0; k < gap; k++) p.emit(enc.addi(0, 0, 0));
      p.emit(enc.dmstati(21, 2), enc.div(22, 12, 13), enc.dmstati(23, 1));
      p.emit(enc.add(24, 20, 21), enc.add(24, 24, 22), enc.add(24, 24, 23), enc.sw(24, 10, 4 * gap));
    }
    p.pass().spin();
    const { cluster } = run(p);
    // DMSTATI 2 (busy) reads 0 and DMSTATI 1 (next id) 2: no transfer was ever issued
    const want = 1234 * 77 + 0 + Math.trunc(1234 / 77) + 2;
    expect(Array.from({ length: 6 }, (_, i) => cluster.mem.read(RES + 4 * i, 4))).toEqual(
      Array(6).fill(want),
    );
  });

  it('Xdma instructions are illegal on a compute core', () => {
    const { words } = exec((p) => {
      setTrapVector(p, 'h');
      p.emit(enc.dmstati(5, 0));
      p.rel('done', (o) => enc.jal(0, o));
      p.label('h').emit(enc.csrrs(8, 0, 0x342), enc.sw(8, 10, 0), enc.csrrs(8, 0, 0x341), enc.addi(8, 8, 4));
      p.emit(enc.csrrw(0, 8, 0x341), enc.mret());
      p.label('done');
    }, 1);
    expect(words).toEqual([2]);
  });
});

describe('coverage', () => {
  it('every instruction of the model was exercised by a test above', () => {
    const all = INSTRUCTIONS.map((o) => o.name);
    const missing = all.filter((n) => !covered.has(n));
    expect(missing).toEqual([]);
  });
});
