/**
 * A small RV32IMA assembler for tests: one function per instruction returning its encoding
 * (written from the ISA manual's formats, independently of the model's decode table), labels
 * resolved in a second pass, and a harness that runs a program on the cluster.
 */
import { Cluster, type ClusterConfig } from '../../rtl-model/cluster/cluster.ts';

const R = (op: number, f3: number, f7: number) => (rd: number, rs1: number, rs2: number) =>
  (op | (rd << 7) | (f3 << 12) | (rs1 << 15) | (rs2 << 20) | (f7 << 25)) >>> 0;
const I = (op: number, f3: number) => (rd: number, rs1: number, imm: number) =>
  (op | (rd << 7) | (f3 << 12) | (rs1 << 15) | ((imm & 0xfff) << 20)) >>> 0;
const S = (op: number, f3: number) => (rs2: number, rs1: number, imm: number) =>
  (op | ((imm & 0x1f) << 7) | (f3 << 12) | (rs1 << 15) | (rs2 << 20) | (((imm >> 5) & 0x7f) << 25)) >>> 0;
const B = (f3: number) => (rs1: number, rs2: number, off: number) =>
  (0x63 |
    (((off >> 11) & 1) << 7) |
    (((off >> 1) & 0xf) << 8) |
    (f3 << 12) |
    (rs1 << 15) |
    (rs2 << 20) |
    (((off >> 5) & 0x3f) << 25) |
    (((off >> 12) & 1) << 31)) >>>
  0;
const SH = (f3: number, f7: number) => (rd: number, rs1: number, sh: number) =>
  (0x13 | (rd << 7) | (f3 << 12) | (rs1 << 15) | ((sh & 31) << 20) | (f7 << 25)) >>> 0;
const A = (f5: number) => (rd: number, rs1: number, rs2: number) =>
  (0x2f | (rd << 7) | (2 << 12) | (rs1 << 15) | (rs2 << 20) | (f5 << 27)) >>> 0;

export const enc = {
  lui: (rd: number, imm20: number) => (0x37 | (rd << 7) | ((imm20 & 0xfffff) << 12)) >>> 0,
  auipc: (rd: number, imm20: number) => (0x17 | (rd << 7) | ((imm20 & 0xfffff) << 12)) >>> 0,
  jal: (rd: number, off: number) =>
    (0x6f |
      (rd << 7) |
      (((off >> 12) & 0xff) << 12) |
      (((off >> 11) & 1) << 20) |
      (((off >> 1) & 0x3ff) << 21) |
      (((off >> 20) & 1) << 31)) >>>
    0,
  jalr: I(0x67, 0),
  beq: B(0),
  bne: B(1),
  blt: B(4),
  bge: B(5),
  bltu: B(6),
  bgeu: B(7),
  lb: I(0x03, 0),
  lh: I(0x03, 1),
  lw: I(0x03, 2),
  lbu: I(0x03, 4),
  lhu: I(0x03, 5),
  sb: S(0x23, 0),
  sh: S(0x23, 1),
  sw: S(0x23, 2),
  addi: I(0x13, 0),
  slti: I(0x13, 2),
  sltiu: I(0x13, 3),
  xori: I(0x13, 4),
  ori: I(0x13, 6),
  andi: I(0x13, 7),
  slli: SH(1, 0),
  srli: SH(5, 0),
  srai: SH(5, 0x20),
  add: R(0x33, 0, 0),
  sub: R(0x33, 0, 0x20),
  sll: R(0x33, 1, 0),
  slt: R(0x33, 2, 0),
  sltu: R(0x33, 3, 0),
  xor: R(0x33, 4, 0),
  srl: R(0x33, 5, 0),
  sra: R(0x33, 5, 0x20),
  or: R(0x33, 6, 0),
  and: R(0x33, 7, 0),
  mul: R(0x33, 0, 1),
  mulh: R(0x33, 1, 1),
  mulhsu: R(0x33, 2, 1),
  mulhu: R(0x33, 3, 1),
  div: R(0x33, 4, 1),
  divu: R(0x33, 5, 1),
  rem: R(0x33, 6, 1),
  remu: R(0x33, 7, 1),
  lr_w: (rd: number, rs1: number) => A(0x02)(rd, rs1, 0),
  sc_w: A(0x03),
  amoswap_w: A(0x01),
  amoadd_w: A(0x00),
  amoxor_w: A(0x04),
  amoand_w: A(0x0c),
  amoor_w: A(0x08),
  amomin_w: A(0x10),
  amomax_w: A(0x14),
  amominu_w: A(0x18),
  amomaxu_w: A(0x1c),
  fence: () => 0x0ff0000f,
  fence_i: () => 0x0000100f,
  ecall: () => 0x00000073,
  ebreak: () => 0x00100073,
  mret: () => 0x30200073,
  wfi: () => 0x10500073,
  csrrw: I(0x73, 1),
  csrrs: I(0x73, 2),
  csrrc: I(0x73, 3),
  csrrwi: I(0x73, 5),
  csrrsi: I(0x73, 6),
  csrrci: I(0x73, 7),
  // Xdma (custom-1 opcode 0x2b)
  dmsrc: (rs1: number, rs2: number) => R(0x2b, 0, 0)(0, rs1, rs2),
  dmdst: (rs1: number, rs2: number) => R(0x2b, 0, 1)(0, rs1, rs2),
  dmcpyi: (rd: number, rs1: number, cfg: number) => R(0x2b, 0, 2)(rd, rs1, cfg),
  dmcpy: (rd: number, rs1: number, rs2: number) => R(0x2b, 0, 3)(rd, rs1, rs2),
  dmstati: (rd: number, sel: number) => R(0x2b, 0, 4)(rd, 0, sel),
  dmstat: (rd: number, rs2: number) => R(0x2b, 0, 5)(rd, 0, rs2),
  dmstr: (rs1: number, rs2: number) => R(0x2b, 0, 6)(0, rs1, rs2),
  dmrep: (rs1: number) => R(0x2b, 0, 7)(0, rs1, 0),
};

