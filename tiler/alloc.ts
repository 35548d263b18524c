/**
 * Static L1 allocation with tensor lifetimes, and DRAM placement of constants and layer outputs.
 *
 * L1: every buffer has a size and a lifetime [first, last] in program steps (inclusive; within a
 * step DMA, ITA and cores run concurrently, so two buffers may share bytes only when their
 * lifetimes are disjoint). Buffers are placed longest-lived first (then larger first), each at the
 * lowest 64-byte aligned offset that overlaps no already placed buffer whose lifetime intersects
 * its own (first fit over the intervals): long-lived buffers settle at the bottom and the
 * short-lived ones reuse the space above them.
 *
 * DRAM: a bump allocator over the Machine's `dramAlloc` region; nothing placed there is ever
 * overwritten, so every layer's output can be read back after the run.
 */
import { InputError } from '../rtl-model/errors.ts';

export const ALIGN = 64;

export interface Lifetime {
  key: string;
  bytes: number;
  first: number;
  last: number;
}

export interface Placement extends Lifetime {
  /** Byte offset inside the region. */
  offset: number;
}

const up = (v: number): number => Math.ceil(v / ALIGN) * ALIGN;

/** Places `items` in a region of `size` bytes; throws an InputError when they do not fit. */
export function allocate(items: readonly Lifetime[], size: number, what = 'L1'): Placement[] {
  for (const it of items) {
    if (!Number.isInteger(it.bytes) || it.bytes <= 0)
      throw new InputError(`${what}: buffer ${it.key} has size ${it.bytes}, expected a positive integer`);
    if (!(it.first <= it.last))
      throw new InputError(`${what}: buffer ${it.key} has lifetime ${it.first}..${it.last}`);
  }
  // First fit in a few orders (fragmentation differs between them); the first that fits wins.
  const orders: ((a: Lifetime, b: Lifetime) => number)[] = [
    (a, b) => b.last - b.first - (a.last - a.first) || b.bytes - a.bytes || a.first - b.first,
    (a, b) => b.bytes - a.bytes || b.last - b.first - (a.last - a.first) || a.first - b.first,
    (a, b) => a.first - b.first || b.bytes - a.bytes,
  ];
  let failure: InputError | null = null;
  for (const cmp of orders) {
    const order = items.map((it, i) => ({ it, i })).sort((a, b) => cmp(a.it, b.it) || a.i - b.i);
    const r = firstFit(items, order, size, what);
    if (Array.isArray(r)) return r;
    failure ??= r;
  }
  throw failure!;
}

function firstFit(
  items: readonly Lifetime[],
  order: readonly { it: Lifetime; i: number }[],
  size: number,
  what: string,
): Placement[] | InputError {
  // indices of the items placed in each step, for the overlap queries
  let maxStep = 0;
  for (const it of items) maxStep = Math.max(maxStep, it.last);
  const byStep: number[][] = Array.from({ length: maxStep + 1 }, () => []);
  const out = new Array<Placement>(items.length);
  const lo = new Float64Array(items.length);
  const hi = new Float64Array(items.length);
  // the query (by stamp) that last took each placed item, so that each counts once
  const seen = new Int32Array(items.length);
  // the busy ranges of one query, sorted by their start
  let busy = new Int32Array(64);
  let stamp = 0;
  for (const { it, i } of order) {
    const bytes = up(it.bytes);
    stamp++;
    let n = 0;
    for (let s = it.first; s <= it.last; s++)
      for (const j of byStep[s]!) {
        if (seen[j] === stamp) continue;
        seen[j] = stamp;
        if (n === busy.length) {
          const wider = new Int32Array(2 * n);
          wider.set(busy);
          busy = wider;
        }
        busy[n++] = j;
      }
    const q = busy.subarray(0, n).sort((a, b) => lo[a]! - lo[b]!);
    let off = 0;
    for (let k = 0; k < n; k++) {
      const j = q[k]!;
      if (off + bytes <= lo[j]!) break;
      if (hi[j]! > off) off = hi[j]!;
    }
    if (off + bytes > size) {
      // the most bytes live in one step of its lifetime
      let live = 0;
      for (let s = it.first; s <= it.last; s++)
        live = Math.max(
          live,
          byStep[s]!.reduce((m, j) => m + hi[j]! - lo[j]!, 0),
        );
      return new InputError(
        `${what}: buffer ${it.key} (${it.bytes} bytes, steps ${it.first}..${it.last}) does not fit: up to ${live} of ${size} bytes are taken in those steps`,
      );
    }
    out[i] = { ...it, offset: off };
    lo[i] = off;
    hi[i] = off + bytes;
    for (let s = it.first; s <= it.last; s++) byStep[s]!.push(i);
  }
  return out;
}

/** Checks that no two placements with intersecting lifetimes overlap in bytes (for tests). */
export function overlapping(ps: readonly Placement[]): [Placement, Placement] | null {
  for (let i = 0; i < ps.length; i++)
    for (let j = i + 1; j < ps.length; j++) {
      const a = ps[i]!;
      const b = ps[j]!;
      const time = a.first <= b.last && b.first <= a.last;
      const space = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      if (time && space) return [a, b];
    }
  return null;
}

/**
 * Peak of the live bytes over all steps (a lower bound for any allocation). Steps are non-negative
 * integers, `first <= last`.
 */
export function peakLive(items: readonly Lifetime[]): number {
  let steps = 0;
  for (const it of items) {
    if (!Number.isInteger(it.first) || !Number.isInteger(it.last) || it.first < 0 || it.first > it.last)
      throw new InputError(`buffer ${it.key} has lifetime ${it.first}..${it.last}`);
    steps = Math.max(steps, it.last + 2);
  }
  // the bytes each step adds and removes, then their running sum
  const delta = new Float64Array(steps);
  for (const it of items) {
    delta[it.first]! += up(it.bytes);
    delta[it.last + 1]! -= up(it.bytes);
  }
  let cur = 0;
  let peak = 0;
  for (let s = 0; s < steps; s++) {
    cur += delta[s]!;
    if (cur > peak) peak = cur;
  }
  return peak;
}

/** DRAM placement: named blobs, 64-byte aligned, through a reservation function. */
export class DramPlan {
  readonly addr = new Map<string, number>();
  readonly data = new Map<string, Uint8Array>();
  constructor(private readonly reserve: (bytes: number) => number) {}

  /** Reserves `bytes` for `key` (once) and returns the address; `data` is written before the run. */
  place(key: string, bytes: number, data?: Uint8Array): number {
    const have = this.addr.get(key);
    if (have !== undefined) return have;
    const a = this.reserve(up(bytes));
    this.addr.set(key, a);
    if (data) this.data.set(key, data);
    return a;
  }

  get(key: string): number {
    const a = this.addr.get(key);
    if (a === undefined) throw new Error(`DRAM: ${key} was not placed`);
    return a;
  }
}
