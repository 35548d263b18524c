/**
 * Module-level checks of the cycle model, each against what the RTL says the module does: the
 * serial divider's quotient and data-dependent latency, the non-fall-through FIFO, the requantiser
 * and the activation unit against the functional reference and the folders' activation vectors,
 * the double-buffered weight store, the output-credit stall, and the dot-product sign modes.
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { ItaSerdiv } from '../../rtl-model/ita/serdiv.ts';
import { FifoV3 } from '../../rtl-model/ita/fifo_v3.ts';
import { ItaRequantizer } from '../../rtl-model/ita/requantizer.ts';
import { ItaActivation } from '../../rtl-model/ita/activation.ts';
import { ItaWeightController } from '../../rtl-model/ita/weight_controller.ts';
import { ItaWeightBuffer } from '../../rtl-model/ita/weight_buffer.ts';
import { ItaSumdotp, packWeightPair, packWeights } from '../../rtl-model/ita/sumdotp.ts';
import { Ita } from '../../rtl-model/ita/ita.ts';
import { Activation, DEFAULT_PARAMS, Layer, Step } from '../../rtl-model/ita/params.ts';
import { requantize } from '../../rtl-model/ref/requant.ts';
import { loadGolden } from '../../golden/archive.ts';
import { readInts, readRows } from '../../rtl-model/ita/standalone.ts';

class Harness extends Module {
  constructor() {
    super(null, 'tb');
  }
}

describe('ita_serdiv', () => {
  /** Loads 65280 / b at cycle 0 and returns [result, first cycle with out_vld]. */
  function divide(b: number): [number, number] {
    const h = new Harness();
    const d = new ItaSerdiv(h, 'i_serdiv', 20);
    const sim = new Simulator(h);
    d.op_a_i = 65280;
    d.op_b_i = b;
    d.out_rdy_i = 1;
    for (let c = 0; c < 40; c++) {
      sim.settle();
      if (c > 0 && d.out_vld_o) return [d.res_o, c];
      d.in_vld_i = c === 0 ? 1 : 0;
      sim.step();
    }
    throw new Error('no result');
  }
  const bitLen = (x: number): number => 32 - Math.clz32(x);
  it('quotient and latency for divisors across the 19-bit range', () => {
    const bs = [1, 2, 3, 255, 256, 257, 4096, 65279, 65280, 65281, 65536, 100000, 2 ** 19 - 1];
    for (let b = 5; b < 2 ** 19; b += 977) bs.push(b);
    for (const b of bs) {
      const [q, lat] = divide(b);
      expect(q, `65280 / ${b}`).toBe(Math.floor(65280 / b));
      // divisor aligned to the dividend's leading one: (bitlen(a) - bitlen(b)) + 1 steps, then FINISH
      const shift = bitLen(65280) - bitLen(b);
      expect(lat, `latency of 65280 / ${b}`).toBe(shift < 0 ? 1 : shift + 2);
    }
  });
  it('holds the result until it is taken', () => {
    const h = new Harness();
    const d = new ItaSerdiv(h, 'i_serdiv', 20);
    const sim = new Simulator(h);
    d.op_a_i = 65280;
    d.op_b_i = 300;
    d.in_vld_i = 1;
    d.out_rdy_i = 0;
    sim.step();
    d.in_vld_i = 0;
    for (let c = 0; c < 30; c++) sim.step();
    sim.settle();
    expect([d.out_vld_o, d.in_rdy_o, d.res_o]).toEqual([1, 0, 217]);
    d.out_rdy_i = 1;
    sim.step();
    sim.settle();
    expect([d.out_vld_o, d.in_rdy_o]).toEqual([0, 1]);
  });
});

describe('fifo_v3 (not fall-through)', () => {
  it('a pushed word appears the cycle after; full drops pushes', () => {
    const h = new Harness();
    const f = new FifoV3(h, 'i_fifo', 3, 1);
    const sim = new Simulator(h);
    const word = new Int32Array(1);
    f.data_i = word;
    const cycle = (push: number, v: number, pop: number): [number, number, number] => {
      word[0] = v;
      f.push_i = push;
      f.pop_i = pop;
      sim.settle();
      const seen: [number, number, number] = [f.empty_o, f.full_o, f.dataLane(0)];
      sim.step();
      return seen;
    };
    expect(cycle(1, 7, 0)).toEqual([1, 0, 0]); // the word is not visible in its push cycle
    expect(cycle(1, 8, 0)).toEqual([0, 0, 7]);
    expect(cycle(1, 9, 0)).toEqual([0, 0, 7]);
    expect(cycle(1, 10, 0)).toEqual([0, 1, 7]); // full: 10 is dropped
    expect(cycle(0, 0, 1)).toEqual([0, 1, 7]);
    expect(cycle(0, 0, 1)).toEqual([0, 0, 8]);
    expect(cycle(0, 0, 1)).toEqual([0, 0, 9]);
    expect(cycle(0, 0, 1)).toEqual([1, 0, 7]); // empty again; pop ignored
    expect(f.usage_o).toBe(0);
  });
});

