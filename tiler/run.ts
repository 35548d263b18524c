/**
 * Runs an encoder graph on the cycle-level machine and checks it: map the graph (map.ts), build
 * the program (schedule.ts), place inputs and constants in DRAM, run, read back every op's output
 * from DRAM and compare every byte with the functional executor (`onnx/executor.ts runGraph`, with
 * the RTL's ITAMax as the softmax, which is what ITA computes). Fills the statistics per op and per
 * layer from the machine's per-step observations.
 *
 * Statistics: `cycles` of an op are the cycles of its program steps (a step belongs to the op of
 * the unit it runs; the first load step to the first op, the last store step to the last op).
 * `ita`, `dma` are busy cycles within those steps, `cores` the sum over the 8 compute harts of
 * cycles outside barriers and waits, `stall` the bank-conflict stall cycles (TCDM requests of the
 * cores, the DMA and ITA not granted). `ops` = 2 per multiply-accumulate of the network (the
 * attention's Q, K, V, QK, AV, OW products and the linears; elementwise ops count 0).
 */
import { InputError } from '../rtl-model/errors.ts';
import type { Graph, GraphNode } from '../onnx/model.ts';
import { runGraph } from '../onnx/executor.ts';
import { lowerGraph } from '../onnx/lower.ts';
import type { Tensor, TensorData } from '../onnx/tensor.ts';
import { bytesInt32, fromT64, toT64 } from './kernels.ts';
import { Machine, TILER_L1_BYTES, type StepStats } from './machine.ts';
import { DRAM_BASE, L1_BASE } from './program.ts';
import { mapGraph, padMatrix, validOf, type EncoderModel, type Mat, type MappedGraph } from './map.ts';
import { place, type Placed } from './place.ts';
import { schedule, type Arrangement, type Schedule } from './schedule.ts';

export type { EncoderModel } from './map.ts';

export interface EncoderRunOptions {
  clusterOnly?: boolean;
  layers?: number;
  onProgress?: (step: number, steps: number) => void;
  vcd?: string;
  /** Stop a hung program after this many cycles (default 2^40). */
  maxCycles?: number;
  /**
   * Remove the model's weights (its graph's initialisers) once they are mapped: they then exist
   * only as the tiler's copies and in the machine's DRAM, not twice over a long run. The model
   * cannot run again.
   */
  dropWeights?: boolean;
  /** Called after the data is placed and before the run (tests corrupt DRAM here). */
  beforeRun?: (m: Machine, s: Schedule) => void;
}

/** Cycles of a stretch of the run, the busy cycles of each unit in it, and its ops. */
export interface BusyStats {
  cycles: number;
  ita: number;
  dma: number;
  cores: number;
  stall: number;
  ops: number;
}

/** A stretch with nothing counted yet. */
export function noBusy(): BusyStats {
  return { cycles: 0, ita: 0, dma: 0, cores: 0, stall: 0, ops: 0 };
}

/** Adds the counts of `from` to `to`. */
export function addBusy(to: BusyStats, from: BusyStats): void {
  to.cycles += from.cycles;
  to.ita += from.ita;
  to.dma += from.dma;
  to.cores += from.cores;
  to.stall += from.stall;
  to.ops += from.ops;
}

export interface OpStats extends BusyStats {
  layer: number;
  name: string;
  kind: string;
  unit: Placed['where'];
  /** Why the op runs on that unit (place.ts). */
  reason: string;
  /** Every output of the op equals the executor's in every byte; else the first difference. */
  bitExact: boolean;
  mismatch: string | null;
}

export interface LayerStats extends BusyStats {
  layer: number;
  bitExact: boolean;
  mismatch: string | null;
}

/** A lane of the timeline. */
export type TimelineUnit = 'ita' | 'dma' | `core${number}`;

export interface EncoderRunResult {
  cycles: number;
  ops: number;
  bitExact: boolean;
  itaBusy: number;
  itaUtilisation: number;
  dmaBusy: number;
  layers: LayerStats[];
  opStats: OpStats[];
  /**
   * When each unit was busy: ITA (hwpe busy), the DMA (a transfer in flight) and each compute core
   * (`core0`..`core7`, active outside barriers and waits); each interval labelled by its step.
   */
  timeline: { unit: TimelineUnit; start: number; end: number; label: string }[];
  simSeconds: number;
  simCyclesPerSecond: number;
  /** Program steps, ITA jobs and the peak L1 use of the schedule. */
  steps: number;
  /** The machine's statistics of every program step (label `<op>/<unit>`). */
  stepStats: StepStats[];
  itaJobs: number;
  l1Peak: number;
  /** The graph outputs the run computed, read back from DRAM (logical int8 values, row-major). */
  outputs: Map<string, Tensor>;
  /** Layout nodes resolved at map time (no data moves, no cycles). */
  aliases: string[];
  /** Of those, transposes whose readers (products) read their input as B^T. */
  readAsBT?: string[];
}

