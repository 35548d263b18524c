/**
 * `ita_softmax_top` (softmax unit, max finder, row-maximum and row-sum register files, serial
 * dividers) driven directly through its two phases, against the BigInt ITAMax oracle
 * (`fuzz/oracles.ts`):
 * - QK: a 64-row block of A arrives as requantised words of 16 lanes, tile by tile (64 columns
 *   each), word `c` of a tile holding row `c mod 64`, column group `c div 64`; idle cycles between
 *   handshakes; the last column group of the last tile is offered only while the divider FIFO has
 *   room (the controller's `ongoing_soft` credit);
 * - division: every row's sum is inverted; `softmax_done_o` pulses once all 64 are written back;
 * - AV: each handshake reads row `count mod 64`, and the next cycle turns a 64-column chunk of it
 *   into `inverse >> (max - x)` (uint8).
 * Rows mix the distributions ITAMax is sensitive to: maxima growing late in a row (by more than the
 * sum's 19 bits), repeated maxima, constant and all -128 rows, one-hot rows, small spreads.
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { ItaSoftmaxTop } from '../../rtl-model/ita/softmax_top.ts';
import { DEFAULT_PARAMS, Step } from '../../rtl-model/ita/params.ts';
import type { CtrlI } from '../../rtl-model/ita/params.ts';
import { itaMaxRowOracle } from '../../fuzz/oracles.ts';
import { strictLanes } from './mutation-lanes.ts';

class Top extends Module {
  constructor() {
    super(null, 'ita');
  }
}

const M = DEFAULT_PARAMS.M;
const N = DEFAULT_PARAMS.N;

function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n: number): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((s / 2 ** 31) * n);
  };
}

/** One row of `cols` int8 values of a random kind. */
function makeRow(cols: number, rnd: (n: number) => number): number[] {
  const kind = rnd(10);
  const row = new Array<number>(cols);
  for (let c = 0; c < cols; c++) {
    switch (kind) {
      case 0: // uniform
        row[c] = rnd(256) - 128;
        break;
      case 1: // rising: the maximum grows late, by large steps
        row[c] = Math.max(-128, Math.min(127, -128 + Math.floor((c * 255) / (cols - 1)) - rnd(4)));
        break;
      case 2: // constant
        row[c] = -5;
        break;
      case 3: // all -128
        row[c] = -128;
        break;
      case 4: // one hot, somewhere
        row[c] = -128;
        break;
      case 5: // small spread around a value
        row[c] = 40 + rnd(12) - 6;
        break;
      case 6: // repeated maxima spread over the row
        row[c] = rnd(3) === 0 ? 100 : 100 - rnd(30);
        break;
      case 8: // zeros: whole zero groups (the requantiser's all-zero hint)
        row[c] = 0;
        break;
      case 9: // zero groups with a few values
        row[c] = rnd(20) === 0 ? rnd(256) - 128 : 0;
        break;
      default: // low first groups, then a jump of more than 19
        row[c] = c < cols - 16 ? -100 + rnd(10) : rnd(2) === 0 ? 120 : -128;
    }
  }
  if (kind === 4) row[rnd(cols)] = 127 - rnd(100);
  return row;
}

interface Round {
  A: number[][];
  tileS: number;
}