describe('ita_requantizer', () => {
  it('two stages, round half up, saturation, add one cycle later: equals the functional reference', () => {
    const h = new Harness();
    const rq = new ItaRequantizer(h, 'i_requantizer', DEFAULT_PARAMS);
    const sim = new Simulator(h);
    const x = new Int32Array(16);
    rq.result_i = x;
    let seed = 5;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const expected: number[][] = [];
    for (let k = 0; k < 300; k++) {
      const mult = rnd(256);
      const shift = rnd(24);
      const add = rnd(256) - 128;
      for (let i = 0; i < 16; i++)
        x[i] = i < 4 ? [-3, 3, 2 ** 25 - 1, -(2 ** 25)][i]! : rnd(2 ** 26) - 2 ** 25;
      expected.push(Array.from(x, (v) => requantize(v, mult, shift, add)));
      rq.eps_mult_i = mult;
      rq.right_shift_i = shift;
      rq.add_i = add; // registered: pairs with the shifted value one cycle later
      rq.calc_en_i = 1;
      rq.calc_en_q_i = k > 0 ? 1 : 0;
      sim.step();
      if (k >= 1) expect(Array.from(rq.requant_oup_o), `case ${k - 1}`).toEqual(expected[k - 1]);
    }
    // hand-checked: 3 * 1 >> 1 = 1.5 -> 2, -3 >> 1 = -1.5 -> -1
    const h2 = new Harness();
    const r2 = new ItaRequantizer(h2, 'r', DEFAULT_PARAMS);
    const s2 = new Simulator(h2);
    const y = new Int32Array(16);
    y.set([3, -3, 300, -300, 5]);
    r2.result_i = y;
    r2.eps_mult_i = 1;
    r2.right_shift_i = 1;
    r2.calc_en_i = 1;
    s2.step();
    r2.calc_en_q_i = 1;
    s2.step();
    expect(Array.from(r2.requant_oup_o.subarray(0, 5))).toEqual([2, -1, 127, -128, 3]);
  });
});

describe("ita_activation against the folders' activation vectors", () => {
  for (const [folder, act, file] of [
    ['S64_E64_P64_F64_H1_gelu_seed1', Activation.Gelu, 'gelu.txt'],
    ['S64_E64_P64_F64_H1_relu_seed2_nobias', Activation.Relu, 'relu.txt'],
    ['S64_E64_P64_F64_H1_identity_seed0', Activation.Identity, 'preactivation.txt'],
  ] as const) {
    it(`${folder}: preactivation.txt -> ${file}, four cycles later`, () => {
      const files = loadGolden(`pyita/${folder}`);
      const pre = readInts(files, 'standalone/preactivation.txt');
      const exp = readInts(files, `standalone/${file}`);
      const one = (n: string): number => readRows(files, n)[0]![0]!;
      const h = new Harness();
      const a = new ItaActivation(h, DEFAULT_PARAMS);
      const sim = new Simulator(h);
      a.b_i = one('GELU_B.txt');
      a.c_i = one('GELU_C.txt');
      a.requant_mult_i = one('activation_requant_mult.txt');
      a.requant_shift_i = one('activation_requant_shift.txt');
      a.requant_add_i = one('activation_requant_add.txt');
      a.activation_i = act;
      a.activation_q2_i = act;
      const d = new Int8Array(16);
      const words = pre.length / 16;
      const got: number[] = [];
      for (let c = 0; c < words + 4; c++) {
        d.fill(0);
        if (c < words) for (let i = 0; i < 16; i++) d[i] = pre[16 * c + i]!;
        a.data_i = d;
        a.calc_en_i = c < words ? 1 : 0;
        a.calc_en_q_i = c >= 1 && c <= words ? 1 : 0;
        sim.settle();
        if (c >= 4) got.push(...a.data_o);
        sim.step();
      }
      expect(got).toEqual(Array.from(exp));
    });
  }
});