/** The part of the graph that computes the first `k` layer outputs (all of them: every graph output too). */
export function firstLayers(model: EncoderModel, k: number): Graph {
  const g = model.graph;
  const all = k === model.layerOutputs.length ? g.outputs.map((o) => o.name) : [];
  const outs = [...new Set([...model.layerOutputs.slice(0, k), ...all])];
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const keep = new Set<GraphNode>();
  const todo = [...outs];
  while (todo.length > 0) {
    const t = todo.pop()!;
    const n = producer.get(t);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    todo.push(...n.inputs.filter((i) => i !== ''));
  }
  const used = new Set([...keep].flatMap((n) => n.inputs));
  return {
    ...g,
    nodes: g.nodes.filter((n) => keep.has(n)),
    inputs: g.inputs.filter((i) => used.has(i.name)),
    outputs: outs.map((name) => ({ name, elemType: 0, shape: undefined })),
  };
}

/**
 * The executor's run of `graph` (lowered): every tensor's shape and signedness (what the mapper
 * reads of an activation), every constant whole (initialisers, `Constant` outputs and what is
 * computed from them only), and of each activation what the checks compare, taken once its last
 * reader has run: the low byte of each value (the tiler's 8-bit matrices are compared byte by
 * byte), or, for a tensor no node reads (a graph output, or an output left unread) whose values
 * exceed 8 bits, the values as int32 (the only matrices the tiler writes as int32: `int32Linear`
 * in map.ts). The activations' full values are dropped as the run goes, so the executor holds one
 * layer's values at a time.
 */
function referenceRun(
  graph: Graph,
  inputs: Map<string, Tensor>,
): { tensors: Map<string, Tensor>; bytes: Map<string, Compared> } {
  const bytes = new Map<string, Compared>();
  const constant = new Set(graph.initializers.keys());
  const read = new Set(graph.nodes.flatMap((n) => n.inputs));
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const retire = (name: string, t: Tensor): Tensor => {
    const d = t.data;
    const byteValues = (read.has(name) && !outputs.has(name)) || within8Bits(d);
    const b = byteValues ? new Uint8Array(d.length) : new Int32Array(d.length);
    for (let i = 0; i < b.length; i++) b[i] = byteValues ? d[i]! & 0xff : d[i]! | 0;
    bytes.set(name, b);
    return valuesReleased(name, t);
  };
  const ref = runGraph(graph, inputs, {
    softmax: 'ita',
    onNode: (_i, _n, node) => {
      if (node.opType === 'Constant' || node.inputs.every((x) => x === '' || constant.has(x)))
        node.outputs.forEach((o) => constant.add(o));
    },
    release: (name, t) => (constant.has(name) ? t : retire(name, t)),
  });
  for (const o of graph.outputs) {
    const t = ref.tensors.get(o.name);
    if (t && !constant.has(o.name)) ref.tensors.set(o.name, retire(o.name, t));
  }
  return { tensors: ref.tensors, bytes };
}

/** What the checks keep of an executor value: its low bytes, or (values beyond 8 bits) int32. */
type Compared = Uint8Array | Int32Array;

/** Every value is an int8 or a uint8 value. */
function within8Bits(d: TensorData): boolean {
  for (let i = 0; i < d.length; i++) if (d[i]! < -128 || d[i]! > 255) return false;
  return true;
}

/** A tensor's shape and signedness; reading its values is an internal error. */
function valuesReleased(name: string, t: Tensor): Tensor {
  return {
    shape: t.shape,
    signed: t.signed,
    get data(): Float64Array {
      throw new Error(`the executor's values of ${name} were released after its last reader ran`);
    },
  };
}

