/**
 * The standalone testbench (`src/tb/ita_tb.sv`) in TypeScript. Three processes run side by side,
 * each applying its signals 0.4 ns into a cycle and sampling the handshake 1.6 ns into it:
 * - inputs: sets the control word, pulses `start`, streams the seven phases' input rows and biases
 *   (one idle cycle after each phase; the feed-forward layer is started after the attention layer),
 * - weights: streams the seven phases' weight words back to back,
 * - checker: takes the outputs of the seven phases and compares every word.
 * In phase 3 (QK/AV) inputs, weights and expected outputs switch between two files per row group.
 * Every valid/ready value is a coin flip from a `StallSource` (always 1 with `NO_STALLS`).
 */
import { Activation, Layer } from './params.ts';
import type { Ita } from './ita.ts';
import { dimsFromName, readInts, readRows } from './standalone.ts';
import type { FolderDims, FolderFiles } from './standalone.ts';
import type { StallSource } from './stalls.ts';
import { wrapS } from '../sim/bits.ts';
import { InputError } from '../errors.ts';

/** First cycle at which the testbench processes act (reset released before it). */
export const TB_FIRST_CYCLE = 11;
export { TB_EDGE_OFFSET } from './run_random.ts';

/** Everything the testbench reads for one head of a folder. */
export interface TbStimuli {
  dims: FolderDims;
  head: number;
  /** Per phase: input files (two in phase 3), bias file (null in phase 3), weight files. */
  inputs: Int32Array[][];
  biases: (Int32Array | null)[];
  weights: Int32Array[][];
  /** Expected output words in the order the checker takes them, per phase. */
  expected: Int8Array[];
  eps_mult: number[];
  right_shift: number[];
  add: number[];
  gelu_b: number;
  gelu_c: number;
  act_mult: number;
  act_shift: number;
  act_add: number;
}

/** Reads one head's stimuli from a reference folder (as `ita_tb` with `_h` files). */
export function loadStimuli(files: FolderFiles, folderName: string, head = 0): TbStimuli {
  const dims = dimsFromName(folderName);
  if (!Number.isInteger(head) || head < 0 || head >= dims.H) {
    throw new InputError(`--head must be an integer from 0 to ${dims.H - 1}, got ${head}`);
  }
  const h = head;
  const sa = (n: string): Int32Array => readInts(files, `standalone/${n}`);
  const inputs = [
    [sa('Q.txt')],
    [sa('K.txt')],
    [sa(`Wv_${h}.txt`)],
    [sa(`Qp_in_${h}.txt`), sa(`A_stream_soft_in_${h}.txt`)],
    [sa(`O_soft_in_${h}.txt`)],
    [sa('FF.txt')],
    [sa('FFp_in_0.txt')],
  ];
  const biases = [
    sa(`Bq_${h}.txt`),
    sa(`Bk_${h}.txt`),
    sa(`Bv_${h}.txt`),
    null,
    sa(`Bo_${h}.txt`),
    sa('Bff_0.txt'),
    sa('Bff2_0.txt'),
  ];
  const weights = [
    [sa(`Wq_${h}.txt`)],
    [sa(`Wk_${h}.txt`)],
    [sa('V.txt')],
    [sa(`Kp_in_${h}.txt`), sa(`Vp_in_${h}.txt`)],
    [sa(`Wo_${h}.txt`)],
    [sa('Wff_0.txt')],
    [sa('Wff2_0.txt')],
  ];
  const ts = dims.S / 64;
  const tp = dims.P / 64;
  const outFiles = [`Qp_${h}`, `Kp_${h}`, `Vp_${h}`, null, `Out_soft_${h}`, 'FFp_0', 'FF2p_0'];
  const expected: Int8Array[] = outFiles.map((f) => {
    if (f) return Int8Array.from(sa(`${f}.txt`));
    // phase 3: groups of A (S/64 tiles of words) and O_soft (P/64 tiles) alternate
    const a = sa(`A_${h}.txt`);
    const o = sa(`O_soft_${h}.txt`);
    const out = new Int8Array(a.length + o.length);
    let pa = 0;
    let po = 0;
    let k = 0;
    for (let g = 0; g < 2 * ts; g++) {
      const src = g % 2 === 0 ? a : o;
      const len = (g % 2 === 0 ? ts : tp) * 256 * 16;
      const from = g % 2 === 0 ? pa : po;
      out.set(src.subarray(from, from + len), k);
      k += len;
      if (g % 2 === 0) pa += len;
      else po += len;
    }
    if (pa !== a.length || po !== o.length)
      throw new InputError(`A_${h}/O_soft_${h}: sizes do not match S=${dims.S}, P=${dims.P}`);
    return out;
  });
  const row = (name: string, n: number): number[] => {
    const rows = readRows(files, name);
    const r = rows[Math.min(h, rows.length - 1)]!;
    return r.slice(0, n);
  };
  const one = (name: string): number => readRows(files, name)[0]![0]!;
  return {
    dims,
    head,
    inputs,
    biases,
    weights,
    expected,
    eps_mult: [...row('RQS_ATTN_MUL.txt', 6), ...row('RQS_FFN_MUL.txt', 2)],
    right_shift: [...row('RQS_ATTN_SHIFT.txt', 6), ...row('RQS_FFN_SHIFT.txt', 2)],
    add: [...row('RQS_ATTN_ADD.txt', 6), ...row('RQS_FFN_ADD.txt', 2)],
    gelu_b: one('GELU_B.txt'),
    gelu_c: one('GELU_C.txt'),
    act_mult: one('activation_requant_mult.txt'),
    act_shift: one('activation_requant_shift.txt'),
    act_add: one('activation_requant_add.txt'),
  };
}

