/**
 * The Snitch integer ISA (rv32ima + Zicsr subset + Xdma), as a table of encodings.
 *
 * Each entry is one instruction: its `mask`/`match` pair (bits fixed by the encoding), which
 * operands it reads and writes (this drives the scoreboard check), its class (which decides
 * where it goes: ALU, load/store unit, shared mul/div, DMA, CSR file) and, for instructions the
 * core executes itself, a tiny handler. The decoder is a search of this table, cached per
 * instruction word, so the issue loop never re-decodes a word it has seen.
 */
import { sext } from '../sim/bits.ts';

/** Where an instruction is executed (the core's `snitch.sv` decoder sets the same groups). */
export const enum Kind {
  Alu,
  Branch,
  Jump,
  Load,
  Store,
  Amo,
  MulDiv,
  Dma,
  Csr,
  Fence,
  FenceI,
  Ecall,
  Ebreak,
  Mret,
  Wfi,
  Illegal,
}

/** AMO operations as encoded in `reqrsp_pkg::amo_op_e` order used by the memory side. */
export const enum Amo {
  None,
  Swap,
  Add,
  And,
  Or,
  Xor,
  Max,
  Maxu,
  Min,
  Minu,
  Lr,
  Sc,
}

/** A decoded instruction word. */
export interface Decoded {
  readonly op: OpDef;
  readonly word: number;
  readonly rd: number;
  readonly rs1: number;
  readonly rs2: number;
  /** Sign-extended immediate of the instruction's format (I, S, B, U, J), or the CSR number. */
  readonly imm: number;
}

/** Execution context a handler sees: operand values and where to put the result. */
export interface Exec {
  /** Value of rs1 / rs2 (unsigned 32-bit). */
  a: number;
  b: number;
  pc: number;
  /** Result written to rd (unsigned 32-bit). */
  result: number;
  /** Next PC when the instruction changes control flow, else -1. */
  target: number;
}

export type Handler = (x: Exec, d: Decoded) => void;

export interface OpDef {
  readonly name: string;
  readonly mask: number;
  readonly match: number;
  readonly kind: Kind;
  readonly readsRs1: boolean;
  readonly readsRs2: boolean;
  readonly writesRd: boolean;
  readonly fmt: 'R' | 'I' | 'S' | 'B' | 'U' | 'J' | 'Z';
  /** ALU/branch/jump semantics; undefined for instructions handled by the LSU, mul/div, DMA, CSRs. */
  readonly exec?: Handler;
  /** Access size in bytes (loads, stores, AMOs) and sign extension of loads. */
  readonly size?: 1 | 2 | 4;
  readonly signed?: boolean;
  readonly amo?: Amo;
  /** An M-extension instruction the serial divider computes (div, divu, rem, remu). */
  readonly divider: boolean;
}

const u32 = (x: number): number => x >>> 0;
const s32 = (x: number): number => x | 0;

/** Opcode / funct3 / funct7 fields to a match value. */
const OPC = (op: number, f3 = 0, f7 = 0): number => u32(op | (f3 << 12) | (f7 << 25));
const M_OP = 0x7f;
const M_F3 = 0x707f;
const M_F7 = 0xfe00707f;

interface Spec {
  name: string;
  mask: number;
  match: number;
  kind: Kind;
  fmt: OpDef['fmt'];
  rs1?: boolean;
  rs2?: boolean;
  rd?: boolean;
  exec?: Handler;
  size?: 1 | 2 | 4;
  signed?: boolean;
  amo?: Amo;
  divider?: boolean;
}

const table: OpDef[] = [];
function def(s: Spec): void {
  // every field present (undefined where it does not apply): one object shape for every entry
  // keeps the issue loop's reads of the entry monomorphic
  table.push({
    name: s.name,
    mask: u32(s.mask),
    match: u32(s.match),
    kind: s.kind,
    fmt: s.fmt,
    readsRs1: s.rs1 ?? false,
    readsRs2: s.rs2 ?? false,
    writesRd: s.rd ?? false,
    exec: s.exec,
    size: s.size,
    signed: s.signed,
    amo: s.amo,
    divider: s.divider ?? false,
  });
}

