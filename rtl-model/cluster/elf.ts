/**
 * ELF32 little-endian RISC-V executable loader: the loadable segments (PT_LOAD, with their
 * zero-filled tails) and the symbol table (for `tohost` and test data symbols).
 */
import { InputError } from '../errors.ts';

export interface ElfSegment {
  vaddr: number;
  data: Uint8Array;
  /** Size in memory (>= data.length; the rest is zero). */
  memSize: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  symbols: Map<string, number>;
}

export function parseElf(buf: Uint8Array, name = 'ELF file'): ElfImage {
  if (buf.length < 52 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) {
    throw new InputError(`${name}: not an ELF file`);
  }
  if (buf[4] !== 1 || buf[5] !== 1) throw new InputError(`${name}: must be ELF32 little-endian (RV32)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const machine = dv.getUint16(18, true);
  if (machine !== 243) throw new InputError(`${name}: e_machine must be RISC-V (243), got ${machine}`);
  const entry = dv.getUint32(24, true);
  const phoff = dv.getUint32(28, true);
  const shoff = dv.getUint32(32, true);
  const phentsize = dv.getUint16(42, true);
  const phnum = dv.getUint16(44, true);
  const shentsize = dv.getUint16(46, true);
  const shnum = dv.getUint16(48, true);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (dv.getUint32(o, true) !== 1) continue; // PT_LOAD
    const off = dv.getUint32(o + 4, true);
    const paddr = dv.getUint32(o + 12, true);
    const filesz = dv.getUint32(o + 16, true);
    const memsz = dv.getUint32(o + 20, true);
    if (off + filesz > buf.length)
      throw new InputError(`${name}: segment ${i} extends past the end of the file`);
    segments.push({ vaddr: paddr, data: buf.subarray(off, off + filesz), memSize: memsz });
  }
  const symbols = new Map<string, number>();
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    if (dv.getUint32(o + 4, true) !== 2) continue; // SHT_SYMTAB
    const symOff = dv.getUint32(o + 16, true);
    const symSize = dv.getUint32(o + 20, true);
    const link = dv.getUint32(o + 24, true);
    const strOff = dv.getUint32(shoff + link * shentsize + 16, true);
    for (let s = symOff; s + 16 <= symOff + symSize; s += 16) {
      const nameOff = dv.getUint32(s, true);
      if (nameOff === 0) continue;
      let e = strOff + nameOff;
      while (buf[e] !== 0 && e < buf.length) e++;
      const sym = new TextDecoder().decode(buf.subarray(strOff + nameOff, e));
      symbols.set(sym, dv.getUint32(s + 4, true));
    }
  }
  return { entry, segments, symbols };
}
