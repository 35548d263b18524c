/**
 * The HWPE testbench (`src/hwpe/tb/ita_hwpe_tb.sv` with `tb_dummy_memory.sv`) in TypeScript: the
 * wrapper with 32 ports of 32 bits on a memory without stalls, loaded with a PyITA folder's
 * `hwpe/mem.txt`, programmed through the peripheral port exactly as the SystemVerilog testbench
 * does it, job by job (one 64 x 64 output tile, or one inner tile of it, per job):
 * SOFT_CLEAR; then for each step Q K V, (QK AV) per row group, OW, F1, F2 and each tile: write the
 * pointers (next-weight pointer and bias pointer only when used), the tile counts and constants
 * (only for the first four jobs of each layer: they stay in the four contexts), the engine and
 * stream controls; wait one edge, wait for busy low (except the very first job), write TRIGGER,
 * wait 10 ns. At the end wait for the event, SOFT_CLEAR, and compare the output regions.
 *
 * The testbench process is a generator: each `yield` is an `@(posedge clk)`; the code between two
 * yields sets the peripheral wires for the next cycle. Peripheral writes take three cycles (set,
 * hold, release). The SystemVerilog ACQUIRE loop compares an unsigned status with 0 and never
 * runs, so there is no ACQUIRE read.
 *
 * H > 1 (an extension: the SystemVerilog testbench only runs H = 1): the attention steps run once
 * per head on that head's block of `mem.txt`, with the head's requantisation constants (written
 * again for the first four jobs of every head), outputs of head h after those of head h - 1.
 */
import { Module } from '../sim/kernel.ts';
import { InputError } from '../errors.ts';
import { ItaHwpeWrap } from './ita_hwpe_wrap.ts';
import { TbDummyMemory } from './tb_dummy_memory.ts';
import { ITA_REG, ITA_REG_OFFSET, N_CONTEXT } from './params.ts';

export type FolderFiles = Map<string, Uint8Array>;

export const STEPS = ['Q', 'K', 'V', 'QK', 'AV', 'OW', 'F1', 'F2'] as const;
export type StepName = (typeof STEPS)[number];
const Q = 0;
const K = 1;
const V = 2;
const QK = 3;
const AV = 4;
const OW = 5;
const F1 = 6;
const F2 = 7;

/** What the testbench reads from a folder. */
export interface HwpeStimuli {
  S: number;
  E: number;
  P: number;
  F: number;
  H: number;
  /** Core activation code for F1 (0 identity, 1 gelu, 2 relu). */
  activation: number;
  mem: Uint32Array;
  /** Per head: eps_mult, right_shift, add (8 each: 6 attention + 2 feed-forward). */
  rqs: { mult: number[]; shift: number[]; add: number[] }[];
  gelu_b: number;
  gelu_c: number;
  act_mult: number;
  act_shift: number;
  act_add: number;
  /** Expected images (32-bit words) by name. */
  expected: Map<string, Uint32Array>;
}

function textOf(files: FolderFiles, path: string): string {
  const f = files.get(path);
  if (!f) throw new InputError(`reference folder has no ${path}`);
  return new TextDecoder().decode(f);
}

function ints(files: FolderFiles, path: string): number[] {
  const t = textOf(files, path).trim();
  if (!t) return [];
  return t.split(/\s+/).map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v)) throw new InputError(`${path}: not an integer: ${s}`);
    return v;
  });
}

function hexWords(files: FolderFiles, path: string): Uint32Array {
  const lines = textOf(files, path)
    .split(/\s+/)
    .filter((s) => s.length > 0);
  const out = new Uint32Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const v = parseInt(lines[i]!, 16);
    if (!/^[0-9a-fA-F]{1,8}$/.test(lines[i]!) || Number.isNaN(v))
      throw new InputError(`${path}: line ${i + 1} is not a hex word: ${lines[i]}`);
    out[i] = v >>> 0;
  }
  return out;
}