// ---- RV32I: upper immediates and jumps ------------------------------------------------------
def({
  name: 'lui',
  mask: M_OP,
  match: 0x37,
  kind: Kind.Alu,
  fmt: 'U',
  rd: true,
  exec: (x, d) => (x.result = u32(d.imm)),
});
def({
  name: 'auipc',
  mask: M_OP,
  match: 0x17,
  kind: Kind.Alu,
  fmt: 'U',
  rd: true,
  exec: (x, d) => (x.result = u32(x.pc + d.imm)),
});
def({
  name: 'jal',
  mask: M_OP,
  match: 0x6f,
  kind: Kind.Jump,
  fmt: 'J',
  rd: true,
  exec: (x, d) => {
    x.result = u32(x.pc + 4);
    x.target = u32(x.pc + d.imm);
  },
});
def({
  name: 'jalr',
  mask: M_F3,
  match: OPC(0x67),
  kind: Kind.Jump,
  fmt: 'I',
  rs1: true,
  rd: true,
  exec: (x, d) => {
    x.result = u32(x.pc + 4);
    x.target = ((x.a + d.imm) & ~1) >>> 0;
  },
});

// ---- branches -----------------------------------------------------------------------------
function branch(name: string, f3: number, taken: (a: number, b: number) => boolean): void {
  def({
    name,
    mask: M_F3,
    match: OPC(0x63, f3),
    kind: Kind.Branch,
    fmt: 'B',
    rs1: true,
    rs2: true,
    exec: (x, d) => {
      if (taken(x.a, x.b)) x.target = u32(x.pc + d.imm);
    },
  });
}
branch('beq', 0, (a, b) => a === b);
branch('bne', 1, (a, b) => a !== b);
branch('blt', 4, (a, b) => s32(a) < s32(b));
branch('bge', 5, (a, b) => s32(a) >= s32(b));
branch('bltu', 6, (a, b) => a < b);
branch('bgeu', 7, (a, b) => a >= b);

// ---- loads and stores (executed by the LSU) -----------------------------------------------
def({
  name: 'lb',
  mask: M_F3,
  match: OPC(0x03, 0),
  kind: Kind.Load,
  fmt: 'I',
  rs1: true,
  rd: true,
  size: 1,
  signed: true,
});
def({
  name: 'lh',
  mask: M_F3,
  match: OPC(0x03, 1),
  kind: Kind.Load,
  fmt: 'I',
  rs1: true,
  rd: true,
  size: 2,
  signed: true,
});
def({
  name: 'lw',
  mask: M_F3,
  match: OPC(0x03, 2),
  kind: Kind.Load,
  fmt: 'I',
  rs1: true,
  rd: true,
  size: 4,
  signed: true,
});
def({
  name: 'lbu',
  mask: M_F3,
  match: OPC(0x03, 4),
  kind: Kind.Load,
  fmt: 'I',
  rs1: true,
  rd: true,
  size: 1,
  signed: false,
});
def({
  name: 'lhu',
  mask: M_F3,
  match: OPC(0x03, 5),
  kind: Kind.Load,
  fmt: 'I',
  rs1: true,
  rd: true,
  size: 2,
  signed: false,
});
def({
  name: 'sb',
  mask: M_F3,
  match: OPC(0x23, 0),
  kind: Kind.Store,
  fmt: 'S',
  rs1: true,
  rs2: true,
  size: 1,
});
def({
  name: 'sh',
  mask: M_F3,
  match: OPC(0x23, 1),
  kind: Kind.Store,
  fmt: 'S',
  rs1: true,
  rs2: true,
  size: 2,
});
def({
  name: 'sw',
  mask: M_F3,
  match: OPC(0x23, 2),
  kind: Kind.Store,
  fmt: 'S',
  rs1: true,
  rs2: true,
  size: 4,
});