/** Expected values of a matrix (row-major, its own rows and columns); per-head MHSA outputs sliced. */
function expectedValues(m: Mat, bytes: Map<string, Compared>): ArrayLike<number> {
  const hm = /^(.*)#h(\d+)$/.exec(m.name);
  const t = bytes.get(hm ? hm[1]! : m.name);
  if (!t) throw new Error(`no executor value for ${m.name}`);
  const { rows, cols } = validOf(m);
  if (m.chw) {
    // C x (H W) in the tensor, one pixel per row here
    const out = new Int32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = t[c * rows + r]!;
    return out;
  }
  const off = hm ? Number(hm[2]) * rows * cols : 0;
  return t.subarray(off, off + rows * cols);
}

/**
 * The values of a matrix as stored (`bytes` from its DRAM home): its own rows and columns,
 * row-major; int8 (or uint8 when `unsigned`) from the T64 layout, or int32 row-major (`Mat.int32`).
 */
function storedValues(m: Mat, bytes: Uint8Array, unsigned: boolean): Int32Array {
  const { rows, cols } = validOf(m);
  const out = new Int32Array(rows * cols);
  if (m.int32) {
    const all = bytesInt32(bytes);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = all[r * m.cols + c]!;
    return out;
  }
  const v = fromT64(bytes, m.rows, m.cols, unsigned);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = v[r * m.cols + c]!;
  return out;
}

/** Bytes a matrix takes in DRAM (T64 int8, or int32 row-major). */
export function matBytes(m: Mat): number {
  return m.rows * m.cols * (m.int32 ? 4 : 1);
}

function noValue(name: string): never {
  throw new Error(`no executor value for ${name}`);
}

/**
 * The first element of a stored matrix (padding ignored) that differs from `exp` (row-major: the
 * executor's values, or their low bytes for an 8-bit matrix).
 */
function firstMismatch(m: Mat, got: Uint8Array, exp: ArrayLike<number>): string | null {
  if (m.int32 && exp instanceof Uint8Array)
    throw new Error(`the executor's values of ${m.name} were kept as bytes; the tiler writes it as int32`);
  const { rows, cols } = validOf(m);
  // 8-bit matrices compare their bytes (the executor's uint8 or int8 value modulo 256)
  const v = storedValues(m, got, false);
  const norm = (x: number): number => (m.int32 ? x | 0 : (x << 24) >> 24);
  let first = '';
  let count = 0;
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const g = v[r * cols + c]!;
      const e = norm(exp[r * cols + c]!);
      if (g === e) continue;
      if (count++ === 0) first = `${m.name}[${r}, ${c}] = ${g}, expected ${e}`;
    }
  return count === 0 ? null : `${first} (${count} ${m.int32 ? 'values' : 'bytes'} differ)`;
}

/**
 * The first `k` layers of `model` mapped, with what the checks need of the executor's run: the
 * compared values' low bytes (every op's outputs and the layer outputs) and the graph outputs'
 * shapes and signedness. With `dropWeights` the model's initialisers are removed once mapped.
 */