/** Images the testbench compares (the A image is internal to the core; see `run.ts`). */
export const OUTPUT_IMAGES = ['Q', 'K', 'V', 'QK', 'AV', 'OW', 'F1', 'F2'] as const;

export function loadHwpeStimuli(files: FolderFiles, folderName: string): HwpeStimuli {
  const m = /S(\d+)_E(\d+)_P(\d+)_F(\d+)_H(\d+)_(identity|gelu|relu)/.exec(folderName);
  if (!m) throw new InputError(`cannot read S/E/P/F/H/activation from folder name ${folderName}`);
  const [S, E, P, F, H] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!];
  for (const [n, v] of [
    ['S', S],
    ['E', E],
    ['P', P],
    ['F', F],
  ] as const) {
    if (v % 64 !== 0 || v < 64 || v > 64 * 15)
      throw new InputError(`${n} must be a multiple of 64 from 64 to 960 for the HWPE, got ${v}`);
  }
  const attnMul = ints(files, 'RQS_ATTN_MUL.txt');
  const attnShift = ints(files, 'RQS_ATTN_SHIFT.txt');
  const attnAdd = ints(files, 'RQS_ATTN_ADD.txt');
  const ffnMul = ints(files, 'RQS_FFN_MUL.txt');
  const ffnShift = ints(files, 'RQS_FFN_SHIFT.txt');
  const ffnAdd = ints(files, 'RQS_FFN_ADD.txt');
  const perHead = attnMul.length / H;
  const rqs = [];
  for (let h = 0; h < H; h++) {
    const sl = (a: number[]): number[] => a.slice(h * perHead, h * perHead + 6);
    rqs.push({
      mult: [...sl(attnMul), ...ffnMul.slice(0, 2)],
      shift: [...sl(attnShift), ...ffnShift.slice(0, 2)],
      add: [...sl(attnAdd), ...ffnAdd.slice(0, 2)],
    });
  }
  const expected = new Map<string, Uint32Array>();
  for (const n of [...OUTPUT_IMAGES, 'A']) expected.set(n, hexWords(files, `hwpe/${n}.txt`));
  return {
    S,
    E,
    P,
    F,
    H,
    activation: m[6] === 'gelu' ? 1 : m[6] === 'relu' ? 2 : 0,
    mem: hexWords(files, 'hwpe/mem.txt'),
    rqs,
    gelu_b: ints(files, 'GELU_B.txt')[0]!,
    gelu_c: ints(files, 'GELU_C.txt')[0]!,
    act_mult: ints(files, 'activation_requant_mult.txt')[0]!,
    act_shift: ints(files, 'activation_requant_shift.txt')[0]!,
    act_add: ints(files, 'activation_requant_add.txt')[0]!,
    expected,
  };
}

/** Byte layout of the testbench memory (`BASE_PTR` of the SystemVerilog testbench, per head). */
export interface MemLayout {
  /** Inputs of head h: q, k, Wq, Wk, Wv, Wo, Bq, Bk, Bv, Bo. */
  head: (h: number) => number[];
  ff: number;
  wf1: number;
  wf2: number;
  bf1: number;
  bf2: number;
  /** Output regions (head h of an attention output at `base + h * size`). */
  out: Record<StepName, number>;
  outSize: Record<StepName, number>;
  words: number;
}

