/**
 * `ita_accumulator` and its partial-sum SRAM driven directly: sequences of inner tiles (first,
 * middle, last; a single tile that is first and last) of M*M/N words each, with idle cycles between
 * handshakes, garbage on the data inputs while `calc_en_q_i` is low, and back-to-back output tiles so
 * the address counters wrap. Every cycle's `result_o` is checked: the BigInt sum of the tiles' dot
 * products plus the bias, wrapped to WO bits, in the cycle after a last-tile word, zero otherwise.
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { ItaAccumulator, TcSram } from '../../rtl-model/ita/accumulator.ts';
import { DEFAULT_PARAMS } from '../../rtl-model/ita/params.ts';
import type { ItaParams } from '../../rtl-model/ita/params.ts';
import { strictLanes } from './mutation-lanes.ts';

class Top extends Module {
  constructor() {
    super(null, 'ita');
  }
}

function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n: number): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((s / 2 ** 31) * n);
  };
}

interface Beat {
  first: number;
  last: number;
  oup: number[];
  bias: number[];
  /** Expected result for a last-tile beat. */
  result: number[] | null;
}

/** The beats of `outTiles` output tiles of `inner` inner tiles each, with expected results. */
function beats(p: ItaParams, inner: number[], rnd: (n: number) => number, wide: boolean): Beat[] {
  const W = (p.M * p.M) / p.N;
  const lim = wide ? 2 ** (p.WO - 1) : 2 ** 20;
  const val = (): number => (rnd(10) === 0 ? [lim - 1, -lim, -1][rnd(3)]! : rnd(2 * lim) - lim);
  const out: Beat[] = [];
  for (const K of inner) {
    const sums: bigint[][] = Array.from({ length: W }, () => new Array<bigint>(p.N).fill(0n));
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < W; j++) {
        const oup = Array.from({ length: p.N }, val);
        const bias = Array.from({ length: p.N }, () => rnd(2 ** 24) - 2 ** 23);
        oup.forEach((v, i) => (sums[j]![i]! += BigInt(v)));
        const last = k === K - 1;
        out.push({
          first: k === 0 ? 1 : 0,
          last: last ? 1 : 0,
          oup,
          bias,
          result: last ? sums[j]!.map((s, i) => Number(BigInt.asIntN(p.WO, s + BigInt(bias[i]!)))) : null,
        });
      }
    }
  }
  return out;
}

function drive(p: ItaParams, list: Beat[], rnd: (n: number) => number, pIdle: number): void {
  const top = new Top();
  const acc = new ItaAccumulator(top, p);
  const sim = new Simulator(top);
  const oup = new Int32Array(p.N);
  const bias = new Int32Array(p.N);
  acc.oup_i = strictLanes(oup);
  acc.inp_bias_i = strictLanes(bias);
  const zeros = new Array<number>(p.N).fill(0);
  let prev: Beat | null = null;
  let expectNow: number[] = zeros;
  let b = 0;
  let cycle = 0;
  while (b < list.length || prev) {
    const fire = b < list.length && rnd(1000) >= pIdle * 1000;
    const cur = fire ? list[b++]! : null;
    acc.calc_en_i = cur ? 1 : 0;
    // first/last are don't-care without calc_en: drive them anyway
    acc.first_tile_i = cur ? cur.first : rnd(2);
    acc.last_tile_i = cur ? cur.last : rnd(2);
    acc.calc_en_q_i = prev ? 1 : 0;
    acc.first_tile_q_i = prev ? prev.first : rnd(2);
    acc.last_tile_q_i = prev ? prev.last : rnd(2);
    for (let i = 0; i < p.N; i++) {
      oup[i] = prev ? prev.oup[i]! : rnd(2 ** 20);
      bias[i] = prev ? prev.bias[i]! : rnd(2 ** 20);
    }
    sim.settle();
    expect(Array.from(acc.result_o), `cycle ${cycle}`).toEqual(expectNow);
    expectNow = prev?.result ?? zeros;
    sim.step();
    prev = cur;
    cycle++;
  }
  sim.settle();
  expect(Array.from(acc.result_o)).toEqual(expectNow);
  acc.calc_en_i = 0;
  acc.calc_en_q_i = 0;
  sim.step();
  expect(Array.from(acc.result_o)).toEqual(zeros);
}

