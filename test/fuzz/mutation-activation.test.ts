/**
 * `ita_activation` with its `gelu_instances` and requantiser, driven directly cycle by cycle
 * against a lane-wise reading of the RTL's pipeline whose arithmetic is the BigInt oracles
 * (`fuzz/oracles.ts`): identity delays the data four cycles; GELU's two stages hold their products
 * when disabled and see zero unless enabled and selected; ReLU reads the twice-delayed data; the
 * requantiser registers zeros when disabled; the output follows the activation four cycles late.
 * Random enables, activations switching between rows, rows of zeros (with and without the
 * parent's all-zero hint), and random constants over their whole ranges.
 */
import { describe, expect, it } from 'vitest';
import { Module, Simulator } from '../../rtl-model/sim/kernel.ts';
import { ItaActivation } from '../../rtl-model/ita/activation.ts';
import { Activation, DEFAULT_PARAMS } from '../../rtl-model/ita/params.ts';
import { geluUnitOracle, requantOracle } from '../../fuzz/oracles.ts';

class Top extends Module {
  constructor() {
    super(null, 'ita');
  }
}

const N = DEFAULT_PARAMS.N;

function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n: number): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((s / 2 ** 31) * n);
  };
}

/** `poly_sq_d` of ita_gelu.sv in BigInt: (min(|x|, -b) + b)^2, 16-bit operands, 26-bit result. */
function polySq(x: number, b: number): number {
  const bb = BigInt.asIntN(16, BigInt(b));
  const abs = BigInt.asIntN(16, BigInt(x < 0 ? -x : x));
  const negB = BigInt.asIntN(16, -bb);
  const poly = BigInt.asIntN(16, (abs > negB ? negB : abs) + bb);
  return Number(BigInt.asIntN(26, poly * poly));
}

/** Stage 1 of the activation's requantiser (ita_requantizer.sv) in BigInt. */
function stage1(x: number, mult: number, shift: number): number {
  const product = BigInt.asIntN(35, BigInt(mult) * BigInt(x));
  let v = product >> BigInt(shift);
  if (shift > 0 && shift <= 35 && (BigInt.asUintN(35, product) >> BigInt(shift - 1)) & 1n) v += 1n;
  return Number(BigInt.asIntN(34, v));
}

interface Consts {
  b: number;
  c: number;
  mult: number;
  shift: number;
  add: number;
}

/**
 * Runs `cycles` cycles of random traffic and returns [model, expected] outputs per cycle. The
 * expected values follow the RTL registers lane by lane: data_q1..q4, the GELU stage registers
 * (data_q1, sign, poly_sq_q1 held when calc_en_i is low, gelu_out_q2 held when calc_en_q_i is
 * low), calc_en_q2/q3, activation_q3/q4, and the requantiser's two stages.
 */