export function memLayout(st: HwpeStimuli): MemLayout {
  const { S, E, P, F, H } = st;
  const headBlock = 2 * S * E + 4 * P * E + 3 * P * 3 + E * 3;
  const head = (h: number): number[] => {
    const b = h * headBlock;
    const sizes = [S * E, S * E, P * E, P * E, P * E, P * E, P * 3, P * 3, P * 3, E * 3];
    const out: number[] = [];
    let a = b;
    for (const s of sizes) {
      out.push(a);
      a += s;
    }
    return out;
  };
  const ff = H * headBlock;
  const wf1 = ff + S * E;
  const wf2 = wf1 + E * F;
  const bf1 = wf2 + F * E;
  const bf2 = bf1 + F * 3;
  const outSize: Record<StepName, number> = {
    Q: S * P,
    K: S * P,
    V: S * P,
    QK: S * S,
    AV: S * P,
    OW: S * E,
    F1: S * F,
    F2: S * E,
  };
  let a = bf2 + E * 3;
  const out = {} as Record<StepName, number>;
  for (const n of STEPS) {
    out[n] = a;
    a += (n === 'F1' || n === 'F2' ? 1 : H) * outSize[n];
  }
  // as the SystemVerilog testbench: a memory of (byte count) words
  const words = Math.max(
    S * E * 4 + E * P * 4 + P * 3 * 3 + E * 3 + S * P * 4 + S * S + E * F * 2 + F * 3 + E * 3,
    Math.ceil(a / 4) + 1,
  );
  return { head, ff, wf1, wf2, bf1, bf2, out, outSize, words };
}

/** One job as programmed by the testbench. */
export interface TbJob {
  step: StepName;
  head: number;
  tile: number;
  ctrlStream: number;
}

/** The testbench top: the wrapper (32 x 32-bit ports), the memory and the stimulus process. */
export class ItaHwpeTb extends Module {
  readonly dut: ItaHwpeWrap;
  readonly i_data_memory: TbDummyMemory;
  readonly layout: MemLayout;
  readonly jobs: TbJob[] = [];
  finished = false;
  private readonly proc: Generator<void>;

  /** `memDataWidth`: bits per memory port (32 as the RTL testbench; 64 gives the cluster's 16 ports). */
  constructor(
    readonly st: HwpeStimuli,
    memDataWidth = 32,
  ) {
    super(null, 'ita_hwpe_tb');
    this.dut = new ItaHwpeWrap(this, 'dut', memDataWidth);
    this.layout = memLayout(st);
    this.i_data_memory = new TbDummyMemory(this, 'i_data_memory', this.dut.tcdm, this.layout.words);
    this.i_data_memory.load(st.mem);
    this.proc = this.main();
  }

  /** Applies the stimulus of this cycle (0.4 ns after the edge), before `evaluate`. */
  drive(): void {
    if (!this.finished && this.proc.next().done) this.finished = true;
  }

  override evaluate(): void {
    this.i_data_memory.evaluateResponse();
    this.dut.evaluateRequest();
    this.i_data_memory.evaluateGrant();
    this.dut.evaluateGrant();
  }

  // ------------------------------------------------------------ peripheral tasks
  private *periphWrite(add: number, data: number): Generator<void> {
    const p = this.dut.periph;
    p.req = 0;
    p.add = 0;
    p.wen = 1;
    p.be = 0;
    p.data = 0;
    p.id = 0;
    yield;
    p.req = 1;
    p.add = add >>> 0;
    p.wen = 0;
    p.be = 0xf;
    p.data = data >>> 0;
    yield; // the grant is always given in the same cycle
    p.req = 0;
    p.add = 0;
    p.wen = 1;
    p.be = 0xf;
    yield;
  }

  private *wait(cycles: number): Generator<void> {
    for (let i = 0; i < cycles; i++) yield;
  }

  // ------------------------------------------------------------ the test program
  private regCnt = 0;

