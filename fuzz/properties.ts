/**
 * The properties itasim is fuzzed with. Each is a fast-check property plus what is needed to
 * report a failure: `npm test` runs them with a few runs each, `itasim fuzz` at scale.
 */
import { OutputError } from '../rtl-model/errors.ts';
import fc from 'fast-check';
import { geluRequantized, reluRequantized } from '../rtl-model/ref/gelu.ts';
import { requantize } from '../rtl-model/ref/requant.ts';
import { itaMax } from '../rtl-model/ref/softmax.ts';
import { acc26, geluConst, requantConst, softmaxRow } from './arbitraries.ts';
import { activationOracle, itaMaxRowOracle, requantOracle } from './oracles.ts';
import {
  NO_STALL_PATTERN,
  itaFuzzCase,
  nonZeros,
  referenceCase,
  runCase,
  writeCaseFolder,
  type CaseOptions,
  type ItaFuzzCase,
} from './ita-case.ts';
import type { RunResult } from '../rtl-model/ita/run.ts';

/** A named property over values of type T. */
export interface FuzzProperty<T = unknown> {
  name: string;
  description: string;
  arbitrary: fc.Arbitrary<T>;
  /** Returns nothing when the property holds; throws (or returns a message) when it fails. */
  check(value: T): string | void;
  /**
   * Writes what reproduces a failing value into `dir` (e.g. a PyITA folder and a VCD); returns
   * the paths written. Properties over single units have nothing to add to the JSON value.
   */
  reproduce?(value: T, dir: string): { files: string[]; note: string };
}

/** Fault injected into every cycle-level ITA the properties build (`itasim fuzz --inject`). */
let injection: string | undefined;
export function setInjection(name: string | undefined): void {
  injection = name;
}
export function currentInjection(): string | undefined {
  return injection;
}

function define<T>(p: FuzzProperty<T>): FuzzProperty<unknown> {
  return p as unknown as FuzzProperty<unknown>;
}

function neq(what: string, got: unknown, want: unknown): string {
  return `${what}: model ${JSON.stringify(got)}, oracle ${JSON.stringify(want)}`;
}

export const PROPERTIES: FuzzProperty[] = [
  define({
    name: 'requant',
    description: 'requantiser equals the BigInt oracle over 26-bit inputs and all 8-bit constants',
    arbitrary: fc.tuple(acc26(), requantConst()),
    check: ([x, rq]) => {
      const got = requantize(x, rq.mult, rq.shift, rq.add);
      const want = requantOracle(x, rq.mult, rq.shift, rq.add);
      if (got !== want) return neq(`requantize(${x}, ${rq.mult}, ${rq.shift}, ${rq.add})`, got, want);
    },
  }),
  define({
    name: 'activation',
    description:
      'GELU and ReLU with requantisation equal the BigInt oracle for all int8 inputs and constants',
    arbitrary: geluConst(),
    check: (g) => {
      const consts = { one: g.c, b: g.b, c: g.c, rqsMul: g.rqsMul, rqsShift: g.rqsShift, rqsAdd: g.rqsAdd };
      for (let x = -128; x <= 127; x++) {
        const gelu = geluRequantized(x, consts);
        const wantGelu = activationOracle(x, 'gelu', g);
        if (gelu !== wantGelu) return neq(`gelu(${x})`, gelu, wantGelu);
        const relu = reluRequantized(x, consts);
        const wantRelu = activationOracle(x, 'relu', g);
        if (relu !== wantRelu) return neq(`relu(${x})`, relu, wantRelu);
      }
    },
  }),
  define({
    name: 'softmax',
    description: 'ITAMax equals the BigInt oracle on rows of every length up to 512',
    arbitrary: softmaxRow(),
    check: (row) => {
      const got = Array.from(itaMax(Int32Array.from(row), 1, row.length));
      const want = itaMaxRowOracle(row);
      const i = got.findIndex((v, k) => v !== want[k]);
      if (i >= 0) return neq(`itaMax column ${i}`, got[i], want[i]);
    },
  }),
  define({
    name: 'softmax-invariants',
    description:
      'ITAMax outputs are uint8, monotonic in the input, and the row maximum gets the largest output',
    arbitrary: softmaxRow(),
    check: (row) => {
      const out = itaMax(Int32Array.from(row), 1, row.length);
      const max = Math.max(...row);
      let top = -1;
      for (let i = 0; i < row.length; i++) {
        const v = out[i]!;
        if (v < 0 || v > 255 || !Number.isInteger(v)) return `output ${v} at ${i} is not uint8`;
        if (row[i] === max) top = Math.max(top, v);
      }
      for (let i = 0; i < row.length; i++) {
        if (out[i]! > top) return `column ${i} (${row[i]}) outputs ${out[i]}, more than the maximum's ${top}`;
        for (let j = 0; j < row.length; j++) {
          if (row[i]! > row[j]! && out[i]! < out[j]!) {
            return `not monotonic: x[${i}]=${row[i]} > x[${j}]=${row[j]} but out ${out[i]} < ${out[j]}`;
          }
        }
      }
      // All-equal rows: every element gets the same share, floor(65280 / (256 * n)) >> 0.
      if (row.every((v) => v === row[0])) {
        const want = Math.floor(65280 / (256 * row.length)) & 0xff;
        if (out.some((v) => v !== want)) return `constant row of ${row.length}: expected ${want} everywhere`;
      }
    },
  }),
  itaVsRef(),
  stallInsensitivity(),
];

