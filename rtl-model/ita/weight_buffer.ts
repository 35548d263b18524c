/**
 * `ita_register_file_1w_multi_port_read_we` as the weight buffer: two words of N x M bytes, written
 * one N*M/N_WRITE_EN-byte slice at a time, read through a registered address. The RTL writes its
 * latches through clock-gating cells; the new slice is readable after the writing edge, which is how
 * the model commits it.
 */
import { Enrolment, Module } from '../sim/kernel.ts';
import type { CommitsWhenWritten, WrittenList } from '../sim/kernel.ts';
import { packWeights } from './sumdotp.ts';

/**
 * A weight word as the datapath sees it: N rows of M bytes, and the same packed two rows per
 * double for the dot products evaluated in doubles (see `sumdotp.ts`), packed when first asked for
 * after a change.
 */
export class WeightWord {
  readonly bytes: Int8Array;
  /** Counts changes of `bytes`: whoever writes them calls `touch`. */
  version = 0;
  private readonly pairs: Float64Array;
  private pairsVersion = 0;
  constructor(
    readonly N: number,
    readonly M: number,
  ) {
    this.bytes = new Int8Array(N * M);
    this.pairs = new Float64Array((N / 2) * M);
  }
  /** Marks `bytes` as changed. */
  touch(): void {
    this.version++;
  }
  get packed(): Float64Array {
    if (this.pairsVersion !== this.version) {
      packWeights(this.bytes, this.N, this.M, this.pairs);
      this.pairsVersion = this.version;
    }
    return this.pairs;
  }
}

/** Something that holds a reference to a buffer word and must keep its old contents on a write. */
export interface WordHolder {
  /** Called before word `w` is overwritten at the edge. */
  beforeWrite(w: WeightWord): void;
}

export class ItaWeightBuffer extends Module implements CommitsWhenWritten {
  ReadEnable = 0;
  ReadAddr = 0;
  WriteEnable = 0;
  WriteAddr = 0;
  WriteSelectIdx = 0;
  WriteData!: Int8Array;
  readonly words: WeightWord[];
  /** Notified before a word is written (the `inp2_q` register holding a reference). */
  holder: WordHolder | null = null;
  private RAddrRegxDP = 0;
  private RAddrNext = 0;
  private pendWrite = false;
  private pendAddr = 0;
  private pendSlice = 0;
  private readonly pendData: Int8Array;
  /** Committed at the edges of the cycles it is written in (see `WrittenList`). */
  private readonly written = new Enrolment(this);
  commitVia(list: WrittenList): void {
    this.written.via(list);
  }
  constructor(
    parent: Module,
    readonly N: number,
    readonly M: number,
    readonly sliceBytes: number,
  ) {
    super(parent, 'i_weight_buffer');
    this.words = [new WeightWord(N, M), new WeightWord(N, M)];
    this.pendData = new Int8Array(sliceBytes);
    this.state.push(this);
    this.probes.push({ name: `${this.path}.RAddrRegxDP`, width: 1, read: () => this.RAddrRegxDP });
  }
  /** `ReadData`: the word selected by the registered read address. */
  get ReadData(): WeightWord {
    return this.words[this.RAddrRegxDP]!;
  }
  override update(): void {
    this.RAddrNext = this.ReadEnable ? this.ReadAddr : this.RAddrRegxDP;
    if (this.RAddrNext !== this.RAddrRegxDP) this.written.mark();
    if (this.WriteEnable) {
      this.pendWrite = true;
      this.pendAddr = this.WriteAddr;
      this.pendSlice = this.WriteSelectIdx;
      this.pendData.set(this.WriteData);
      this.written.mark();
    }
  }
  commit(): void {
    this.written.done();
    this.RAddrRegxDP = this.RAddrNext;
    if (this.pendWrite) {
      const w = this.words[this.pendAddr]!;
      this.holder?.beforeWrite(w);
      w.bytes.set(this.pendData, this.pendSlice * this.sliceBytes);
      w.touch();
      this.pendWrite = false;
    }
  }
  /** Conservative: any staged write counts as a change. */
  changes(): boolean {
    return this.RAddrRegxDP !== this.RAddrNext || this.pendWrite;
  }
  reset(): void {
    for (const w of this.words) {
      w.bytes.fill(0);
      w.touch();
    }
    this.RAddrRegxDP = 0;
    this.RAddrNext = 0;
    this.pendWrite = false;
  }
}
