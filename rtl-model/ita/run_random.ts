/**
 * Runs the cycle model on random data (`runRandom`), and what both kinds of run share (the
 * folder run through the standalone testbench is `runFolder` in `run.ts`, which also re-exports
 * this module): options and results, the per-cycle recorder, the clock loop and the
 * handshake-trace CSV. A run reports per layer run (one per `start` pulse) the compute cycles,
 * output edges and handshakes and the stall cycles by cause, plus totals, cycles per step and
 * dot-product utilisation. Edges of a layer run count from the edge that samples its `start`
 * (edge 0); the handshake-trace CSV counts them from reset release as the RTL traces do.
 */
import { Simulator } from '../sim/kernel.ts';
import { VcdWriter } from '../sim/vcd.ts';
import { Ita } from './ita.ts';
import { Activation, LAYER_NAMES, STEP_NAMES, Step } from './params.ts';
import type { ItaParams } from './params.ts';
import { NO_STALLS } from './stalls.ts';
import type { StallSource } from './stalls.ts';

/** Trace edges are counted from the first edge with reset inactive (the testbench's reset). */
export const TB_EDGE_OFFSET = 10;

export interface RunOptions {
  /** Elaboration parameters other than the defaults (e.g. fewer dividers). */
  params?: Partial<ItaParams>;
  stalls?: StallSource;
  /** Write a VCD of every register and port to this path. */
  vcd?: string;
  /** Called with one line per cycle. */
  lineTrace?: (line: string) => void;
  /** Called every cycle after the combinational pass (where a testbench samples). */
  observe?: (cycle: number, dut: Ita) => void;
  maxCycles?: number;
  /** Fail when no input, weight or output handshake happens for this many cycles (default 200000). */
  hangCycles?: number;
  /** Keep clocking until at least this many cycles have run (e.g. the length of a trace). */
  minCycles?: number;
  /**
   * Called every 4096 cycles (progress) with the cycle count, the output handshakes so far and how
   * many the run takes in all (0 when that is not known beforehand).
   */
  progress?: (cycle: number, outputs: number, expectedOutputs: number) => void;
}

/** Stall cycles by cause (cycles of a non-Idle step without a datapath handshake). */
export interface StallCounts {
  softmaxDiv: number;
  outputCredit: number;
  softmaxFifo: number;
  noInput: number;
  noWeight: number;
  /** Cycles with an output word waiting and ready_i low. */
  outputNotReady: number;
}

/** One layer run (one `start` pulse). */
export interface LayerRun {
  layer: string;
  /** Cycle whose edge sampled `start`. */
  startCycle: number;
  computeCycles: number;
  /** Edges from this run's start edge (edge 0); -1 without outputs. */
  firstOutputEdge: number;
  lastOutputEdge: number;
  outputHandshakes: number;
  stalls: StallCounts;
}

export interface RunResult {
  /** Cycles from reset release (testbench) or from the start edge (random) to the last output. */
  cycles: number;
  computeCycles: number;
  outputHandshakes: number;
  layers: LayerRun[];
  stalls: StallCounts;
  cyclesPerStep: Record<string, number>;
  /** calc_en cycles / cycles spent outside Idle. */
  dotpUtilisation: number;
  mismatches: number;
  firstMismatch: string | null;
  /** Output handshakes: cycle and 16 bytes, in order. */
  outCycles: number[];
  outWords: Int8Array[];
  startCycles: number[];
  startLayers: number[];
  /** Every clock cycle simulated (from reset, including the bench's lead-in). */
  simCycles: number;
}

function zeroStalls(): StallCounts {
  return { softmaxDiv: 0, outputCredit: 0, softmaxFifo: 0, noInput: 0, noWeight: 0, outputNotReady: 0 };
}

const STALL_KEYS: (keyof StallCounts | null)[] = [
  null,
  'softmaxDiv',
  'outputCredit',
  'softmaxFifo',
  'noInput',
  'noWeight',
];

