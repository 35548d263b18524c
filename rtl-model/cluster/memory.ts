/**
 * Backing storage of the cluster's memories and the address map of `snitch_cluster`:
 *   TCDM          0x1000_0000, 128 KiB (32 banks x 64 bit x 512 words)
 *   peripherals   TCDM end = 0x1002_0000, 64 KiB (`cluster_periph_start_address = tcdm_end_address`)
 *   DRAM / L2     0x8000_0000 (the model holds `dramSize` bytes of it)
 * The bytes live in plain typed arrays; which cycle an access happens in is decided by the
 * interconnect models that call these helpers.
 */
import { InputError } from '../errors.ts';
import { Amo } from '../snitch/isa.ts';

export const TCDM_BASE = 0x1000_0000;
export const TCDM_SIZE = 128 * 1024;
export const PERIPH_BASE = TCDM_BASE + TCDM_SIZE;
export const PERIPH_SIZE = 64 * 1024;
export const DRAM_BASE = 0x8000_0000;

export class ClusterMemory {
  readonly tcdm = new Uint8Array(TCDM_SIZE);
  readonly dram: Uint8Array;
  private readonly tcdmView: DataView;
  private readonly dramView: DataView;
  /** LR/SC reservations: per hart, the reserved word address or -1. */
  readonly reservation: Int32Array;

  constructor(
    readonly dramSize: number,
    harts: number,
  ) {
    this.dram = new Uint8Array(dramSize);
    this.tcdmView = new DataView(this.tcdm.buffer);
    this.dramView = new DataView(this.dram.buffer);
    this.reservation = new Int32Array(harts).fill(-1);
  }

  isTcdm(addr: number): boolean {
    return addr >= TCDM_BASE && addr < TCDM_BASE + TCDM_SIZE;
  }
  isPeriph(addr: number): boolean {
    return addr >= PERIPH_BASE && addr < PERIPH_BASE + PERIPH_SIZE;
  }
  isDram(addr: number): boolean {
    return addr >= DRAM_BASE && addr < DRAM_BASE + this.dramSize;
  }

  /** Offset into the view `view` returned (set by `view`; a field, so that no pair is allocated). */
  private off = 0;
  /** The memory holding bytes `[addr, addr+size)` (their offset in `off`), or null if unmapped. */
  private view(addr: number, size: number): DataView | null {
    if (addr >= TCDM_BASE && addr + size <= TCDM_BASE + TCDM_SIZE) {
      this.off = addr - TCDM_BASE;
      return this.tcdmView;
    }
    if (addr >= DRAM_BASE && addr + size <= DRAM_BASE + this.dramSize) {
      this.off = addr - DRAM_BASE;
      return this.dramView;
    }
    return null;
  }

  /** Bytes `[addr, addr+size)` as an unsigned little-endian number (size 1, 2 or 4); 0 if unmapped. */
  read(addr: number, size: number): number {
    const v = this.view(addr, size);
    if (!v) return 0;
    const o = this.off;
    return size === 1 ? v.getUint8(o) : size === 2 ? v.getUint16(o, true) : v.getUint32(o, true);
  }

  write(addr: number, size: number, value: number): void {
    const v = this.view(addr, size);
    if (!v) return;
    const o = this.off;
    if (size === 1) v.setUint8(o, value & 0xff);
    else if (size === 2) v.setUint16(o, value & 0xffff, true);
    else v.setUint32(o, value >>> 0, true);
    // A store to a reserved word breaks every reservation on it.
    const w = (addr & ~3) | 0;
    for (let i = 0; i < this.reservation.length; i++) if (this.reservation[i] === w) this.reservation[i] = -1;
  }

  /**
   * An atomic memory operation of hart `core` (32 bit), as the AMO shim performs it: returns the
   * old value (for SC: 0 on success, 1 on failure).
   */
  amo(core: number, addr: number, op: Amo, operand: number): number {
    const w = (addr & ~3) | 0;
    if (op === Amo.Lr) {
      this.reservation[core] = w;
      return this.read(addr, 4);
    }
    if (op === Amo.Sc) {
      const ok = this.reservation[core] === w;
      this.reservation[core] = -1;
      if (!ok) return 1;
      this.write(addr, 4, operand);
      return 0;
    }
    const old = this.read(addr, 4);
    const a = old | 0;
    const b = operand | 0;
    let v: number;
    switch (op) {
      case Amo.Swap:
        v = b;
        break;
      case Amo.Add:
        v = a + b;
        break;
      case Amo.And:
        v = a & b;
        break;
      case Amo.Or:
        v = a | b;
        break;
      case Amo.Xor:
        v = a ^ b;
        break;
      case Amo.Max:
        v = a > b ? a : b;
        break;
      case Amo.Min:
        v = a < b ? a : b;
        break;
      case Amo.Maxu:
        v = old >>> 0 > operand >>> 0 ? old : operand;
        break;
      case Amo.Minu:
        v = old >>> 0 < operand >>> 0 ? old : operand;
        break;
      default:
        v = old;
    }
    this.write(addr, 4, v >>> 0);
    return old;
  }

  /** Copies an image into memory (TCDM or DRAM). */
  load(addr: number, data: Uint8Array, memSize = data.length): void {
    for (const [base, arr, size] of [
      [TCDM_BASE, this.tcdm, TCDM_SIZE],
      [DRAM_BASE, this.dram, this.dramSize],
    ] as const) {
      if (addr >= base && addr + memSize <= base + size) {
        arr.set(data, addr - base);
        arr.fill(0, addr - base + data.length, addr - base + memSize);
        return;
      }
    }
    throw new InputError(
      `segment at 0x${addr.toString(16)} (${memSize} bytes) lies outside TCDM and the modelled DRAM (${this.dramSize} bytes at 0x80000000)`,
    );
  }

  /** Copies `len` bytes between memories (a DMA beat). */
  copy(dst: number, src: number, len: number): void {
    for (let i = 0; i < len; i++) this.write8(dst + i, this.read(src + i, 1));
  }
  /** Reads `len` bytes from `src` into `ring` from index `at` on (wrapping; a DMA read beat). */
  readRing(src: number, ring: Uint8Array, at: number, len: number): void {
    const m = ring.length - 1;
    for (let i = 0; i < len; i++) ring[(at + i) & m] = this.read(src + i, 1);
  }
  /** Writes `len` bytes of `ring` from index `at` on (wrapping) to `dst` (a DMA write beat). */
  writeRing(dst: number, ring: Uint8Array, at: number, len: number): void {
    const m = ring.length - 1;
    for (let i = 0; i < len; i++) this.write8(dst + i, ring[(at + i) & m]!);
  }
  private write8(addr: number, b: number): void {
    const v = this.view(addr, 1);
    if (v) v.setUint8(this.off, b);
  }
}
