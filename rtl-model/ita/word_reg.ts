/**
 * A register holding a whole weight word (`inp2_q`, N x M bytes). It keeps a reference to the
 * weight buffer's word instead of copying 1 KiB every cycle; when the buffer is about to overwrite
 * the referenced word, the register first takes a private copy, so it always shows the value
 * captured at its edge, exactly like the flop.
 */
import type { CommitsWhenWritten, Module, WrittenList } from '../sim/kernel.ts';
import { WeightWord } from './weight_buffer.ts';
import type { WordHolder } from './weight_buffer.ts';
import { packLanes } from './vec.ts';

export class WordReg implements CommitsWhenWritten, WordHolder {
  cur: WeightWord;
  private nxt: WeightWord;
  private readonly own: WeightWord;
  private readonly zero: WeightWord;
  private list: WrittenList | null = null;
  private enrolled = false;
  constructor(
    readonly name: string,
    N: number,
    M: number,
  ) {
    this.own = new WeightWord(N, M);
    this.zero = new WeightWord(N, M);
    this.cur = this.zero;
    this.nxt = this.zero;
  }
  /** Next value: the given word (referenced, not copied). */
  load(w: WeightWord): void {
    this.nxt = w;
    if (w !== this.cur && !this.enrolled && this.list !== null) {
      this.enrolled = true;
      this.list.add(this);
    }
  }
  commit(): void {
    this.enrolled = false;
    this.cur = this.nxt;
  }
  commitVia(list: WrittenList): void {
    this.list = list;
    if (this.cur !== this.nxt) {
      this.enrolled = true;
      list.add(this);
    }
  }
  changes(): boolean {
    return this.cur !== this.nxt;
  }
  /**
   * Word `w` is overwritten at this edge. If it is what the register holds after the edge, the
   * register takes a private copy first (this runs before or after the register's own commit).
   */
  beforeWrite(w: WeightWord): void {
    if (this.nxt !== w) return;
    this.own.bytes.set(w.bytes);
    this.own.touch();
    if (this.cur === this.nxt) this.cur = this.own;
    this.nxt = this.own;
  }
  reset(): void {
    this.cur = this.zero;
    this.nxt = this.zero;
  }
}

/** Declares a word register of `m` (traced as one packed N*M*8-bit signal). */
export function wordReg(m: Module, name: string, N: number, M: number): WordReg {
  const r = new WordReg(`${m.path}.${name}`, N, M);
  m.state.push(r);
  m.probes.push({ name: r.name, width: N * M * 8, read: () => packLanes(r.cur.bytes, 8) });
  return r;
}