/** Samples every cycle: starts, output handshakes, per-run compute and stall cycles. */
export class Recorder {
  readonly outCycles: number[] = [];
  /** The output words, one after the other (grown by doubling). */
  private outBytes = new Int8Array(1 << 12);
  readonly outRun: number[] = [];
  readonly startCycles: number[] = [];
  readonly startLayers: number[] = [];
  readonly runs: { compute: number; stalls: StallCounts }[] = [];
  readonly total = { compute: 0, stalls: zeroStalls() };
  /** Last cycle with any input, weight or output handshake (hang detection). */
  lastActivity = 0;
  /** Which run an output word belongs to; default: the latest started run. */
  outputRun: () => number = () => this.runs.length - 1;
  constructor(private readonly dut: Ita) {}
  observe = (cycle: number): void => {
    const dut = this.dut;
    const ctl = dut.i_controller;
    const run = this.runs[this.runs.length - 1];
    if (run) {
      if (ctl.calc_en_o) {
        run.compute++;
        this.total.compute++;
      }
      const k = STALL_KEYS[ctl.stallCause];
      if (k) {
        run.stalls[k]++;
        this.total.stalls[k]++;
      }
      if (dut.valid_o && !dut.ready_i) {
        run.stalls.outputNotReady++;
        this.total.stalls.outputNotReady++;
      }
    }
    if ((dut.inp_valid_i && dut.inp_ready_o) || (dut.inp_weight_valid_i && dut.inp_weight_ready_o))
      this.lastActivity = cycle;
    if (dut.valid_o && dut.ready_i) {
      this.lastActivity = cycle;
      const w = dut.oup_o;
      const at = this.outCycles.length * w.length;
      if (at + w.length > this.outBytes.length) {
        const grown = new Int8Array(2 * this.outBytes.length);
        grown.set(this.outBytes);
        this.outBytes = grown;
      }
      this.outBytes.set(w, at);
      this.outCycles.push(cycle);
      this.outRun.push(this.outputRun());
    }
    if (dut.ctrl_i.start) {
      this.startCycles.push(cycle);
      this.startLayers.push(dut.ctrl_i.layer);
      this.runs.push({ compute: 0, stalls: zeroStalls() });
    }
  };

  result(cycles: number): RunResult {
    const bytes = this.outBytes;
    const n = this.outCycles.length;
    const N = this.dut.oup_o.length;
    let words: Int8Array[] | undefined;
    const wordViews = (): Int8Array[] => {
      const ws: Int8Array[] = [];
      for (let i = 0; i < n; i++) ws.push(bytes.subarray(i * N, (i + 1) * N));
      return ws;
    };
    const snap = this.dut.stats.snapshot();
    const perStep: Record<string, number> = {};
    let busy = 0;
    for (const s of STEP_NAMES) {
      const v = snap[`ita.i_controller.cycles_${s}`] ?? 0;
      if (s !== 'Idle' && v > 0) {
        perStep[s] = v;
        busy += v;
      }
    }
    const layers: LayerRun[] = this.runs.map((r, i) => {
      const start = this.startCycles[i]!;
      let first = -1;
      let last = -1;
      let n = 0;
      for (let k = 0; k < this.outCycles.length; k++) {
        if (this.outRun[k] !== i) continue;
        if (first < 0) first = this.outCycles[k]! - start;
        last = this.outCycles[k]! - start;
        n++;
      }
      return {
        layer: LAYER_NAMES[this.startLayers[i]!]!,
        startCycle: start,
        computeCycles: r.compute,
        firstOutputEdge: first,
        lastOutputEdge: last,
        outputHandshakes: n,
        stalls: r.stalls,
      };
    });
    return {
      cycles,
      computeCycles: this.total.compute,
      outputHandshakes: this.outCycles.length,
      layers,
      stalls: this.total.stalls,
      cyclesPerStep: perStep,
      dotpUtilisation: busy ? this.total.compute / busy : 0,
      mismatches: 0,
      firstMismatch: null,
      outCycles: this.outCycles,
      // views into the recorded bytes, made when first asked for
      get outWords(): Int8Array[] {
        return (words ??= wordViews());
      },
      startCycles: this.startCycles,
      startLayers: this.startLayers,
      simCycles: 0,
    };
  }
}

