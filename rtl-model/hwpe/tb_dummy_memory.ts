/**
 * `tb_dummy_memory`: the HWPE testbench's memory, `words` 32-bit words behind `MP` ports of 32 bits
 * (or wider: each port then accesses a naturally aligned word of its width), without stalls: every request is granted in its cycle; the response (read data, or the written word for
 * a write, with `r_valid`) is registered and seen by the HWPE in the next cycle. Writes merge the
 * enabled bytes into the addressed word at the edge. Addresses outside the memory read 0 and
 * write nothing.
 */
import { Module } from '../sim/kernel.ts';
import type { TcdmPorts } from './ita_hwpe_wrap.ts';

export class TbDummyMemory extends Module {
  readonly memory: Uint8Array;
  private readonly rValidInt: Uint8Array;
  private readonly rDataInt: Uint8Array;
  private readonly rValidNxt: Uint8Array;
  private readonly rDataNxt: Uint8Array;
  private readonly wrIdx: Int32Array;
  private readonly wrVal: Uint8Array;
  private nWr = 0;
  /** Granted ports of this cycle, by kind. */
  rdGrants = 0;
  wrGrants = 0;

  constructor(
    parent: Module,
    name: string,
    readonly ports: TcdmPorts,
    words: number,
  ) {
    super(parent, name);
    this.memory = new Uint8Array(words * 4);
    const n = ports.n;
    this.rValidInt = new Uint8Array(n);
    this.rDataInt = new Uint8Array(n * ports.bytes);
    this.rValidNxt = new Uint8Array(n);
    this.rDataNxt = new Uint8Array(n * ports.bytes);
    this.wrIdx = new Int32Array(n);
    this.wrVal = new Uint8Array(n * ports.bytes);
    this.state.push({
      commit: (): void => {
        this.rValidInt.set(this.rValidNxt);
        this.rDataInt.set(this.rDataNxt);
        const m = this.memory;
        const B = this.ports.bytes;
        for (let k = 0; k < this.nWr; k++) {
          const a = this.wrIdx[k]!;
          for (let j = 0; j < B; j++) m[a + j] = this.wrVal[B * k + j]!;
        }
        this.nWr = 0;
      },
      reset: (): void => {
        this.rValidInt.fill(0);
        this.rDataInt.fill(0);
        this.nWr = 0;
      },
    });
  }

  /** Loads 32-bit words (as `$readmemh`), word 0 at address 0. */
  load(words: Uint32Array): void {
    const dv = new DataView(this.memory.buffer);
    for (let i = 0; i < words.length && 4 * i < this.memory.length; i++) dv.setUint32(4 * i, words[i]!, true);
  }

  /** Word `i` of the memory. */
  word(i: number): number {
    const m = this.memory;
    const b = 4 * i;
    return (m[b]! | (m[b + 1]! << 8) | (m[b + 2]! << 16) | (m[b + 3]! << 24)) >>> 0;
  }

  /** The registered responses (before the HWPE evaluates). */
  evaluateResponse(): void {
    this.ports.r_valid.set(this.rValidInt);
    this.ports.r_data.set(this.rDataInt);
  }

  /** Grants: no stalls. */
  evaluateGrant(): void {
    const p = this.ports;
    let rd = 0;
    let wr = 0;
    for (let i = 0; i < p.n; i++) {
      const g = p.req[i]!;
      p.gnt[i] = g;
      if (g) {
        if (p.wen[i]) rd++;
        else wr++;
      }
    }
    this.rdGrants = rd;
    this.wrGrants = wr;
  }

  protected override seq(): void {
    const p = this.ports;
    const m = this.memory;
    for (let i = 0; i < p.n; i++) {
      if (!p.req[i]) {
        this.rValidNxt[i] = 0;
        continue;
      }
      const B = p.bytes;
      const a = p.add[i]! & ~(B - 1);
      const inside = a + B <= m.length;
      if (p.wen[i]) {
        for (let j = 0; j < B; j++) this.rDataNxt[B * i + j] = inside ? m[a + j]! : 0;
      } else {
        for (let j = 0; j < B; j++) {
          const k = B * i + j;
          const v = p.be[k] ? p.data[k]! : inside ? m[a + j]! : 0;
          this.rDataNxt[k] = v;
          this.wrVal[B * this.nWr + j] = v;
        }
        if (inside) this.wrIdx[this.nWr++] = a;
      }
      this.rValidNxt[i] = 1;
    }
  }
}