/** Runs the rounds (QK, division, AV) and checks every stream-softmax output against the oracle. */
function runRounds(rounds: Round[], rnd: (n: number) => number, pIdle: number): number {
  const top = new Top();
  const st = new ItaSoftmaxTop(top, DEFAULT_PARAMS);
  const sm = st.i_softmax;
  const sim = new Simulator(top);
  const ctrl = { tile_s: 1 } as unknown as CtrlI;
  st.ctrl_i = ctrl;
  const lanes = new Int8Array(N);
  const inp = new Int8Array(M);
  sm.requant_oup_i = lanes;
  sm.inp_i = strictLanes(inp);
  let streamEn = 0;
  sim.onCycle(() => st.evaluateStream(streamEn));
  let checks = 0;
  const zeros = new Array<number>(M).fill(0);
  const mb = st.i_softmax_max_buffer;
  /**
   * One cycle, checking the registers the outputs do not show: without calc_en_q1 stage 1 leaves
   * shift_q and shift_sum_q zero and max_q held (the RTL's defaults); the first column group of a
   * row reads no previous maximum (read port 0 holds its address) and has no sum shift.
   */
  const step = (): void => {
    const en1 = sm.calc_en_q1.cur;
    const first1 = sm.tile_q2.cur === 0 && sm.count_q2.cur < M;
    const first0 = sm.calc_en_i && sm.step_i === Step.QK && sm.tile_q1.cur === 0 && sm.count_q1.cur < M;
    const max = sm.max_q.cur;
    const raddr0 = mb.RAddrRegxDP[0];
    sim.step();
    if (!en1) {
      expect(Array.from(sm.shift_q.cur)).toEqual(new Array(N).fill(0));
      expect([sm.shift_sum_q.cur, sm.max_q.cur]).toEqual([0, max]);
    } else if (first1) expect(sm.shift_sum_q.cur).toBe(0);
    if (first0) expect(mb.RAddrRegxDP[0]).toBe(raddr0);
    expect(sm.count_div_q.cur).toBeLessThanOrEqual(M);
  };
  const idle = (): void => {
    sm.calc_en_i = 0;
    streamEn = 0;
    // ignored without calc_en; a disabled requantiser registers zeros and says so
    const zero = rnd(2) === 0;
    for (let i = 0; i < N; i++) lanes[i] = zero ? 0 : rnd(256) - 128;
    sm.requantInZero = zero;
  };
  for (const { A, tileS } of rounds) {
    ctrl.tile_s = tileS;
    const exp = A.map((row) => itaMaxRowOracle(row));
    // QK, after a cycle in another step (the counters reset to M*M/N and restart from 0 there)
    idle();
    sm.step_i = Step.Idle;
    sim.step();
    sm.step_i = Step.QK;
    let dones = 0;
    for (let t = 0; t < tileS; t++) {
      for (let c = 0; c < (M * M) / N; c++) {
        const pushing = t === tileS - 1 && c >= (M * M) / N - M;
        let wait = 0;
        while (
          rnd(1000) < pIdle * 1000 ||
          (pushing && st.i_softmax.i_fifo.usage_o > DEFAULT_PARAMS.SoftFifoDepth - 5)
        ) {
          if (++wait > 1000) throw new Error('the divider FIFO does not drain');
          idle();
          sim.step();
          dones += sm.softmax_done_o;
        }
        const r = c % M;
        const g = Math.floor(c / M);
        for (let i = 0; i < N; i++) lanes[i] = A[r]![t * M + g * N + i]!;
        sm.calc_en_i = 1;
        sm.requantInZero = lanes.every((v) => v === 0) && rnd(2) === 0;
        sim.settle();
        expect(Array.from(sm.inp_stream_soft_o), 'no stream output during QK').toEqual(zeros);
        step();
        dones += sm.softmax_done_o;
      }
    }
    // division: wait for the done pulse (64 rows written back)
    idle();
    sm.step_i = rnd(2) === 0 ? Step.QK : Step.Idle;
    let guard = 0;
    while (dones === 0) {
      sim.settle();
      const d = sm.softmax_done_o;
      step();
      dones += d;
      if (++guard > 4000) throw new Error('division did not finish');
    }
    expect(dones).toBe(1);
    expect(sm.soft_addr_div_o).toBe(0);
    // AV: 256 handshakes (count wraps to 0), each followed by its output one cycle later
    sm.step_i = Step.AV;
    let pending: { row: number; chunk: number } | null = null;
    let lastAddr = mb.RAddrRegxDP[1]!;
    let k = 0;
    while (k < (M * M) / N || pending) {
      const fire = k < (M * M) / N && rnd(1000) >= pIdle * 1000;
      // inputs of this cycle: the chunk of the row read in the previous cycle
      if (pending) {
        for (let i = 0; i < M; i++) inp[i] = A[pending.row]![pending.chunk * M + i]!;
      } else for (let i = 0; i < M; i++) inp[i] = rnd(256) - 128;
      streamEn = fire ? 1 : 0;
      sm.calc_en_i = 0;
      sim.settle();
      st.evaluateStream(streamEn);
      const out = Array.from(sm.inp_stream_soft_o, (v) => v & 0xff);
      if (pending) {
        const want = exp[pending.row]!.slice(pending.chunk * M, pending.chunk * M + M);
        expect(out, `row ${pending.row} chunk ${pending.chunk}`).toEqual(want);
        checks++;
      } else expect(out).toEqual(zeros);
      sim.step();
      // the row's read address is registered on the handshake and held while idle
      if (fire) lastAddr = k % M;
      expect(mb.RAddrRegxDP[1]).toBe(lastAddr);
      pending = fire ? { row: k % M, chunk: rnd(tileS) } : null;
      if (fire) k++;
    }
    streamEn = 0;
    sm.step_i = Step.Idle;
    sim.step();
    expect(sm.count_soft_q.cur).toBe(0);
  }
  return checks;
}