/** One output handshake. */
export interface OutputEvent {
  cycle: number;
  phase: number;
  index: number;
  ok: boolean;
}

type Op =
  | { kind: 'once'; f: () => void }
  | { kind: 'wait'; n: number }
  | { kind: 'phase'; phase: number; after?: () => void };

/**
 * Testbench flows: `layers` runs the attention layer then the feed-forward layer (the default of
 * `ita_tb`); `single` runs each step as its own layer (`SINGLE_ATTENTION=1`): three linear layers
 * for Q, K, V, a single-attention layer (QK, AV), a linear layer for OW and two for the
 * feed-forward network (F1 with the activation, F2).
 */
export type TbFlow = 'layers' | 'single';

/** Layer run (start pulse) each phase belongs to, per flow. */
export const PHASE_RUN: Record<TbFlow, number[]> = {
  layers: [0, 0, 0, 0, 0, 1, 1],
  single: [0, 1, 2, 3, 4, 5, 6],
};

const ENTRIES_PER_TILE = 256;

/** Counters that the three processes share with the runner. */
export interface TbLog {
  startCycles: number[];
  startLayers: number[];
  outputs: OutputEvent[];
  /** Output words (16 bytes each) in handshake order. */
  outWords: Int8Array[];
  mismatches: number;
  firstMismatch: string | null;
}

export class ItaTb {
  readonly log: TbLog = {
    startCycles: [],
    startLayers: [],
    outputs: [],
    outWords: [],
    mismatches: 0,
    firstMismatch: null,
  };
  done = false;
  /** Cycle after the last checked output (the run's length). */
  doneCycle = 0;
  private readonly inner: number[];
  private readonly ts: number;
  private readonly tp: number;
  // input process
  private readonly inOps: Op[];
  /** Phase whose output word the checker expects next (-1 before the first, 7 when done). */
  get checkerPhase(): number {
    const op = this.cOps[this.cPc];
    return op?.kind === 'phase' ? op.phase : this.cPc >= this.cOps.length ? 7 : -1;
  }
  private inPc = 0;
  private inOp: Op | null = null;
  private inState: 'init' | 'loop' | 'trail' = 'init';
  private inHsQ = true;
  private inValid = 0;
  private inFile = 0;
  private readonly inPos = [0, 0];
  private inBiasPos = 0;
  private inEntry = 0;
  private inGroup = 0;
  private inTile = 0;
  // weight process
  private readonly wOps: Op[];
  private wPc = 0;
  private wOp: Op | null = null;
  private wState: 'init' | 'loop' = 'init';
  private wHsQ = true;
  private wValid = 0;
  private wFile = 0;
  private readonly wPos = [0, 0];
  private wEntry = 0;
  private wGroup = 0;
  // checker process
  private readonly cOps: Op[];
  private cPc = 0;
  private cOp: Op | null = null;
  private cState: 'init' | 'loop' = 'init';
  private cReady = 0;
  private cIndex = 0;

  private inWait = 0;