// ---- register-immediate and register-register ALU -----------------------------------------
function aluI(name: string, f3: number, f: (a: number, imm: number) => number): void {
  def({
    name,
    mask: M_F3,
    match: OPC(0x13, f3),
    kind: Kind.Alu,
    fmt: 'I',
    rs1: true,
    rd: true,
    exec: (x, d) => (x.result = u32(f(x.a, d.imm))),
  });
}
aluI('addi', 0, (a, i) => a + i);
aluI('slti', 2, (a, i) => (s32(a) < i ? 1 : 0));
aluI('sltiu', 3, (a, i) => (a < u32(i) ? 1 : 0));
aluI('xori', 4, (a, i) => a ^ i);
aluI('ori', 6, (a, i) => a | i);
aluI('andi', 7, (a, i) => a & i);
function shiftI(name: string, f3: number, f7: number, f: (a: number, sh: number) => number): void {
  def({
    name,
    mask: M_F7,
    match: OPC(0x13, f3, f7),
    kind: Kind.Alu,
    fmt: 'I',
    rs1: true,
    rd: true,
    exec: (x, d) => (x.result = u32(f(x.a, d.rs2))),
  });
}
shiftI('slli', 1, 0x00, (a, s) => a << s);
shiftI('srli', 5, 0x00, (a, s) => a >>> s);
shiftI('srai', 5, 0x20, (a, s) => s32(a) >> s);
function aluR(name: string, f3: number, f7: number, f: (a: number, b: number) => number): void {
  def({
    name,
    mask: M_F7,
    match: OPC(0x33, f3, f7),
    kind: Kind.Alu,
    fmt: 'R',
    rs1: true,
    rs2: true,
    rd: true,
    exec: (x) => (x.result = u32(f(x.a, x.b))),
  });
}
aluR('add', 0, 0x00, (a, b) => a + b);
aluR('sub', 0, 0x20, (a, b) => a - b);
aluR('sll', 1, 0x00, (a, b) => a << (b & 31));
aluR('slt', 2, 0x00, (a, b) => (s32(a) < s32(b) ? 1 : 0));
aluR('sltu', 3, 0x00, (a, b) => (a < b ? 1 : 0));
aluR('xor', 4, 0x00, (a, b) => a ^ b);
aluR('srl', 5, 0x00, (a, b) => a >>> (b & 31));
aluR('sra', 5, 0x20, (a, b) => s32(a) >> (b & 31));
aluR('or', 6, 0x00, (a, b) => a | b);
aluR('and', 7, 0x00, (a, b) => a & b);

// ---- M extension: offloaded to the hive's shared mul/div unit ------------------------------
const MULDIV = ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'];
MULDIV.forEach((name, f3) =>
  def({
    name,
    mask: M_F7,
    match: OPC(0x33, f3, 0x01),
    kind: Kind.MulDiv,
    fmt: 'R',
    rs1: true,
    rs2: true,
    rd: true,
    divider: f3 >= 4,
  }),
);

// ---- A extension: executed at the memory (AMO shim / AXI atomics) ----------------------------
function amo(name: string, f5: number, op: Amo): void {
  const lr = op === Amo.Lr;
  def({
    name,
    mask: lr ? 0xf9f0707f : 0xf800707f,
    match: OPC(0x2f, 2) | (f5 << 27),
    kind: Kind.Amo,
    fmt: 'R',
    rs1: true,
    rs2: !lr,
    rd: true,
    size: 4,
    signed: true,
    amo: op,
  });
}
amo('lr.w', 0x02, Amo.Lr);
amo('sc.w', 0x03, Amo.Sc);
amo('amoswap.w', 0x01, Amo.Swap);
amo('amoadd.w', 0x00, Amo.Add);
amo('amoxor.w', 0x04, Amo.Xor);
amo('amoand.w', 0x0c, Amo.And);
amo('amoor.w', 0x08, Amo.Or);
amo('amomin.w', 0x10, Amo.Min);
amo('amomax.w', 0x14, Amo.Max);
amo('amominu.w', 0x18, Amo.Minu);
amo('amomaxu.w', 0x1c, Amo.Maxu);

// ---- system ------------------------------------------------------------------------------------
def({ name: 'fence', mask: M_F3, match: OPC(0x0f, 0), kind: Kind.Fence, fmt: 'Z' });
def({ name: 'fence.i', mask: M_F3, match: OPC(0x0f, 1), kind: Kind.FenceI, fmt: 'Z' });
def({ name: 'ecall', mask: 0xffffffff, match: 0x00000073, kind: Kind.Ecall, fmt: 'Z' });
def({ name: 'ebreak', mask: 0xffffffff, match: 0x00100073, kind: Kind.Ebreak, fmt: 'Z' });
def({ name: 'mret', mask: 0xffffffff, match: 0x30200073, kind: Kind.Mret, fmt: 'Z' });
def({ name: 'wfi', mask: 0xffffffff, match: 0x10500073, kind: Kind.Wfi, fmt: 'Z' });
['csrrw', 'csrrs', 'csrrc'].forEach((name, i) =>
  def({ name, mask: M_F3, match: OPC(0x73, i + 1), kind: Kind.Csr, fmt: 'I', rs1: true, rd: true }),
);
['csrrwi', 'csrrsi', 'csrrci'].forEach((name, i) =>
  def({ name, mask: M_F3, match: OPC(0x73, i + 5), kind: Kind.Csr, fmt: 'I', rd: true }),
);

