/**
 * `ita_register_file_1w_multi_port_read`: a latch register file with registered read addresses
 * (one per read port) and one write port. The RTL writes through clock-gating cells; the written
 * word is readable after the writing edge, which is how the model commits it.
 */
import { Enrolment, Module } from '../sim/kernel.ts';
import type { CommitsWhenWritten, WrittenList } from '../sim/kernel.ts';

export class ItaRegisterFile extends Module implements CommitsWhenWritten {
  readonly ReadEnable: Uint8Array;
  readonly ReadAddr: Int32Array;
  WriteEnable = 0;
  WriteAddr = 0;
  WriteData = 0;
  readonly mem: Int32Array;
  readonly RAddrRegxDP: Int32Array;
  private readonly rNext: Int32Array;
  private pendWrite = false;
  private pendAddr = 0;
  private pendData = 0;
  /** Committed at the edges of the cycles it is written in (see `WrittenList`). */
  private readonly written = new Enrolment(this);
  commitVia(list: WrittenList): void {
    this.written.via(list);
  }
  constructor(
    parent: Module,
    name: string,
    readonly addrWidth: number,
    readonly dataWidth: number,
    readonly nRead: number,
  ) {
    super(parent, name);
    this.ReadEnable = new Uint8Array(nRead);
    this.ReadAddr = new Int32Array(nRead);
    this.mem = new Int32Array(1 << addrWidth);
    this.RAddrRegxDP = new Int32Array(nRead);
    this.rNext = new Int32Array(nRead);
    this.state.push(this);
    for (let z = 0; z < nRead; z++) {
      this.probes.push({
        name: `${this.path}.RAddrRegxDP_${z}`,
        width: addrWidth,
        read: () => this.RAddrRegxDP[z]!,
      });
    }
  }
  /** `ReadData[z]`. */
  readData(z: number): number {
    return this.mem[this.RAddrRegxDP[z]!]!;
  }
  override update(): void {
    const mask = (1 << this.addrWidth) - 1;
    for (let z = 0; z < this.nRead; z++) {
      if (this.ReadEnable[z]) {
        const a = this.ReadAddr[z]! & mask;
        this.rNext[z] = a;
        if (a !== this.RAddrRegxDP[z]) this.written.mark();
      }
    }
    if (this.WriteEnable) {
      this.pendWrite = true;
      this.pendAddr = this.WriteAddr & mask;
      this.pendData = this.WriteData;
      this.written.mark();
    }
  }
  commit(): void {
    this.written.done();
    this.RAddrRegxDP.set(this.rNext);
    if (this.pendWrite) {
      this.mem[this.pendAddr] = this.pendData;
      this.pendWrite = false;
    }
  }
  changes(): boolean {
    for (let z = 0; z < this.rNext.length; z++) if (this.rNext[z] !== this.RAddrRegxDP[z]) return true;
    return this.pendWrite && this.mem[this.pendAddr] !== this.pendData;
  }
  reset(): void {
    this.mem.fill(0);
    this.RAddrRegxDP.fill(0);
    this.rNext.fill(0);
    this.pendWrite = false;
  }
}
