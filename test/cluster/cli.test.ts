/** `itasim cluster run`: report, traces, VCD, input errors and the exit code from tohost. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCluster } from '../../scripts/commands/cluster.ts';
import { InputError } from '../../rtl-model/errors.ts';
import { DEFAULT_CLUSTER } from '../../rtl-model/cluster/cluster.ts';
import { Prog } from './asm.ts';

const ELF = new URL('../../sw/bin/itamax.elf', import.meta.url).pathname;
const opts = {
  maxCycles: 2_000_000,
  trace: [] as string[],
  dramLatency: DEFAULT_CLUSTER.dramLatency,
  idealFetch: false,
};

/** A minimal ELF32 holding one code segment at 0x8000_0000 and a `tohost` symbol. */
function tinyElf(words: Uint32Array, tohost: number): Uint8Array {
  const code = new Uint8Array(words.buffer);
  const strtab = new TextEncoder().encode('\0tohost\0');
  const shstr = new TextEncoder().encode('\0.symtab\0.strtab\0.shstrtab\0');
  const ehsize = 52;
  const phoff = ehsize;
  const codeOff = 0x100;
  const symOff = codeOff + code.length;
  const strOff = symOff + 32;
  const shstrOff = strOff + strtab.length;
  const shoff = (shstrOff + shstr.length + 3) & ~3;
  const buf = new Uint8Array(shoff + 4 * 40);
  const dv = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, 243, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(24, 0x8000_0000, true);
  dv.setUint32(28, phoff, true);
  dv.setUint32(32, shoff, true);
  dv.setUint16(40, ehsize, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, 1, true);
  dv.setUint16(46, 40, true);
  dv.setUint16(48, 4, true);
  dv.setUint16(50, 3, true);
  dv.setUint32(phoff, 1, true);
  dv.setUint32(phoff + 4, codeOff, true);
  dv.setUint32(phoff + 8, 0x8000_0000, true);
  dv.setUint32(phoff + 12, 0x8000_0000, true);
  dv.setUint32(phoff + 16, code.length, true);
  dv.setUint32(phoff + 20, code.length, true);
  buf.set(code, codeOff);
  dv.setUint32(symOff + 16, 1, true); // symbol 1: name offset 1 ("tohost")
  dv.setUint32(symOff + 20, tohost, true);
  buf.set(strtab, strOff);
  buf.set(shstr, shstrOff);
  const sh = (i: number, name: number, type: number, off: number, size: number, link: number) => {
    const o = shoff + i * 40;
    dv.setUint32(o, name, true);
    dv.setUint32(o + 4, type, true);
    dv.setUint32(o + 16, off, true);
    dv.setUint32(o + 20, size, true);
    dv.setUint32(o + 24, link, true);
  };
  sh(1, 1, 2, symOff, 32, 2);
  sh(2, 9, 3, strOff, strtab.length, 0);
  sh(3, 17, 3, shstrOff, shstr.length, 0);
  return buf;
}

describe('itasim cluster run', () => {
  it('prints cycles, per-core IPC, stall causes and DMA bytes', () => {
    let text = '';
    const r = runCluster(ELF, opts, (s) => (text += s));
    expect(r.finished).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(text).toMatch(/^cycles: \d+/);
    for (const h of ['IPC', 'dependency', 'bank conflict', 'mul/div', 'fetch', 'barrier'])
      expect(text).toContain(h);
    expect(r.dmaBytes).toBe(2 * 64 * 64); // in and out
    expect(r.cores.slice(0, 8).every((c) => c.instructions > 1000)).toBe(true);
  });
  it('--trace and --vcd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itasim-cl-'));
    try {
      let text = '';
      const vcd = join(dir, 'o.vcd');
      runCluster(ELF, { ...opts, trace: ['core0', 'dma'], vcd }, (s) => (text += s));
      const lines = text.split('\n');
      // the instruction cache clears its tags for 128 cycles after reset: the first instruction
      // issues in cycle 139 (cycle 140 counted from 1, as the RTL's traces count)
      expect(lines[0]).toMatch(/^\s+0 {2}gen_core0\.i_snitch: stall \(fetch\) \| dma: idle/);
      expect(lines[139]).toMatch(/^\s+139 {2}gen_core0\.i_snitch: 80000000 csrrs \| dma: idle/);
      const v = readFileSync(vcd, 'utf8');
      expect(v).toContain('pc_q');
      expect(v).toContain('$enddefinitions');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('rejects a missing file and unknown trace units with an input error', () => {
    expect(() => runCluster('/nonexistent.elf', opts)).toThrow(InputError);
    expect(() => runCluster(ELF, { ...opts, trace: ['gpu'] })).toThrow(/--trace/);
  });
  it('the process exit code is the program tohost code; bad options exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itasim-cl-'));
    try {
      const p = new Prog();
      p.li(5, (21 << 1) | 1).exitReg(5);
      const file = join(dir, 'exit21.elf');
      writeFileSync(file, tinyElf(p.build(), 0x8000_f000));
      const bin = new URL('../../bin/itasim.js', import.meta.url).pathname;
      const r = spawnSync(process.execPath, [bin, 'cluster', 'run', file], { encoding: 'utf8' });
      expect(r.stdout).toContain('exit code: 21');
      expect(r.status).toBe(21);
      const bad = spawnSync(process.execPath, [bin, 'cluster', 'run', file, '--max-cycles', '-5'], {
        encoding: 'utf8',
      });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('--max-cycles');
      expect(existsSync(file)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