  private *main(): Generator<void> {
    const st = this.st;
    const L = this.layout;
    const T = { S: st.S / 64, E: st.E / 64, P: st.P / 64, F: st.F / 64 };
    const pack = (a: number[], o: number): number =>
      ((a[o]! & 0xff) |
        ((a[o + 1]! & 0xff) << 8) |
        ((a[o + 2]! & 0xff) << 16) |
        ((a[o + 3]! & 0xff) << 24)) >>>
      0;
    const c: StepCtx = {
      T,
      outerX: [T.P, T.P, T.S, T.S, T.P, T.E, T.F, T.E],
      outerY: [T.S, T.S, T.P, 1, 1, T.S, T.S, T.S],
      inner: [T.E, T.E, T.E, T.P, T.S, T.P, T.E, T.F],
      tilesVal: T.S | (T.E << 4) | (T.P << 8) | (T.F << 12),
      geluVal: ((st.gelu_b & 0xffff) | ((st.gelu_c & 0xffff) << 16)) >>> 0,
      actVal: ((st.act_mult & 0xff) | ((st.act_shift & 0xff) << 8) | ((st.act_add & 0xff) << 16)) >>> 0,
      rqsVal: [],
      inBase: [],
      w0Base: [],
      w1Base: [],
      biasBase: [],
      outBase: [],
      head: 0,
    };

    // soft clear (the ACQUIRE loop of the SystemVerilog testbench never runs)
    yield* this.periphWrite(0x14, 0);

    for (let h = 0; h < st.H; h++) {
      const r = st.rqs[h]!;
      c.rqsVal = [
        pack(r.mult, 0),
        pack(r.mult, 4),
        pack(r.shift, 0),
        pack(r.shift, 4),
        pack(r.add, 0),
        pack(r.add, 4),
      ];
      c.head = h;
      if (h > 0) this.regCnt = 0;
      const hb = L.head(h);
      const ob = (s: StepName): number => L.out[s] + h * L.outSize[s];
      // BASE_PTR_INPUT / WEIGHT0 / BIAS / OUTPUT per step (V: input Wv, weight k; computed transposed)
      c.inBase = [hb[0]!, hb[1]!, hb[4]!, ob('Q'), ob('QK'), ob('AV'), L.ff, L.out.F1];
      c.w0Base = [hb[2]!, hb[3]!, hb[1]!, ob('K'), ob('V'), hb[5]!, L.wf1, L.wf2];
      c.biasBase = [hb[6]!, hb[7]!, hb[8]!, 0, 0, hb[9]!, L.bf1, L.bf2];
      c.outBase = [ob('Q'), ob('K'), ob('V'), ob('QK'), ob('AV'), ob('OW'), L.out.F1, L.out.F2];
      // BASE_PTR_WEIGHT1: the next step's first weights (F1 -> Wf2); AV, OW, F2 set none
      c.w1Base = [c.w0Base[K]!, c.w0Base[V]!, c.w0Base[QK]!, c.w0Base[AV]!, 0, 0, c.w0Base[F2]!, 0];
      yield* this.computeStep(Q, c);
      yield* this.computeStep(K, c);
      yield* this.computeStep(V, c);
      for (let g = 0; g < T.S; g++) {
        c.inBase[QK] = ob('Q') + g * c.inner[QK]! * TILE;
        c.outBase[QK] = ob('QK') + g * c.outerX[QK]! * TILE;
        c.inBase[AV] = ob('QK') + g * c.inner[AV]! * TILE;
        c.outBase[AV] = ob('AV') + g * c.outerX[AV]! * TILE;
        yield* this.computeStep(QK, c);
        // as the testbench: the last AV job's next weights are the first of OW
        if (g === T.S - 1) c.w0Base[QK] = c.w0Base[OW]!;
        yield* this.computeStep(AV, c);
      }
      yield* this.computeStep(OW, c);
    }
    this.regCnt = 0;
    yield* this.computeStep(F1, c);
    yield* this.computeStep(F2, c);

    // wait for the last event, soft clear, 10 ns
    while (!this.dut.evt_o(0)) yield;
    yield* this.periphWrite(0x14, 0);
    yield* this.wait(5);
  }