export function attachObservers(sim: Simulator, dut: Ita, opts: RunOptions): VcdWriter | null {
  if (opts.observe) {
    const f = opts.observe;
    sim.onCycle((c) => f(c, dut));
  }
  let vcd: VcdWriter | null = null;
  if (opts.vcd) {
    const probes = [];
    for (const m of dut.walk()) probes.push(...m.probes);
    vcd = new VcdWriter(opts.vcd, probes);
    const w = vcd;
    sim.onCycle((c) => w.sample(c));
  }
  if (opts.lineTrace) {
    const f = opts.lineTrace;
    sim.onCycle((c) => f(`${String(c).padStart(7)}: ${dut.lineTrace()}`));
  }
  return vcd;
}

export function clock(
  sim: Simulator,
  vcd: VcdWriter | null,
  opts: RunOptions,
  rec: Recorder,
  before: (cycle: number) => void,
  done: () => boolean,
  outputs: () => [number, number] = () => [rec.outCycles.length, 0],
): void {
  const max = opts.maxCycles ?? 100_000_000;
  const min = opts.minCycles ?? 0;
  const hang = opts.hangCycles ?? 200_000;
  try {
    while (!done() || sim.cycle < min) {
      if (sim.cycle >= max) throw new Error(`simulation did not finish within ${max} cycles (hang?)`);
      if (sim.cycle - rec.lastActivity > hang && !done()) {
        throw new Error(
          `no input, weight or output handshake for ${hang} cycles (hang at cycle ${sim.cycle})`,
        );
      }
      before(sim.cycle);
      sim.step();
      if (opts.progress && (sim.cycle & 4095) === 0) opts.progress(sim.cycle, ...outputs());
    }
    vcd?.close(sim.cycle);
  } catch (e) {
    vcd?.abort();
    throw e;
  }
}