  constructor(
    private readonly dut: Ita,
    private readonly st: TbStimuli,
    private readonly coins: StallSource,
    readonly flow: TbFlow = 'layers',
  ) {
    const d = st.dims;
    this.ts = d.S / 64;
    const te = d.E / 64;
    this.tp = d.P / 64;
    const tf = d.F / 64;
    this.inner = [te, te, te, 0, this.tp, te, tf];
    const c = dut.ctrl_i;
    c.tile_s = this.ts;
    c.tile_e = te;
    c.tile_p = this.tp;
    c.tile_f = tf;
    c.gelu_b = st.gelu_b;
    c.gelu_c = st.gelu_c;
    c.activation_requant_mult = st.act_mult;
    c.activation_requant_shift = st.act_shift;
    c.activation_requant_add = st.act_add;
    // before the stimulus: eps_mult = 1, right_shift = 8 (packed assignment: entry 0)
    c.eps_mult[0] = 1;
    c.right_shift[0] = 8;
    const act =
      d.activation === 'gelu'
        ? Activation.Gelu
        : d.activation === 'relu'
          ? Activation.Relu
          : Activation.Identity;
    const noop = (): void => {};
    const setEps = (k: number, from: number): void => {
      c.eps_mult[k] = st.eps_mult[from]!;
      c.right_shift[k] = st.right_shift[from]!;
      c.add[k] = st.add[from]!;
    };
    const trigger: Op[] = [
      { kind: 'once', f: () => (c.start = 1) },
      { kind: 'once', f: () => (c.start = 0) },
    ];
    const wait10: Op = { kind: 'wait', n: 10 };
    const single: Op[] = [
      {
        kind: 'once',
        f: () => {
          c.layer = Layer.Linear;
          c.activation = Activation.Identity;
        },
      },
    ];
    for (let p = 0; p < 3; p++)
      single.push({ kind: 'once', f: () => setEps(0, p) }, ...trigger, { kind: 'phase', phase: p }, wait10);
    single.push(
      {
        kind: 'once',
        f: () => {
          c.layer = Layer.SingleAttention;
          setEps(3, 3);
          setEps(4, 4);
        },
      },
      ...trigger,
      { kind: 'phase', phase: 3 },
      wait10,
      {
        kind: 'once',
        f: () => {
          c.layer = Layer.Linear;
          setEps(0, 5);
          c.tile_e = this.tp;
          c.tile_p = te;
        },
      },
      ...trigger,
      { kind: 'phase', phase: 4 },
      wait10,
      {
        kind: 'once',
        f: () => {
          c.layer = Layer.Linear;
          c.activation = act;
          c.tile_e = te;
          c.tile_p = tf;
          setEps(0, 6);
        },
      },
      ...trigger,
      { kind: 'phase', phase: 5 },
      wait10,
      {
        kind: 'once',
        f: () => {
          c.activation = Activation.Identity;
          c.tile_e = tf;
          c.tile_p = te;
          setEps(0, 7);
        },
      },
      ...trigger,
      { kind: 'phase', phase: 6 },
      {
        kind: 'once',
        f: () => {
          dut.inp_i.fill(0);
          this.setInpValid(0);
        },
      },
    );
    const layers: Op[] = [
      {
        kind: 'once',
        f: () => {
          c.layer = Layer.Attention;
          c.activation = Activation.Identity;
          for (let j = 0; j < 8; j++) {
            c.eps_mult[j] = st.eps_mult[j]!;
            c.right_shift[j] = st.right_shift[j]!;
            c.add[j] = st.add[j]!;
          }
        },
      },
      { kind: 'once', f: () => (c.start = 1) },
      { kind: 'once', f: () => (c.start = 0) },
      { kind: 'phase', phase: 0 },
      { kind: 'phase', phase: 1 },
      { kind: 'phase', phase: 2 },
      { kind: 'phase', phase: 3 },
      { kind: 'phase', phase: 4 },
      {
        kind: 'once',
        f: () => {
          c.layer = Layer.Feedforward;
          c.activation = act;
        },
      },
      { kind: 'once', f: () => (c.start = 1) },
      { kind: 'once', f: () => (c.start = 0) },
      { kind: 'phase', phase: 5, after: () => (c.activation = Activation.Identity) },
      { kind: 'phase', phase: 6 },
      {
        kind: 'once',
        f: () => {
          dut.inp_i.fill(0);
          this.setInpValid(0);
        },
      },
    ];
    this.inOps = flow === 'single' ? single : layers;
    this.wOps = [{ kind: 'once', f: noop }];
    for (let p = 0; p < 7; p++) this.wOps.push({ kind: 'phase', phase: p });
    this.wOps.push({
      kind: 'once',
      f: () => {
        dut.inp_weight_i.fill(0);
        this.wValid = 0;
        dut.inp_weight_valid_i = 0;
      },
    });
    this.cOps = [
      { kind: 'once', f: noop },
      { kind: 'once', f: noop },
    ];
    for (let p = 0; p < 7; p++) this.cOps.push({ kind: 'phase', phase: p });
  }