export const DRAM = 0x8000_0000;
export const TCDM = 0x1000_0000;
export const PERIPH = 0x1002_0000;
export const TOHOST = 0x8000_f000;

/** A program under construction: instruction words plus labels fixed up at `build()`. */
export class Prog {
  readonly words: (number | (() => number))[] = [];
  private readonly labels = new Map<string, number>();
  constructor(readonly base = DRAM) {}
  get pc(): number {
    return this.base + this.words.length * 4;
  }
  emit(...ws: number[]): this {
    this.words.push(...ws);
    return this;
  }
  label(name: string): this {
    this.labels.set(name, this.pc);
    return this;
  }
  addr(name: string): number {
    const a = this.labels.get(name);
    if (a === undefined) throw new Error(`unknown label ${name}`);
    return a;
  }
  /** A pc-relative instruction whose offset is known after all labels are placed. */
  rel(name: string, make: (off: number) => number): this {
    const at = this.pc;
    this.words.push(() => make(this.addr(name) - at));
    return this;
  }
  /** Loads a 32-bit constant (lui + addi). */
  li(rd: number, value: number): this {
    const v = value | 0;
    const lo = (v << 20) >> 20;
    const hi = ((v - lo) >>> 12) & 0xfffff;
    if (hi !== 0) this.emit(enc.lui(rd, hi), enc.addi(rd, rd, lo));
    else this.emit(enc.addi(rd, 0, lo));
    return this;
  }
  /** Core index into `rd`, then cores other than `core` jump to `label`. */
  onlyCore(core: number, tmp: number, label: string): this {
    this.emit(enc.csrrs(tmp, 0, 0xf14));
    this.li(31, core);
    return this.rel(label, (o) => enc.bne(tmp, 31, o));
  }
  /** Writes `value` (register) to tohost. */
  exitReg(reg: number): this {
    this.li(30, TOHOST);
    this.emit(enc.sw(reg, 30, 0));
    this.label(`__spin${this.words.length}`);
    return this.emit(enc.jal(0, 0));
  }
  /** Passes (tohost = 1). */
  pass(): this {
    this.li(29, 1);
    return this.exitReg(29);
  }
  /** Spins forever (used by cores that take no part). */
  spin(label = 'spin'): this {
    this.label(label);
    return this.emit(enc.jal(0, 0));
  }
  build(): Uint32Array {
    return Uint32Array.from(this.words.map((w) => (typeof w === 'function' ? w() : w)));
  }
}

/** Loads `prog` at DRAM, sets `tohost` and returns the cluster ready to run. */
export function load(prog: Prog, cfg: Partial<ClusterConfig> = {}): Cluster {
  const c = new Cluster(cfg);
  const words = prog.build();
  c.mem.load(prog.base, new Uint8Array(words.buffer));
  for (const core of c.cores) {
    core.pc.cur = prog.base;
    core.pc.nxt = prog.base;
  }
  c.tohostAddr = TOHOST;
  return c;
}

/** Runs a program to its `tohost` write; fails on a hang. */
export function run(
  prog: Prog,
  cfg: Partial<ClusterConfig> = {},
  maxCycles = 200_000,
): { cluster: Cluster; cycles: number; tohost: number } {
  const c = load(prog, cfg);
  const r = c.run(maxCycles);
  if (!r.finished) throw new Error(`program did not finish within ${maxCycles} cycles`);
  return { cluster: c, cycles: r.cycles, tohost: r.tohost };
}