function mapModel(
  model: EncoderModel,
  k: number,
  dropWeights: boolean,
): {
  mapped: MappedGraph;
  bytes: Map<string, Compared>;
  outputs: { name: string; shape: number[]; signed: boolean }[];
} {
  const graph = firstLayers(model, k);
  const lowered = lowerGraph(graph);
  // the executor's run gives the reference values and every tensor's shape
  const ref = referenceRun(lowered, model.inputs);
  const layerOf = new Map<string, number>();
  model.layerNodes.forEach((ns, l) => ns.forEach((n) => layerOf.set(n, l)));
  const mapped: MappedGraph = mapGraph(lowered, ref.tensors, { layerOf });
  // only the values compared after the run are kept
  const compared = new Set(model.layerOutputs.slice(0, k));
  for (const op of mapped.ops) for (const m of outsOf(op)) compared.add(m.name.replace(/#h\d+$/, ''));
  for (const name of ref.bytes.keys()) if (!compared.has(name)) ref.bytes.delete(name);
  const outputs = graph.outputs.flatMap((o) => {
    const t = ref.tensors.get(o.name);
    return t ? [{ name: o.name, shape: t.shape, signed: t.signed }] : [];
  });
  if (dropWeights) model.graph.initializers.clear();
  return { mapped, bytes: ref.bytes, outputs };
}

/**
 * Bytes of the program area and of DRAM a schedule of `mapped` needs, from a first schedule (every
 * op output stays in DRAM).
 */
function machineSize(
  mapped: MappedGraph,
  placed: Placed[],
): { programBytes: number; dramBytes: number; arrangement: Arrangement } {
  let need = 0;
  const dry = schedule(mapped, {
    placed,
    l1Base: L1_BASE,
    l1Size: TILER_L1_BYTES,
    dramAlloc: (b) => {
      const a = DRAM_BASE + (16 << 20) + need;
      need += Math.ceil(b / 64) * 64;
      return a;
    },
  });
  const MiB = 1 << 20;
  const programBytes =
    Math.ceil((dry.program.streams.reduce((n, st) => n + 4 * st.length, 0) + 64 * 9) / MiB) * MiB;
  const dramBytes = Math.max(64 * MiB, Math.ceil((need + programBytes) / MiB) * MiB + 8 * MiB);
  return { programBytes, dramBytes, arrangement: dry.arrangement };
}

const outsOf = (op: MappedGraph['ops'][number]): Mat[] => (op.kind === 'attention' ? op.outs : [op.y]);

/** An op as the checks and statistics after the run see it. */
interface OpInfo {
  layer: number;
  name: string;
  kind: string;
  macs: number;
  outs: Mat[];
  placed: Placed;
}

/**
 * The machine loaded with the program of the first `k` layers, and what the checks and statistics
 * need after the run. The tiler's weight copies, its units and the data staged for DRAM stay here:
 * the machine's DRAM holds the data for the run.
 */
function prepare(
  model: EncoderModel,
  k: number,
  opts: EncoderRunOptions,
): {
  machine: Machine;
  program: Schedule['program'];
  ops: OpInfo[];
  mats: MappedGraph['mats'];
  aliases: string[];
  readAsBT: string[];
  bytes: Map<string, Compared>;
  outputs: ReturnType<typeof mapModel>['outputs'];
  matAddr: Map<string, number>;
  stepOp: number[];
  itaJobs: number;
  l1Peak: number;
} {
  const ref = mapModel(model, k, opts.dropWeights ?? false);
  const mapped = ref.mapped;
  // ops outside every layer count to the next op's layer (or the last layer)
  for (let i = mapped.ops.length - 1, next = k - 1; i >= 0; i--) {
    const op = mapped.ops[i]!;
    if (op.layer < 0 || op.layer >= k) op.layer = next;
    next = op.layer;
  }

  const placed = place(mapped.ops, { clusterOnly: opts.clusterOnly ?? false });
  const { programBytes, dramBytes, arrangement } = machineSize(mapped, placed);
  const machine = new Machine({
    ita: !opts.clusterOnly,
    dramBytes,
    programBytes: Math.max(programBytes, 1 << 20),
  });
  const sch = schedule(mapped, {
    placed,
    l1Base: machine.l1Base,
    l1Size: machine.l1Size,
    dramAlloc: (b) => machine.dramAlloc(b),
    arrangement,
  });
  for (const m of mapped.inputs) {
    const t = model.inputs.get(m.name)!;
    const { rows, cols } = validOf(m);
    machine.write(
      sch.matAddr.get(m.name)!,
      toT64(padMatrix(t.data, rows, cols, m.rows, m.cols), m.rows, m.cols),
    );
  }
  for (const [key, data] of sch.dram.data) machine.write(sch.dram.get(key), data);
  opts.beforeRun?.(machine, sch);
  let l1Peak = 0;
  for (const p of sch.placements) l1Peak = Math.max(l1Peak, p.offset + p.bytes);
  return {
    machine,
    program: sch.program,
    ops: mapped.ops.map((op, i) => ({
      layer: op.layer,
      name: op.nodes[0]!,
      kind: op.kind,
      macs: op.macs,
      outs: outsOf(op),
      placed: placed[i]!,
    })),
    mats: mapped.mats,
    aliases: mapped.aliases,
    readAsBT: mapped.readAsBT ?? [],
    bytes: ref.bytes,
    outputs: ref.outputs,
    matAddr: sch.matAddr,
    stepOp: sch.stepOp,
    itaJobs: sch.itaJobs,
    l1Peak,
  };
}

export function runEncoder(model: EncoderModel, opts: EncoderRunOptions = {}): EncoderRunResult {
  const total = model.layerOutputs.length;
  const k = opts.layers ?? total;
  if (!Number.isInteger(k) || k < 1 || k > total)
    throw new InputError(`layers must be an integer from 1 to ${total}, got ${k}`);
  const ref = prepare(model, k, opts);
  const { machine, matAddr } = ref;
  const run = machine.run(ref.program, {
    maxCycles: opts.maxCycles,
    vcd: opts.vcd,
    onProgress: opts.onProgress ? (s, n) => opts.onProgress!(s, n) : undefined,
  });

  // every op output, compared element by element (8-bit matrices by their bytes)
  const layers: LayerStats[] = Array.from({ length: k }, (_, l) => ({
    ...noBusy(),
    layer: l,
    bitExact: true,
    mismatch: null,
  }));
  const opMismatch = ref.ops.map((op) => {
    for (const m of op.outs) {
      const got = machine.read(matAddr.get(m.name)!, matBytes(m));
      const bad = firstMismatch(m, got, expectedValues(m, ref.bytes));
      if (bad) return bad;
    }
    return null;
  });
  ref.ops.forEach((op, i) => {
    const L = layers[op.layer]!;
    if (opMismatch[i] && L.bitExact) {
      L.bitExact = false;
      L.mismatch = opMismatch[i]!;
    }
  });
  // the layer outputs themselves (aliases resolved)
  model.layerOutputs.slice(0, k).forEach((name, l) => {
    const m = ref.mats.get(name);
    if (!m) throw new InputError(`layer output ${name} is not a tensor the tiler computed`);
    const bad = firstMismatch(
      { ...m, name },
      machine.read(matAddr.get(m.name)!, matBytes(m)),
      ref.bytes.get(name) ?? noValue(name),
    );
    if (bad && layers[l]!.bitExact) {
      layers[l]!.bitExact = false;
      layers[l]!.mismatch = bad;
    }
  });

  // statistics
  const opStats: OpStats[] = ref.ops.map((op, i) => ({
    layer: op.layer,
    name: op.name,
    kind: op.kind,
    unit: op.placed.where,
    reason: op.placed.reason,
    bitExact: opMismatch[i] === null,
    mismatch: opMismatch[i]!,
    ...noBusy(),
    ops: 2 * op.macs,
  }));
  // the runtime's start (before the first barrier) and end count to the first op
  opStats[0]!.cycles += run.cycles - run.steps.reduce((n, st) => n + st.end - st.start, 0);
  const timeline: EncoderRunResult['timeline'] = [];
  run.steps.forEach((st, i) => {
    const o = opStats[ref.stepOp[i]!]!;
    o.cycles += st.end - st.start;
    o.ita += st.ita;
    o.dma += st.dma;
    o.cores += st.cores;
    o.stall += st.conflicts;
  });
  // Each lane from the activity it names: busy intervals, labelled by the step they start in,
  // neighbours less than 32 cycles apart within one step merged.
  const lane = (unit: TimelineUnit, intervals: [number, number][]): void => {
    let si = 0;
    let last: EncoderRunResult['timeline'][number] | undefined;
    for (const [a, b] of intervals) {
      while (si + 1 < run.steps.length && run.steps[si]!.end <= a) si++;
      const label = run.steps[si]?.label ?? '';
      if (last && last.label === label && a - last.end < 32) last.end = b;
      else timeline.push((last = { unit, start: a, end: b, label }));
    }
  };
  if (machine.ita) lane('ita', machine.ita.intervals(run.cycles));
  lane('dma', run.dmaIntervals);
  run.coreIntervals.forEach((iv, i) => lane(`core${i}`, iv));
  timeline.sort((x, y) => x.start - y.start);
  for (const o of opStats) addBusy(layers[o.layer]!, o);
  const ops = opStats.reduce((n, o) => n + o.ops, 0);
  // the graph outputs as the machine holds them
  const outputs = new Map<string, Tensor>();
  for (const want of ref.outputs) {
    const m = ref.mats.get(want.name);
    if (!m) continue;
    const v = storedValues(m, machine.read(matAddr.get(m.name)!, matBytes(m)), !want.signed);
    outputs.set(want.name, { shape: want.shape, data: Float64Array.from(v), signed: want.signed });
  }
  return {
    cycles: run.cycles,
    ops,
    bitExact: layers.every((l) => l.bitExact),
    itaBusy: run.itaBusy,
    itaUtilisation: run.cycles > 0 ? run.itaBusy / run.cycles : 0,
    dmaBusy: run.dmaBusy,
    layers,
    opStats,
    timeline,
    simSeconds: run.seconds,
    simCyclesPerSecond: run.seconds > 0 ? run.cycles / run.seconds : 0,
    steps: ref.program.steps,
    stepStats: run.steps,
    itaJobs: ref.itaJobs,
    l1Peak: ref.l1Peak,
    outputs,
    aliases: ref.aliases,
    readAsBT: ref.readAsBT,
  };
}