describe('ita_accumulator against BigInt sums of the inner tiles', () => {
  it('ITA shape (M=64, N=16): 1, 3 and 2 inner tiles back to back, stalls, whole 26-bit range', () => {
    const rnd = lcg(41);
    const p = DEFAULT_PARAMS;
    drive(p, beats(p, [1, 3, 2], rnd, true), rnd, 0.3);
  });
  it('small shape (M=8, N=4, WO=10): wrap in the sums, every tile count up to 4, no and many stalls', () => {
    const p: ItaParams = { ...DEFAULT_PARAMS, M: 8, N: 4, WO: 10 };
    for (const [seed, pIdle] of [
      [1, 0],
      [2, 0.5],
      [3, 0.9],
    ] as const) {
      const rnd = lcg(seed);
      drive(p, beats(p, [2, 1, 4, 1, 1, 3], rnd, true), rnd, pIdle);
    }
  });
  it('a partial sum is read one cycle after its request and the address counters advance per access', () => {
    const p: ItaParams = { ...DEFAULT_PARAMS, M: 8, N: 4, WO: 10 };
    const top = new Top();
    const acc = new ItaAccumulator(top, p);
    const sim = new Simulator(top);
    acc.oup_i = Int32Array.from([1, 2, 3, 4]);
    acc.inp_bias_i = new Int32Array(4);
    // first tile, word 0: written at the edge after calc_en_q
    acc.calc_en_i = 1;
    acc.first_tile_i = 1;
    sim.step();
    expect([acc.read_addr_q.cur, acc.write_addr_q.cur]).toEqual([0, 0]);
    acc.calc_en_i = 0;
    acc.calc_en_q_i = 1;
    acc.first_tile_q_i = 1;
    sim.step();
    expect([acc.read_addr_q.cur, acc.write_addr_q.cur]).toEqual([0, 1]);
    expect(Array.from(acc.i_partialsum_buffer.mem.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    // a read request of a later tile: data registered one cycle later, address advanced
    acc.calc_en_q_i = 0;
    acc.calc_en_i = 1;
    acc.first_tile_i = 0;
    sim.step();
    expect(acc.read_addr_q.cur).toBe(1);
    expect(Array.from(acc.i_partialsum_buffer.rdata_o)).toEqual([1, 2, 3, 4]);
    // a middle-tile word adds and writes back at the write address
    acc.calc_en_i = 0;
    acc.calc_en_q_i = 1;
    acc.first_tile_q_i = 0;
    acc.last_tile_q_i = 0;
    acc.oup_i = Int32Array.from([10, 20, 30, 511]);
    sim.step();
    expect(acc.write_addr_q.cur).toBe(2);
    expect(Array.from(acc.i_partialsum_buffer.mem.subarray(4, 8))).toEqual([11, 22, 33, -509]);
    expect(Array.from(acc.result_o)).toEqual([0, 0, 0, 0]);
    // reset clears memory, read data and counters
    sim.reset();
    expect([acc.read_addr_q.cur, acc.write_addr_q.cur]).toEqual([0, 0]);
    expect(acc.i_partialsum_buffer.mem.every((v) => v === 0)).toBe(true);
    expect(Array.from(acc.i_partialsum_buffer.rdata_o)).toEqual([0, 0, 0, 0]);
    expect(acc.i_partialsum_buffer.path).toBe('ita.i_accumulator.i_partialsum_buffer');
    // names and widths as in the RTL
    expect(acc.probes.map((q) => [q.name, q.width])).toEqual([
      ['ita.i_accumulator.read_addr_q', 4],
      ['ita.i_accumulator.write_addr_q', 4],
      ['ita.i_accumulator.result_q', 40],
    ]);
  });

  it('tc_sram: read data registered only on a request, old data on a same-address write, reset clears', () => {
    const top = new Top();
    const sram = new TcSram(top, 4, 2);
    const sim = new Simulator(top);
    const wd = new Int32Array(2);
    sram.wdata = wd;
    const cycle = (rd: number | null, wr: number | null, data: number[] = [0, 0]): void => {
      sram.req_read = rd === null ? 0 : 1;
      sram.addr_read = rd ?? 1; // the address is driven even without a request
      sram.req_write = wr === null ? 0 : 1;
      sram.addr_write = wr ?? 1;
      wd.set(data);
      sim.step();
    };
    const word = (a: number): number[] => Array.from(sram.mem.subarray(2 * a, 2 * a + 2));
    cycle(null, 1, [5, 6]);
    expect([word(1), Array.from(sram.rdata_o)]).toEqual([
      [5, 6],
      [0, 0],
    ]);
    cycle(1, 1, [7, 8]); // read and write of one address in one cycle: the read sees the old word
    expect([word(1), Array.from(sram.rdata_o)]).toEqual([
      [7, 8],
      [5, 6],
    ]);
    cycle(null, 1, [9, 10]); // no read request: the read data holds while the word changes
    expect([word(1), Array.from(sram.rdata_o)]).toEqual([
      [9, 10],
      [5, 6],
    ]);
    cycle(null, null, [11, 12]);
    expect([word(1), Array.from(sram.rdata_o)]).toEqual([
      [9, 10],
      [5, 6],
    ]);
    cycle(1, null);
    expect(Array.from(sram.rdata_o)).toEqual([9, 10]);
    cycle(null, 3, [1, 2]);
    sim.reset();
    cycle(null, null);
    cycle(null, null);
    expect([Array.from(sram.mem), Array.from(sram.rdata_o)]).toEqual([new Array(8).fill(0), [0, 0]]);
  });
});