function run(
  seed: number,
  k: Consts,
  cycles: number,
  pZeroRow: number,
): { got: number[][]; exp: number[][] } {
  const rnd = lcg(seed);
  const top = new Top();
  const a = new ItaActivation(top, DEFAULT_PARAMS);
  const sim = new Simulator(top);
  a.b_i = k.b;
  a.c_i = k.c;
  a.requant_mult_i = k.mult;
  a.requant_shift_i = k.shift;
  a.requant_add_i = k.add;
  // reference state (reset values)
  const dq = [0, 1, 2, 3].map(() => new Array<number>(N).fill(0)); // data_q1..q4
  let actQ3 = 0;
  let actQ4 = 0;
  let enQ2 = 0;
  let enQ3 = 0;
  let gData = new Array<number>(N).fill(0); // gelu data_q1 (gated input)
  let gSeen = new Array<number>(N).fill(0); // input whose poly_sq_q1 is held (same b, c)
  let gOut = new Array<number>(N).fill(0); // gelu_out_q2
  let gPoly = new Array<number>(N).fill(0); // poly_sq_q1
  let shifted = new Array<number>(N).fill(0); // requantiser stage 1 (as a pre-requant value)
  let oup = new Array<number>(N).fill(0); // requant_oup_q
  const acts = [Activation.Identity, Activation.Gelu, Activation.Relu];
  const actHist: number[] = [0, 0];
  let enPrev = 0;
  const got: number[][] = [];
  const exp: number[][] = [];
  const d = new Int8Array(N);
  let act = acts[rnd(3)]!;
  for (let t = 0; t < cycles; t++) {
    if (rnd(16) === 0) act = acts[rnd(3)]!;
    const en = rnd(4) !== 0 ? 1 : 0;
    const zeroRow = rnd(1000) < pZeroRow * 1000;
    for (let i = 0; i < N; i++)
      d[i] = zeroRow ? 0 : rnd(8) === 0 ? [-128, 127, -1, 0, 1][rnd(5)]! : rnd(256) - 128;
    const actQ2 = actHist[actHist.length - 2]!;
    a.data_i = d;
    a.activation_i = act;
    a.activation_q2_i = actQ2;
    a.calc_en_i = en;
    a.calc_en_q_i = enPrev;
    sim.settle();
    got.push(Array.from(a.data_o));
    // the GELU stage registers as a waveform shows them (erf_sgn_q1 is 0 for a zero input)
    const g = a.i_gelu;
    got.push([...g.data_q1.cur, ...g.erf_sgn_q1.cur, ...g.poly_sq_q1.cur, ...g.gelu_out_q2.cur]);
    // the requantiser's stage 1 sees zero unless the delayed activation is GELU or ReLU
    got.push(Array.from(a.i_requantizer.shifted_q.cur));
    // expected output of this cycle
    exp.push(actQ4 === Activation.Gelu || actQ4 === Activation.Relu ? [...oup] : [...dq[3]!]);
    exp.push([...gData, ...gData.map((v) => (v < 0 ? 1 : 0)), ...gPoly, ...gOut]);
    exp.push(shifted.map((v) => stage1(v, k.mult, k.shift)));
    // next state of the reference
    const requantIn = new Array<number>(N).fill(0);
    for (let i = 0; i < N; i++) {
      if (actQ2 === Activation.Gelu) requantIn[i] = gOut[i]!;
      else if (actQ2 === Activation.Relu) requantIn[i] = Math.max(enQ2 ? dq[1]![i]! : 0, 0);
    }
    const nOup = new Array<number>(N).fill(0);
    if (enQ3) for (let i = 0; i < N; i++) nOup[i] = shifted[i]!;
    const nShifted = enQ2 ? requantIn : new Array<number>(N).fill(0);
    // stage 2 of the requantiser: the add of the previous cycle (constant here)
    oup = enQ3 ? nOup.map((v) => requantOracle(v, k.mult, k.shift, k.add)) : new Array<number>(N).fill(0);
    shifted = nShifted;
    // GELU
    if (enPrev) gOut = gData.map((x, i) => (x === 0 ? 0 : geluUnitOracle(gSeen[i]!, k.b, k.c)));
    const gated = Array.from(d, (v) => (en && act === Activation.Gelu ? v : 0));
    if (en) {
      gSeen = gated;
      gPoly = gated.map((v) => polySq(v, k.b));
    }
    gData = gated;
    enQ3 = enQ2;
    enQ2 = enPrev;
    actQ4 = actQ3;
    actQ3 = actQ2;
    for (let s = 3; s > 0; s--) dq[s] = dq[s - 1]!;
    dq[0] = Array.from(d);
    actHist.push(act);
    enPrev = en;
    sim.step();
  }
  return { got, exp };
}