describe('ita_softmax_top against the ITAMax oracle', () => {
  it('one to three column tiles per row, with and without idle cycles', () => {
    const rnd = lcg(5);
    const rounds: Round[] = [];
    for (const tileS of [1, 2, 3, 1]) {
      rounds.push({ tileS, A: Array.from({ length: M }, () => makeRow(tileS * M, rnd)) });
    }
    expect(runRounds(rounds.slice(0, 2), rnd, 0)).toBe(512);
    expect(runRounds(rounds.slice(2), rnd, 0.3)).toBe(512);
  });

  it('divider handshakes: results written back in row order, FIFO popped once per row', () => {
    const top = new Top();
    const st = new ItaSoftmaxTop(top, DEFAULT_PARAMS);
    const sm = st.i_softmax;
    const sim = new Simulator(top);
    st.ctrl_i = { tile_s: 1 } as unknown as CtrlI;
    const lanes = new Int8Array(N);
    sm.requant_oup_i = lanes;
    sm.inp_i = new Int8Array(M);
    sim.onCycle(() => st.evaluateStream(0));
    const rnd = lcg(8);
    const A = Array.from({ length: M }, () => makeRow(M, rnd));
    sm.step_i = Step.Idle;
    sim.step();
    sm.step_i = Step.QK;
    let pops = 0;
    const writes: [number, number][] = [];
    const hook = (): void => {
      pops += sm.pop_softmax_fifo_o;
      if (sm.div_valid_i[sm.div_write_q.cur]) writes.push([sm.write_acc_addr_o, sm.write_acc_data_o]);
    };
    sim.onCycle(hook);
    for (let c = 0; c < (M * M) / N; c++) {
      for (
        let wait = 0;
        c >= (M * M) / N - M && sm.i_fifo.usage_o > DEFAULT_PARAMS.SoftFifoDepth - 5;
        wait++
      ) {
        if (wait > 1000) throw new Error('the divider FIFO does not drain');
        sm.calc_en_i = 0;
        sim.step();
      }
      for (let i = 0; i < N; i++) lanes[i] = A[c % M]![Math.floor(c / M) * N + i]!;
      sm.calc_en_i = 1;
      sim.step();
    }
    sm.calc_en_i = 0;
    for (let c = 0; c < 400; c++) sim.step();
    expect(pops).toBe(M);
    expect(writes.map((w) => w[0])).toEqual(Array.from({ length: M }, (_, r) => r));
    // the written value is floor(65280 / sum): the oracle's inverse is its output at the row max
    for (let r = 0; r < M; r++) {
      const row = A[r]!;
      const out = itaMaxRowOracle(row);
      const at = row.indexOf(Math.max(...row));
      expect(writes[r]![1] & 0xff, `row ${r}`).toBe(out[at]);
    }
    // dividers are used round robin
    expect(st.i_serdiv.map((d) => top.stats.snapshot()[`${d.path}.busy_cycles`]! > 0)).toEqual(
      new Array(DEFAULT_PARAMS.NumDiv).fill(true),
    );
  });
});

describe('ita_softmax registers (waveform view)', () => {
  it('names and widths as declared in ita_softmax.sv', () => {
    const st = new ItaSoftmaxTop(new Top(), DEFAULT_PARAMS);
    const names = st.i_softmax.probes.map(
      (p) => `${p.name.replace('ita.i_softmax_top.i_softmax.', '')}:${p.width}`,
    );
    expect(names).toEqual([
      ...['tile_q1', 'tile_q2', 'tile_q3', 'tile_q4', 'count_q1', 'count_q2', 'count_q3', 'count_q4'].map(
        (n) => `${n}:11`,
      ),
      'exp_sum_q:19',
      'count_soft_q:11',
      'count_div_q:11',
      'addr_div_q:11',
      'div_read_q:10', // logic [NumDiv-1:0]
      'div_write_q:10',
      'requant_oup_q:128',
      'max_q:8',
      'calc_stream_soft_en_q:1',
      'shift_q:144', // N lanes of WI - SoftmaxShift + 1 bits
      'shift_sum_q:9',
      'calc_en_q1:1',
      'calc_en_q2:1',
      'calc_en_q3:1',
      'inp_stream_soft_o:512',
      'softmax_done_o:1',
      'pop_softmax_fifo_o:1',
    ]);
    expect(st.i_softmax.i_fifo.path).toBe('ita.i_softmax_top.i_softmax.i_fifo');
    const port = (n: string): number | bigint =>
      st.i_softmax.probes.find((p) => p.name.endsWith(`.${n}`))!.read();
    st.i_softmax.softmax_done_o = 1;
    st.i_softmax.pop_softmax_fifo_o = 1;
    expect([port('softmax_done_o'), port('pop_softmax_fifo_o')]).toEqual([1, 1]);
    // count registers reset to M*M/N, everything else to 0
    expect([st.i_softmax.count_q1.cur, st.i_softmax.count_q4.cur, st.i_softmax.tile_q1.cur]).toEqual([
      256, 256, 0,
    ]);
  });
});