/** Differential: cycle-level ITA against the functional reference. */
export function itaVsRef(o: CaseOptions = {}): FuzzProperty {
  return define<ItaFuzzCase>({
    name: 'ita-vs-ref',
    description:
      'cycle-level ITA (testbench, both layers, every head, random stalls) equals the functional reference on every output word',
    arbitrary: itaFuzzCase(o),
    check: (f) => {
      const c = referenceCase(f);
      const runs = runCase(c, f.stalls, injection);
      for (let h = 0; h < runs.length; h++) {
        const r = runs[h]!;
        if (r.mismatches) return `head ${h}: ${r.mismatches} output words differ; first: ${r.firstMismatch}`;
      }
    },
    reproduce: (f, dir) => reproduceIta(f, f.stalls, dir),
  });
}

/** Stalls change nothing but the number of busy cycles, by exactly the counted stall cycles. */
export function stallInsensitivity(o: CaseOptions = {}): FuzzProperty {
  return define<ItaFuzzCase>({
    name: 'stall-insensitivity',
    description:
      'stalls change no output word and no compute cycle; every busy cycle is a compute or a counted stall cycle',
    arbitrary: itaFuzzCase(o),
    check: (f) => {
      const c = referenceCase(f);
      const [a] = runCase(c, NO_STALL_PATTERN, injection, { heads: 1 });
      const [b] = runCase(c, f.stalls, injection, { heads: 1 });
      return stallRelation(a!, b!);
    },
    reproduce: (f, dir) => reproduceIta(f, f.stalls, dir),
  });
}

/** Busy (non-Idle) controller cycles of a run. */
export function busyCycles(r: RunResult): number {
  return Object.values(r.cyclesPerStep).reduce((x, y) => x + y, 0);
}

/** Controller stall cycles of a run (every cause; output-not-ready is not a controller stall). */
export function stallCycles(r: RunResult): number {
  const s = r.stalls;
  return s.softmaxDiv + s.outputCredit + s.softmaxFifo + s.noInput + s.noWeight;
}

/**
 * The exact relation between an unstalled run `a` and a stalled run `b` of the same case: the same
 * output words in the same order, the same compute (calc_en) cycles per layer, and per layer and in
 * total busy = compute + stall cycles, so busy(b) - busy(a) = stalls(b) - stalls(a).
 */
export function stallRelation(a: RunResult, b: RunResult): string | void {
  if (a.outWords.length !== b.outWords.length)
    return `output words: ${a.outWords.length} without stalls, ${b.outWords.length} with`;
  for (let i = 0; i < a.outWords.length; i++) {
    const x = a.outWords[i]!;
    const y = b.outWords[i]!;
    for (let k = 0; k < x.length; k++)
      if (x[k] !== y[k]) return `output word ${i} lane ${k}: ${x[k]} without stalls, ${y[k]} with`;
  }
  if (a.layers.length !== b.layers.length) return `layer runs: ${a.layers.length} vs ${b.layers.length}`;
  for (let l = 0; l < a.layers.length; l++) {
    if (a.layers[l]!.computeCycles !== b.layers[l]!.computeCycles)
      return `layer ${l}: compute cycles ${a.layers[l]!.computeCycles} without stalls, ${b.layers[l]!.computeCycles} with`;
  }
  for (const [r, what] of [
    [a, 'without stalls'],
    [b, 'with stalls'],
  ] as const) {
    const busy = busyCycles(r);
    const st = stallCycles(r);
    if (busy !== r.computeCycles + st)
      return `${what}: busy cycles ${busy} != compute ${r.computeCycles} + stall ${st}`;
  }
  const dBusy = busyCycles(b) - busyCycles(a);
  const dStall = stallCycles(b) - stallCycles(a);
  if (dBusy !== dStall) return `busy cycles grew by ${dBusy}, stall cycles by ${dStall}`;
}

/** Writes the PyITA folder of a case and a VCD of its cycle-level run (head 0) with the stalls. */
function reproduceIta(
  f: ItaFuzzCase,
  stalls: ItaFuzzCase['stalls'],
  dir: string,
): { files: string[]; note: string } {
  const c = referenceCase(f);
  const folder = `${dir}/folder`;
  writeCaseFolder(folder, c);
  const vcd = `${dir}/ita.vcd`;
  try {
    runCase(c, stalls, injection, { vcd, heads: 1 });
  } catch (e) {
    // a hang still leaves the waveform up to the failure (the writer is aborted); a VCD that
    // cannot be written is the user's to know
    if (e instanceof OutputError) throw e;
  }
  const nz = nonZeros(c.inputs);
  const summary = Object.entries(nz)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
  const p = c.inputs.params;
  const dims = `S=${p.S} E=${p.E} P=${p.P} F=${p.F} H=${p.H} ${p.activation} bias=${p.bias}`;
  return {
    files: [`PyITA folder: ${folder}`, `VCD (head 0): ${vcd}`],
    note: `${dims}; non-zero elements: ${summary || 'none'}`,
  };
}

/** Looks a property up by name. */
export function propertyByName(name: string): FuzzProperty | undefined {
  return PROPERTIES.find((p) => p.name === name);
}

/** The fast-check property of a FuzzProperty. */
export function toFcProperty(p: FuzzProperty): fc.IPropertyWithHooks<[unknown]> {
  return fc.property(p.arbitrary, (v) => {
    const msg = p.check(v);
    if (typeof msg === 'string') throw new Error(msg);
  });
}
