/**
 * Where the testbench's valid/ready coin flips come from: always 1 (no stalls), a seeded random
 * source per stream, or a replay of a recorded run (the `inp_valid`, `w_valid`, `ready_i` columns
 * of an RTL per-cycle trace).
 */
import { InputError } from '../errors.ts';

export interface StallSource {
  /** Coin for `inp_valid` at `cycle` (1 = valid). */
  inp(cycle: number): number;
  /** Coin for `inp_weight_valid`. */
  weight(cycle: number): number;
  /** Coin for `ready_i`. */
  ready(cycle: number): number;
}

export const NO_STALLS: StallSource = { inp: () => 1, weight: () => 1, ready: () => 1 };

/** xorshift32 generator; deterministic per seed. */
class XorShift32 {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x9e3779b9) >>> 0 || 1;
    for (let i = 0; i < 8; i++) this.next();
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
}

/** Independent seeded coins per stream; each says "stall" with probability `p`. */
export function randomStalls(seed: number, p: number): StallSource {
  if (!(p >= 0 && p < 1)) throw new InputError(`--stall-prob must be in [0, 1), got ${p}`);
  const gi = new XorShift32(seed * 3 + 1);
  const gw = new XorShift32(seed * 3 + 2);
  const gr = new XorShift32(seed * 3 + 3);
  return {
    inp: () => (gi.next() < p ? 0 : 1),
    weight: () => (gw.next() < p ? 0 : 1),
    ready: () => (gr.next() < p ? 0 : 1),
  };
}

/** One row per cycle of an RTL per-cycle trace (`cycle,...,inp_valid,...,w_valid,...`). */
export interface CycleTrace {
  cycle: Int32Array;
  valid_o: Uint8Array;
  ready_i: Uint8Array;
  inp_valid: Uint8Array;
  w_valid: Uint8Array;
  /** `data_hex` column ('' when not valid). */
  data_hex: string[];
}

export function parseCycleTrace(text: string, what = 'stall trace'): CycleTrace {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines.length < 2)
    throw new InputError(
      `${what}: ${lines.length ? 'no line after the header' : 'empty'}; expected a header (cycle,valid_o,ready_i,inp_valid,w_valid) and one line per cycle`,
    );
  const head = lines[0]!.split(',');
  const col = (n: string): number => {
    const i = head.indexOf(n);
    if (i < 0)
      throw new InputError(`${what}: missing column ${n} (need cycle, valid_o, ready_i, inp_valid, w_valid)`);
    return i;
  };
  const [ci, vi, ri, ii, wi] = ['cycle', 'valid_o', 'ready_i', 'inp_valid', 'w_valid'].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const di = head.indexOf('data_hex');
  const n = lines.length - 1;
  const t: CycleTrace = {
    cycle: new Int32Array(n),
    valid_o: new Uint8Array(n),
    ready_i: new Uint8Array(n),
    inp_valid: new Uint8Array(n),
    w_valid: new Uint8Array(n),
    data_hex: new Array<string>(n),
  };
  for (let k = 0; k < n; k++) {
    const f = lines[k + 1]!.split(',');
    t.cycle[k] = +f[ci]!;
    if (t.cycle[k] !== k)
      throw new InputError(
        `${what}: row ${k + 1} has cycle ${f[ci]}, expected ${k} (rows must be consecutive from 0)`,
      );
    t.valid_o[k] = +f[vi]!;
    t.ready_i[k] = +f[ri]!;
    t.inp_valid[k] = +f[ii]!;
    t.w_valid[k] = +f[wi]!;
    t.data_hex[k] = di >= 0 ? (f[di] ?? '') : '';
  }
  return t;
}

/** Replays the coin flips recorded in a per-cycle trace (1 after its end). */
export function replayStalls(t: CycleTrace): StallSource {
  const n = t.cycle.length;
  return {
    inp: (c) => (c < n ? t.inp_valid[c]! : 1),
    weight: (c) => (c < n ? t.w_valid[c]! : 1),
    ready: (c) => (c < n ? t.ready_i[c]! : 1),
  };
}
