/**
 * `itasim deploy`: a user's integer ONNX graph (Deeploy's dialect) on the cycle-level cluster with
 * ITA. Loads the graph and its inputs, runs it through the tiler's passes (recognise, place, split,
 * allocate, emit; see README.md) and the cycle-level machine (`runEncoder`), which checks every
 * op's output against the functional executor; with `compare`, the graph outputs read back from
 * the machine are compared with a reference npz (Deeploy's `outputs.npz`).
 *
 * Nothing is computed outside the cycle-level system: a node without a mapping stops the run before
 * it starts with an InputError `node <name> (<op>): why` (exit code 2 on the command line).
 */
import { existsSync } from 'node:fs';
import { compareOutputs, type TensorMatch } from '../onnx/compare.ts';
import { InputError } from '../rtl-model/errors.ts';
import { loadOnnxModel } from './presets.ts';
import { runEncoder, type EncoderRunResult } from './run.ts';

export interface DeployOptions {
  clusterOnly?: boolean;
  /** A reference npz of the graph outputs (by name, else by position). */
  compare?: string;
  /** Write a VCD of the run (the tiler's step, ITA / DMA busy and each core's activity). */
  vcd?: string;
  /** Clock for GOp/s (MHz, default 500). */
  clockMHz?: number;
  onProgress?: (step: number, steps: number) => void;
  maxCycles?: number;
}

/** One row per tiler op (and per layout node resolved without moving data). */
export interface DeployOpRow {
  /** ONNX op type of the node that starts the op. */
  op: string;
  /** Tiler op kind (linear, attention, nonorm, ...; `alias` for a layout node). */
  kind: string;
  name: string;
  where: 'ita' | 'cores' | 'dma';
  cycles: number;
  itaBusy: number;
  reason: string;
  pass: boolean;
  mismatch: string | null;
}

export interface DeployResult {
  model: string;
  mode: 'ita' | 'cluster-only';
  /** Every op equals the executor and, with `compare`, every graph output equals the reference. */
  pass: boolean;
  cycles: number;
  itaBusy: number;
  itaUtilisation: number;
  /** Share of the cycles spent in ops placed on ITA. */
  itaOpShare: number;
  clockMHz: number;
  /** Integer operations of the ops (a multiply-add counts two), and their rate at `clockMHz`. */
  ops: number;
  gops: number;
  perOp: DeployOpRow[];
  /** Graph outputs against the reference npz, or null without `compare`. */
  compare: { name: string; pass: boolean; detail: string }[] | null;
  run: EncoderRunResult;
}

/** Runs `onnxPath` with the inputs of `inputsNpz` on the cycle-level system and checks it. */
export function deploy(onnxPath: string, inputsNpz: string, opts: DeployOptions = {}): DeployResult {
  for (const [flag, p] of [
    ['<network.onnx>', onnxPath],
    ['--inputs', inputsNpz],
    ['--compare', opts.compare],
  ] as const)
    if (p !== undefined && !existsSync(p)) throw new InputError(`${flag}: cannot read '${p}'`);
  const model = loadOnnxModel(onnxPath, inputsNpz);
  const opType = new Map(model.graph.nodes.map((n) => [n.name, n.opType]));
  const run = runEncoder(model, {
    clusterOnly: opts.clusterOnly ?? false,
    onProgress: opts.onProgress,
    maxCycles: opts.maxCycles,
    vcd: opts.vcd,
  });
  const readAsBT = new Set(run.readAsBT ?? []);
  const perOp: DeployOpRow[] = [
    ...run.aliases.map((name): DeployOpRow => ({
      op: opType.get(name) ?? '?',
      kind: 'alias',
      name,
      where: 'dma',
      cycles: 0,
      itaBusy: 0,
      reason: readAsBT.has(name)
        ? 'a transpose read only by products, which read its input as B^T: not computed'
        : 'layout only: its output names the same bytes (no data moves)',
      pass: true,
      mismatch: null,
    })),
    ...run.opStats.map((o): DeployOpRow => ({
      op: opType.get(o.name) ?? '?',
      kind: o.kind,
      name: o.name,
      where: o.unit,
      cycles: o.cycles,
      itaBusy: o.ita,
      reason: o.reason,
      pass: o.bitExact,
      mismatch: o.mismatch,
    })),
  ];
  let compare: DeployResult['compare'] = null;
  if (opts.compare) {
    const matches: TensorMatch[] = compareOutputs({ outputs: run.outputs }, opts.compare);
    compare = matches.map((m) => ({ name: m.name, pass: m.mismatches === 0, detail: m.detail }));
    const missing = model.graph.outputs.filter((o) => !run.outputs.has(o.name));
    for (const o of missing) compare.push({ name: o.name, pass: false, detail: 'not computed by the tiler' });
  }
  const onIta = run.opStats.filter((o) => o.unit === 'ita').reduce((n, o) => n + o.cycles, 0);
  const clockMHz = opts.clockMHz ?? 500;
  const ops = run.opStats.reduce((n, o) => n + o.ops, 0);
  return {
    model: onnxPath,
    mode: opts.clusterOnly ? 'cluster-only' : 'ita',
    pass: run.bitExact && perOp.every((r) => r.pass) && (compare?.every((c) => c.pass) ?? true),
    cycles: run.cycles,
    itaBusy: run.itaBusy,
    itaUtilisation: run.itaUtilisation,
    itaOpShare: run.cycles > 0 ? onIta / run.cycles : 0,
    clockMHz,
    ops,
    gops: run.cycles > 0 ? ops / (run.cycles / (clockMHz * 1e6)) / 1e9 : 0,
    perOp,
    compare,
    run,
  };
}

/** The JSON the command prints: the result without the machine's per-step detail. */
export function deployJson(r: DeployResult): string {
  const { run, ...rest } = r;
  return JSON.stringify(
    { ...rest, steps: run.steps, itaJobs: run.itaJobs, l1Peak: run.l1Peak, simSeconds: run.simSeconds },
    null,
    2,
  );
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The text summary: one line per op, the totals and the verdict. */
export function deployText(r: DeployResult): string {
  const lines = [`${r.model}: ${r.mode === 'ita' ? 'ITA + 8 cores' : 'cluster only (8 cores)'}`];
  const w = Math.max(4, ...r.perOp.map((o) => o.name.length));
  lines.push(`${'op'.padEnd(14)} ${'name'.padEnd(w)} where  ${'cycles'.padStart(11)}  exact  why`);
  for (const o of r.perOp)
    lines.push(
      `${o.op.padEnd(14)} ${o.name.padEnd(w)} ${o.where.padEnd(6)} ${int(o.cycles).padStart(11)}  ${o.pass ? 'yes' : 'NO '}    ${o.reason}${o.mismatch ? ` -- ${o.mismatch}` : ''}`,
    );
  lines.push(
    `cycles: ${int(r.cycles)}; ITA busy ${int(r.itaBusy)} (${(100 * r.itaUtilisation).toFixed(1)} %), ops on ITA ${(100 * r.itaOpShare).toFixed(1)} % of the cycles`,
  );
  lines.push(`ops: ${int(r.ops)}, ${r.gops.toFixed(2)} GOp/s at ${r.clockMHz} MHz`);
  for (const c of r.compare ?? [])
    lines.push(`output ${c.name}: ${c.pass ? 'equals the reference' : `DIFFERS: ${c.detail}`}`);
  lines.push(r.pass ? 'bit-exact' : 'NOT bit-exact');
  return lines.join('\n');
}