describe('ita_activation against the RTL pipeline with BigInt arithmetic', () => {
  it("PyITA's constants and random constants over their whole ranges, random traffic", () => {
    const rnd = lcg(99);
    const sets: Consts[] = [
      { b: -4646, c: -30372, mult: 127, shift: 20, add: 0 }, // shape of PyITA's constants
      { b: -1, c: 5, mult: 255, shift: 0, add: 127 },
      { b: 0, c: 0, mult: 1, shift: 1, add: -128 },
    ];
    for (let s = 0; s < 9; s++)
      sets.push({
        b: rnd(65536) - 32768,
        c: rnd(65536) - 32768,
        mult: rnd(256),
        shift: rnd(3) === 0 ? rnd(256) : rnd(28),
        add: rnd(256) - 128,
      });
    sets.forEach((k, n) => {
      const { got, exp } = run(1000 + n, k, 160, 0.15);
      for (let t = 0; t < got.length; t++)
        expect(got[t], `set ${n} cycle ${Math.floor(t / 3)}`).toEqual(exp[t]);
    });
  });

  it('a GELU row held in stage 1 while disabled is used when stage 2 runs', () => {
    // poly_sq_q1 holds while calc_en_i is low; the gated input register does not
    const top = new Top();
    const a = new ItaActivation(top, DEFAULT_PARAMS);
    const sim = new Simulator(top);
    a.b_i = -300;
    a.c_i = 1000;
    a.requant_mult_i = 1;
    a.requant_shift_i = 0;
    a.requant_add_i = 0;
    const g = a.i_gelu;
    const d = new Int8Array(N).fill(-3);
    a.data_i = d;
    a.activation_i = Activation.Gelu;
    a.calc_en_i = 1;
    sim.step();
    expect(Array.from(g.poly_sq_q1.cur)).toEqual(new Array(N).fill(297 * 297));
    expect(Array.from(g.erf_sgn_q1.cur)).toEqual(new Array(N).fill(1));
    expect(Array.from(g.data_q1.cur)).toEqual(new Array(N).fill(-3));
    a.calc_en_i = 0;
    a.calc_en_q_i = 1;
    sim.step();
    expect(Array.from(g.gelu_out_q2.cur)).toEqual(new Array(N).fill(geluUnitOracle(-3, -300, 1000)));
    expect(Array.from(g.poly_sq_q1.cur)).toEqual(new Array(N).fill(297 * 297));
    expect(Array.from(g.data_q1.cur)).toEqual(new Array(N).fill(0));
    // stage 2 disabled: the output holds; enabled on a zero input: zero
    a.calc_en_q_i = 0;
    sim.step();
    expect(g.gelu_out_q2.cur[0]).toBe(geluUnitOracle(-3, -300, 1000));
    a.calc_en_q_i = 1;
    sim.step();
    expect(Array.from(g.gelu_out_q2.cur)).toEqual(new Array(N).fill(0));
    // enabled on gated (zero) inputs: every lane squares b
    a.calc_en_i = 1;
    a.activation_i = Activation.Relu;
    sim.step();
    expect(Array.from(g.poly_sq_q1.cur)).toEqual(new Array(N).fill(300 * 300)); // (0 + b)^2
    a.b_i = 7;
    a.activation_i = Activation.Gelu;
    d.fill(0);
    sim.step();
    expect(Array.from(g.poly_sq_q1.cur)).toEqual(new Array(N).fill(0)); // |0| clipped at -7: -7 + 7
    a.b_i = -7;
    a.calc_en_i = 1;
    a.activation_i = Activation.Identity;
    sim.step();
    expect(Array.from(g.poly_sq_q1.cur)).toEqual(new Array(N).fill(49));
  });

  it('steps before data is wired register zeros; registers keep the RTL names and widths', () => {
    const top = new Top();
    const a = new ItaActivation(top, DEFAULT_PARAMS);
    const sim = new Simulator(top);
    for (let c = 0; c < 6; c++) sim.step();
    sim.settle();
    expect(Array.from(a.data_o)).toEqual(new Array(N).fill(0));
    expect(Array.from(a.data_q1.cur)).toEqual(new Array(N).fill(0));
    const names = [...top.walk()].flatMap((m) => m.probes.map((p) => `${p.name}:${p.width}`));
    expect(names).toEqual([
      'ita.i_activation.activation_q3:2',
      'ita.i_activation.activation_q4:2',
      'ita.i_activation.data_q1:128',
      'ita.i_activation.data_q2:128',
      'ita.i_activation.data_q3:128',
      'ita.i_activation.data_q4:128',
      'ita.i_activation.calc_en_q2:1',
      'ita.i_activation.calc_en_q3:1',
      'ita.i_activation.i_requantizer.shifted_q:544',
      'ita.i_activation.i_requantizer.requant_oup_q:128',
      'ita.i_activation.i_requantizer.add_q1:8',
      'ita.i_activation.gelu_instances.c_q1:16',
      'ita.i_activation.gelu_instances.data_q1:128',
      'ita.i_activation.gelu_instances.erf_sgn_q1:16',
      'ita.i_activation.gelu_instances.poly_sq_q1:416',
      'ita.i_activation.gelu_instances.gelu_out_q2:416',
    ]);
  });
});