/** The RTL handshake-trace CSV (`edge,event,data`) of a run; edges from reset release. */
export function traceCsv(r: RunResult, edgeOffset = TB_EDGE_OFFSET): string {
  const rows: [number, string][] = [];
  for (let i = 0; i < r.startCycles.length; i++)
    rows.push([r.startCycles[i]! - edgeOffset, `start,${r.startLayers[i]}`]);
  for (let i = 0; i < r.outCycles.length; i++) {
    const w = r.outWords[i]!;
    let hex = '';
    for (let b = w.length - 1; b >= 0; b--) hex += (w[b]! & 0xff).toString(16).padStart(2, '0');
    rows.push([r.outCycles[i]! - edgeOffset, `out,${hex}`]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  return 'edge,event,data\n' + rows.map(([e, s]) => `${e},${s}`).join('\n') + '\n';
}

export interface RandomLayerConfig {
  layer: number;
  tiles: { s: number; e: number; p: number; f: number };
  activation?: number;
  seed?: number;
}

/** Cycle (after reset) at which the random-data bench raises `start`; both weight halves are full by then. */
export const RANDOM_START_CYCLE = 200;
/** Cycles from the start edge to the first input handshake in the random-data bench. */
export const RANDOM_INPUT_DELAY = 4;

const POOL = 1 << 16;
interface Pool {
  bytes: Int8Array;
  /** 1024 views of `rowLen` and of `wordLen` bytes. */
  rows: Int8Array[];
  words: Int8Array[];
}
const pools = new Map<string, Pool>();
/** A pool of random bytes per seed and its row/word views (made once). */
function randomPool(seed: number, rowLen: number, wordLen: number): Pool {
  const key = `${seed}/${rowLen}/${wordLen}`;
  let pool = pools.get(key);
  if (!pool) {
    const p = new Int8Array(POOL + 1024);
    let x = (seed * 0x9e3779b1) >>> 0 || 1;
    for (let i = 0; i < p.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      p[i] = (x & 0xff) - 128;
    }
    const rows: Int8Array[] = [];
    const words: Int8Array[] = [];
    for (let k = 0; k < 1024; k++) {
      rows.push(p.subarray(k * 64, k * 64 + rowLen));
      words.push(p.subarray(k * 64 + 7, k * 64 + 7 + wordLen));
    }
    pool = { bytes: p, rows, words };
    pools.set(key, pool);
  }
  return pool;
}

/**
 * Runs one layer on random data with free-running streams: weights valid from reset (both weight
 * halves fill before the start), `start` for one cycle, inputs (and biases) valid from
 * RANDOM_INPUT_DELAY cycles after the start edge, output ready from the start; each subject to the
 * stall coins. Random inputs, weights and biases; fixed requantisation constants. Stops when the
 * layer is back in Idle and its last word has left the output FIFO. `cycles` counts from the start
 * edge.
 */
export function runRandom(cfg: RandomLayerConfig, opts: RunOptions = {}): RunResult {
  const dut = new Ita(opts.params);
  const sim = new Simulator(dut);
  sim.reset();
  const coins = opts.stalls ?? NO_STALLS;
  // xorshift32, kept as a signed 32-bit value (the same bits; callers only mask it)
  let rng = ((cfg.seed ?? 1) * 2654435761) | 0 || 1;
  const rand = (): number => {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    return rng;
  };
  // Random bytes come from a pool, read at a pseudo-random row per handshake.
  const { bytes: pool, rows, words } = randomPool(cfg.seed ?? 1, dut.inp_i.length, dut.inp_weight_i.length);
  const c = dut.ctrl_i;
  c.layer = cfg.layer;
  c.activation = cfg.activation ?? Activation.Identity;
  c.tile_s = cfg.tiles.s;
  c.tile_e = cfg.tiles.e;
  c.tile_p = cfg.tiles.p;
  c.tile_f = cfg.tiles.f;
  for (let j = 0; j < 8; j++) {
    c.eps_mult[j] = 64 + (rand() & 63);
    c.right_shift[j] = 14;
    c.add[j] = 0;
  }
  c.gelu_b = -80;
  c.gelu_c = -7091;
  c.activation_requant_mult = 74;
  c.activation_requant_shift = 20;
  c.activation_requant_add = 0;
  const randBias = (): void => {
    const b = dut.inp_bias_i;
    const off = rand() & (POOL - 1);
    for (let i = 0; i < b.length; i++) b[i] = pool[off + i]! * 256 + (pool[off + i + 16]! & 0xff);
  };
  const rec = new Recorder(dut);
  let inpValid = 0;
  let wValid = 0;
  let started = false;
  sim.onCycle((cy) => {
    rec.observe(cy);
    if (c.start) started = true;
    if (inpValid && dut.inp_ready_o) {
      dut.inp_i.set(rows[rand() & 1023]!);
      randBias();
    }
    if (wValid && dut.inp_weight_ready_o) dut.inp_weight_i.set(words[rand() & 1023]!);
  });
  const vcd = attachObservers(sim, dut, opts);
  dut.inp_i.set(rows[0]!);
  dut.inp_weight_i.set(words[1]!);
  randBias();
  const T0 = RANDOM_START_CYCLE;
  let finished = false;
  clock(
    sim,
    vcd,
    opts,
    rec,
    (cy) => {
      c.start = cy === T0 ? 1 : 0;
      wValid = cy >= 1 ? coins.weight(cy) : 0;
      inpValid = cy >= T0 + RANDOM_INPUT_DELAY ? coins.inp(cy) : 0;
      dut.inp_weight_valid_i = wValid;
      dut.inp_valid_i = inpValid;
      dut.inp_bias_valid_i = inpValid;
      dut.ready_i = cy > T0 ? coins.ready(cy) : 0;
    },
    () => {
      if (
        !finished &&
        started &&
        sim.cycle > T0 + 2 &&
        dut.i_controller.step_o === Step.Idle &&
        pipelineEmpty(dut)
      )
        finished = true;
      return finished;
    },
  );
  const last = rec.outCycles.length ? rec.outCycles[rec.outCycles.length - 1]! : sim.cycle;
  const r = rec.result(last - T0);
  r.simCycles = sim.cycle;
  return r;
}

function pipelineEmpty(dut: Ita): boolean {
  for (let i = 1; i <= 10; i++) if (dut.calc_en_q.q(i)) return false;
  return dut.i_fifo.usage_o === 0;
}