// ---- Xdma (DMA core only): offloaded to the DMA frontend ------------------------------------
def({
  name: 'dmsrc',
  mask: 0xfe007fff,
  match: OPC(0x2b, 0, 0x00),
  kind: Kind.Dma,
  fmt: 'R',
  rs1: true,
  rs2: true,
});
def({
  name: 'dmdst',
  mask: 0xfe007fff,
  match: OPC(0x2b, 0, 0x01),
  kind: Kind.Dma,
  fmt: 'R',
  rs1: true,
  rs2: true,
});
def({
  name: 'dmcpyi',
  mask: 0xfe00707f,
  match: OPC(0x2b, 0, 0x02),
  kind: Kind.Dma,
  fmt: 'R',
  rs1: true,
  rd: true,
});
def({
  name: 'dmcpy',
  mask: 0xfe00707f,
  match: OPC(0x2b, 0, 0x03),
  kind: Kind.Dma,
  fmt: 'R',
  rs1: true,
  rs2: true,
  rd: true,
});
def({ name: 'dmstati', mask: 0xfe0ff07f, match: OPC(0x2b, 0, 0x04), kind: Kind.Dma, fmt: 'R', rd: true });
def({
  name: 'dmstat',
  mask: 0xfe0ff07f,
  match: OPC(0x2b, 0, 0x05),
  kind: Kind.Dma,
  fmt: 'R',
  rs2: true,
  rd: true,
});
def({
  name: 'dmstr',
  mask: 0xfe007fff,
  match: OPC(0x2b, 0, 0x06),
  kind: Kind.Dma,
  fmt: 'R',
  rs1: true,
  rs2: true,
});
def({ name: 'dmrep', mask: 0xfff07fff, match: OPC(0x2b, 0, 0x07), kind: Kind.Dma, fmt: 'R', rs1: true });

/** Every instruction the model knows, in table order. */
export const INSTRUCTIONS: readonly OpDef[] = table;

const ILLEGAL: OpDef = {
  name: 'illegal',
  mask: 0,
  match: 0,
  kind: Kind.Illegal,
  fmt: 'Z',
  readsRs1: false,
  readsRs2: false,
  writesRd: false,
  exec: undefined,
  size: undefined,
  signed: undefined,
  amo: undefined,
  divider: false,
};

function immediate(fmt: OpDef['fmt'], w: number): number {
  switch (fmt) {
    case 'I':
      return w >> 20;
    case 'S':
      return ((w >> 25) << 5) | ((w >>> 7) & 0x1f);
    case 'B':
      return sext(
        ((w >>> 31) << 12) | (((w >>> 7) & 1) << 11) | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 0xf) << 1),
        13,
      );
    case 'U':
      return (w & 0xfffff000) | 0;
    case 'J':
      return sext(
        ((w >>> 31) << 20) |
          (((w >>> 12) & 0xff) << 12) |
          (((w >>> 20) & 1) << 11) |
          (((w >>> 21) & 0x3ff) << 1),
        21,
      );
    default:
      return 0;
  }
}

/** Decodes one 32-bit word (no caching). Unknown words decode to `illegal`. */
export function decode(word: number): Decoded {
  const w = word >>> 0;
  let op = ILLEGAL;
  for (const e of table) {
    if ((w & e.mask) >>> 0 === e.match) {
      op = e;
      break;
    }
  }
  const d: Decoded = {
    op,
    word: w,
    rd: (w >>> 7) & 31,
    rs1: (w >>> 15) & 31,
    rs2: (w >>> 20) & 31,
    imm: op.kind === Kind.Csr ? (w >>> 20) & 0xfff : immediate(op.fmt, w),
  };
  return d;
}

/** A decoder with a per-word cache (the issue loop's hot path). */
export class DecodeCache {
  private readonly map = new Map<number, Decoded>();
  get(word: number): Decoded {
    let d = this.map.get(word);
    if (d === undefined) {
      d = decode(word);
      this.map.set(word, d);
    }
    return d;
  }
}