  private setInpValid(v: number): void {
    this.inValid = v;
    this.dut.inp_valid_i = v;
    this.dut.inp_bias_valid_i = v; // the testbench ties bias valid to input valid
  }

  /** Applies this cycle's stimulus (0.4 ns into the cycle). */
  drive(cycle: number): void {
    if (cycle < TB_FIRST_CYCLE) return;
    this.driveInputs(cycle);
    this.driveWeights(cycle);
    this.driveChecker(cycle);
  }

  /** Samples the handshakes (1.6 ns into the cycle, after the combinational pass). */
  sample(cycle: number): void {
    if (this.dut.ctrl_i.start) {
      this.log.startCycles.push(cycle);
      this.log.startLayers.push(this.dut.ctrl_i.layer);
    }
    if (cycle < TB_FIRST_CYCLE) return;
    this.sampleInputs();
    this.sampleWeights();
    this.sampleChecker(cycle);
  }

  // ---------------- inputs ----------------
  private driveInputs(cycle: number): void {
    this.inOp = null;
    if (this.inPc >= this.inOps.length) return;
    const op = this.inOps[this.inPc]!;
    if (op.kind === 'once') {
      op.f();
      this.inPc++;
      return;
    }
    if (op.kind === 'wait') {
      if (++this.inWait === op.n) {
        this.inWait = 0;
        this.inPc++;
      }
      return;
    }
    if (this.inState === 'trail') {
      this.setInpValid(0);
      op.after?.();
      this.inPc++;
      this.inState = 'init';
      return;
    }
    if (this.inState === 'init') {
      this.inState = 'loop';
      this.inHsQ = true;
      this.inFile = 0;
      this.inPos[0] = 0;
      this.inPos[1] = 0;
      this.inBiasPos = 0;
      this.inEntry = 0;
      this.inGroup = 0;
      this.inTile = 0;
    }
    this.inOp = op;
    if (this.inHsQ) this.readInput(op.phase);
    this.setInpValid(this.coins.inp(cycle));
  }

  private readInput(phase: number): void {
    const f = this.st.inputs[phase]![this.inFile]!;
    const pos = this.inPos[this.inFile]!;
    const dst = this.dut.inp_i;
    const M = dst.length;
    if (pos + M <= f.length) for (let i = 0; i < M; i++) dst[i] = f[pos + i]!;
    this.inPos[this.inFile] = Math.min(pos + M, f.length);
    const b = this.dut.inp_bias_i;
    if (phase === 3) {
      b.fill(0);
      return;
    }
    const inner = this.inner[phase]!;
    if (this.inTile % inner < inner - 1) return;
    const bf = this.st.biases[phase]!;
    const N = b.length;
    if (this.inBiasPos + N <= bf.length)
      for (let j = 0; j < N; j++) b[j] = wrapS(bf[this.inBiasPos + j]!, 24);
    this.inBiasPos = Math.min(this.inBiasPos + N, bf.length);
  }

  private sampleInputs(): void {
    const op = this.inOp;
    if (!op || op.kind !== 'phase') return;
    const hs = this.inValid && this.dut.inp_ready_o ? 1 : 0;
    this.inHsQ = hs === 1;
    if (!hs) return;
    this.inEntry++;
    const linOut = ENTRIES_PER_TILE * this.ts * this.tp;
    if (op.phase === 3 && this.inEntry >= linOut && this.inGroup < 2 * this.ts - 1) {
      this.inFile ^= 1;
      this.inEntry = 0;
      this.inGroup++;
    }
    if (op.phase !== 3 && this.inEntry >= ENTRIES_PER_TILE) {
      this.inEntry = 0;
      this.inTile++;
    }
    const f = this.st.inputs[op.phase]![this.inFile]!;
    if (this.inPos[this.inFile]! >= f.length) this.inState = 'trail';
  }