describe('weight controller and double-buffered weight buffer', () => {
  it('fills a half in 64 words, serves S reads from it, then swaps; a word is readable after its edge', () => {
    const h = new Harness();
    const wc = new ItaWeightController(h, DEFAULT_PARAMS, 64);
    const wb = new ItaWeightBuffer(h, 16, 64, 16);
    const sim = new Simulator(h);
    const data = new Int8Array(16);
    wb.WriteData = data;
    const cycle = (wvalid: number, wready: number, fillVal: number): void => {
      data.fill(fillVal);
      wc.inp_weight_valid_i = wvalid;
      wc.weight_ready_i = wready;
      wc.combValid();
      wc.evaluate();
      wb.ReadEnable = wc.read_en_o;
      wb.ReadAddr = wc.read_addr_o;
      wb.WriteEnable = wc.write_en_o;
      wb.WriteAddr = wc.write_addr_o;
      wb.WriteSelectIdx = wc.write_select_idx;
      sim.step();
    };
    for (let k = 0; k < 64; k++) {
      wc.combValid();
      expect(wc.weight_valid_o).toBe(0);
      cycle(1, 0, k);
    }
    wc.combValid();
    expect([wc.weight_valid_o, wc.inp_weight_ready_o, wc.write_addr_o]).toEqual([1, 1, 1]);
    expect(wb.words[0]!.bytes[16 * 63]).toBe(63);
    expect(wb.words[0]!.packed[7 * 64 + 63]).toBe(packWeightPair(59, 63)); // rows 14/15, column 63: slices 59 and 63 // slice 63 = last 16 bytes of row 15
    for (let k = 0; k < 64; k++) cycle(1, 0, 100); // fill the second half
    wc.combValid();
    expect(wc.inp_weight_ready_o).toBe(0); // both halves full
    for (let k = 0; k < 64; k++) {
      wc.combValid();
      expect([wc.weight_valid_o, wc.read_addr_o]).toEqual([1, 0]);
      cycle(0, 1, 0);
    }
    wc.combValid();
    expect([wc.read_addr_o, wc.inp_weight_ready_o, wc.write_addr_o]).toEqual([1, 1, 0]);
    expect(wb.ReadData.bytes[0]).toBe(0);
  });
});

describe('ita_sumdotp', () => {
  it('sign-extends the input in every step but AV, where it is unsigned', () => {
    const h = new Harness();
    const s = new ItaSumdotp(h, DEFAULT_PARAMS);
    s.inp1_i = new Int8Array(64).fill(-1);
    const w = new Int8Array(1024).fill(1);
    w.fill(-128, 64, 128);
    s.inp2_packed_i = packWeights(w, 16, 64, new Float64Array(512));
    s.sign_mode_i = 1;
    s.compute();
    expect([s.oup_o[0], s.oup_o[1]]).toEqual([-64, 64 * 128]);
    s.sign_mode_i = 0;
    s.compute();
    expect([s.oup_o[0], s.oup_o[1]]).toEqual([255 * 64, -255 * 128 * 64]);
  });
  it('all 16 units equal a plain dot product on random and extreme operands', () => {
    const h = new Harness();
    const s = new ItaSumdotp(h, DEFAULT_PARAMS);
    let seed = 3;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed >> 8) & 0xff;
    };
    for (let t = 0; t < 200; t++) {
      const x = new Int8Array(64);
      const w = new Int8Array(1024);
      for (let i = 0; i < 64; i++) x[i] = t === 0 ? -128 : t === 1 ? -1 : rnd() - 128;
      for (let i = 0; i < 1024; i++) w[i] = t < 2 ? (i & 64 ? 127 : -128) : rnd() - 128;
      s.inp1_i = x;
      s.inp2_packed_i = packWeights(w, 16, 64, new Float64Array(512));
      for (const mode of [0, 1]) {
        s.sign_mode_i = mode;
        s.compute();
        for (let n = 0; n < 16; n++) {
          let ref = 0;
          for (let m = 0; m < 64; m++) ref += (mode ? x[m]! : x[m]! & 0xff) * w[n * 64 + m]!;
          expect(s.oup_o[n], `case ${t} mode ${mode} unit ${n}`).toBe(ref);
        }
      }
    }
  });
});

describe('ita_controller output credit', () => {
  it('with the output never ready, exactly FifoDepth last-tile handshakes happen; then the layer completes', () => {
    const dut = new Ita();
    const sim = new Simulator(dut);
    const c = dut.ctrl_i;
    c.layer = Layer.Linear;
    c.tile_s = c.tile_e = c.tile_p = c.tile_f = 1;
    c.eps_mult[0] = 1;
    let calc = 0;
    let outs = 0;
    sim.onCycle(() => {
      if (dut.i_controller.calc_en_o) calc++;
      if (dut.valid_o && dut.ready_i) outs++;
    });
    for (let cy = 0; cy < 600; cy++) {
      dut.inp_weight_valid_i = 1;
      c.start = cy === 150 ? 1 : 0;
      dut.inp_valid_i = dut.inp_bias_valid_i = cy > 150 ? 1 : 0;
      dut.ready_i = 0;
      sim.step();
    }
    expect(calc).toBe(DEFAULT_PARAMS.FifoDepth);
    expect(dut.i_fifo.full_o).toBe(1);
    for (let cy = 0; cy < 400; cy++) {
      dut.ready_i = 1;
      sim.step();
    }
    expect([calc, outs, dut.i_controller.step_o]).toEqual([256, 256, Step.Idle]);
  });
});