  /** `ita_compute_step`: every job of one step. */
  private *computeStep(step: number, c: StepCtx): Generator<void> {
    const st = this.st;
    const nTiles = c.outerX[step]! * c.outerY[step]! * c.inner[step]!;
    const per = c.outerX[step]! * c.inner[step]!;
    for (let ty = 0; ty < c.outerY[step]!; ty++) {
      for (let tx = 0; tx < c.outerX[step]!; tx++) {
        const outputTile = ty * c.outerX[step]! + tx;
        for (let ti = 0; ti < c.inner[step]!; ti++) {
          const tile = outputTile * c.inner[step]! + ti;
          // ita_ptrs_compute
          const inputPtr = c.inBase[step]! + (ty * c.inner[step]! + ti) * TILE;
          const outputPtr = c.outBase[step]! + (ty * c.outerX[step]! + tx) * TILE;
          const biasPtr = c.biasBase[step]! + (step === V ? ty : tx) * 64 * 3;
          const weightPtr0 = c.w0Base[step]! + (tile % per) * TILE;
          let weightPtr1: number;
          if (tile === nTiles - 1) weightPtr1 = step === AV ? c.w0Base[QK]! : c.w1Base[step]!;
          else weightPtr1 = c.w0Base[step]! + ((tile + 1) % per) * TILE;
          // register constants only while contexts are fresh
          let regEn = false;
          if (this.regCnt < N_CONTEXT) {
            regEn = true;
            this.regCnt++;
          }
          // ctrl_val_compute
          let ctrlEngine = 0;
          let ctrlStream = 0;
          let wEn = false;
          let bEn = false;
          const last = tile === nTiles - 1;
          switch (step) {
            case Q:
              ctrlStream = tile === 0 ? 0b0011 : 0b0010;
              wEn = bEn = true;
              break;
            case K:
              ctrlStream = 0b0010;
              wEn = bEn = true;
              break;
            case V:
              ctrlStream = 0b1010;
              wEn = bEn = true;
              break;
            case QK:
            case AV:
              ctrlStream = 0b0110;
              wEn = true;
              break;
            case OW:
            case F2:
              if (step === F2) ctrlEngine = 1;
              ctrlStream = last ? 0 : 0b0010;
              wEn = !last;
              bEn = true;
              break;
            case F1:
              ctrlEngine = 1 | (st.activation << 2);
              ctrlStream = tile === 0 ? 0b0011 : 0b0010;
              wEn = bEn = true;
              break;
          }
          if ((tile + 1) % c.inner[step]! !== 0) ctrlStream |= 0b10000;
          this.jobs.push({ step: STEPS[step]!, head: c.head, tile, ctrlStream });
          // PROGRAM_ITA
          const w = (k: number, v: number): Generator<void> => this.periphWrite(ITA_REG_OFFSET + 4 * k, v);
          yield* w(ITA_REG.INPUT_PTR, inputPtr);
          yield* w(ITA_REG.WEIGHT_PTR0, weightPtr0);
          if (wEn) yield* w(ITA_REG.WEIGHT_PTR1, weightPtr1);
          if (bEn) yield* w(ITA_REG.BIAS_PTR, biasPtr);
          yield* w(ITA_REG.OUTPUT_PTR, outputPtr);
          if (regEn) {
            yield* w(ITA_REG.TILES, c.tilesVal);
            for (let k = 0; k < 6; k++) yield* w(ITA_REG.EPS_MULT0 + k, c.rqsVal[k]!);
            yield* w(ITA_REG.GELU_B_C, c.geluVal);
            yield* w(ITA_REG.ACTIVATION_REQUANT, c.actVal);
          }
          yield* w(ITA_REG.CTRL_ENGINE, ctrlEngine);
          yield* w(ITA_REG.CTRL_STREAM, ctrlStream);
          // wait for the running job, then trigger
          yield;
          if (this.jobs.length > 1) while (this.dut.busy_o) yield;
          yield* this.periphWrite(0x00, 0);
          yield* this.wait(5);
        }
      }
    }
  }
}

const TILE = 64 * 64;

/** State the test program carries between steps. */
interface StepCtx {
  T: { S: number; E: number; P: number; F: number };
  outerX: number[];
  outerY: number[];
  inner: number[];
  tilesVal: number;
  geluVal: number;
  actVal: number;
  rqsVal: number[];
  inBase: number[];
  w0Base: number[];
  w1Base: number[];
  biasBase: number[];
  outBase: number[];
  head: number;
}