  // ---------------- weights ----------------
  private driveWeights(cycle: number): void {
    this.wOp = null;
    if (this.wPc >= this.wOps.length) return;
    const op = this.wOps[this.wPc]!;
    if (op.kind !== 'phase') {
      if (op.kind === 'once') op.f();
      this.wPc++;
      return;
    }
    if (this.wState === 'init') {
      this.wState = 'loop';
      this.wHsQ = true;
      this.wFile = 0;
      this.wPos[0] = 0;
      this.wPos[1] = 0;
      this.wEntry = 0;
      this.wGroup = 0;
    }
    this.wOp = op;
    if (this.wHsQ) {
      const f = this.st.weights[op.phase]![this.wFile]!;
      const pos = this.wPos[this.wFile]!;
      const dst = this.dut.inp_weight_i;
      const L = dst.length;
      if (pos + L <= f.length) for (let i = 0; i < L; i++) dst[i] = f[pos + i]!;
      this.wPos[this.wFile] = Math.min(pos + L, f.length);
    }
    this.wValid = this.coins.weight(cycle);
    this.dut.inp_weight_valid_i = this.wValid;
  }

  private sampleWeights(): void {
    const op = this.wOp;
    if (!op || op.kind !== 'phase') return;
    const hs = this.wValid && this.dut.inp_weight_ready_o ? 1 : 0;
    this.wHsQ = hs === 1;
    if (!hs) return;
    this.wEntry++;
    const linOut = ENTRIES_PER_TILE * this.ts * this.tp;
    if (op.phase === 3 && this.wEntry >= linOut && this.wGroup < 2 * this.ts - 1) {
      this.wFile ^= 1;
      this.wEntry = 0;
      this.wGroup++;
    }
    const f = this.st.weights[op.phase]![this.wFile]!;
    if (this.wPos[this.wFile]! >= f.length) {
      this.wPc++;
      this.wState = 'init';
    }
  }

  /** Output handshakes the checker takes in all (for progress). */
  get expectedOutputs(): number {
    const N = this.dut.oup_o.length;
    let n = 0;
    for (const op of this.cOps)
      if (op.kind === 'phase') n += Math.ceil(this.st.expected[op.phase]!.length / N);
    return n;
  }

  /** Output handshakes taken so far. */
  get outputsTaken(): number {
    return this.log.outputs.length;
  }

  // ---------------- checker ----------------
  private driveChecker(cycle: number): void {
    this.cOp = null;
    if (this.cPc >= this.cOps.length) return;
    const op = this.cOps[this.cPc]!;
    if (op.kind !== 'phase') {
      if (op.kind === 'once') op.f();
      this.cPc++;
      return;
    }
    if (this.cState === 'init') {
      this.cState = 'loop';
      this.cIndex = 0;
    }
    this.cOp = op;
    this.cReady = this.coins.ready(cycle);
    this.dut.ready_i = this.cReady;
  }

  private sampleChecker(cycle: number): void {
    const op = this.cOp;
    if (!op || op.kind !== 'phase') return;
    if (!(this.dut.valid_o && this.cReady)) return;
    const exp = this.st.expected[op.phase]!;
    const got = this.dut.oup_o;
    const N = got.length;
    const base = this.cIndex * N;
    let ok = base + N <= exp.length;
    if (ok) for (let i = 0; i < N; i++) if (got[i] !== exp[base + i]) ok = false;
    if (!ok) {
      this.log.mismatches++;
      if (!this.log.firstMismatch) {
        const e =
          base + N <= exp.length
            ? Array.from(exp.subarray(base, base + N)).join(' ')
            : '(no more expected words)';
        this.log.firstMismatch = `phase ${op.phase} word ${this.cIndex} at cycle ${cycle}: got ${Array.from(got).join(' ')}, expected ${e}`;
      }
    }
    this.log.outputs.push({ cycle, phase: op.phase, index: this.cIndex, ok });
    this.log.outWords.push(Int8Array.from(got));
    this.cIndex++;
    if (base + N >= exp.length) {
      this.cPc++;
      this.cState = 'init';
      if (this.cPc >= this.cOps.length) {
        this.done = true;
        this.doneCycle = cycle + 1;
      }
    }
  }
}
