/**
 * `itasim encoder run <preset|network.onnx>`: runs a whole encoder on the cycle-level cluster with
 * ITA (or on the 8 cores alone with --cluster-only), checks every layer against the functional
 * executor, and prints cycles per layer split into ITA / cores / DMA / stalls, ITA utilisation,
 * GOp/s at the clock and, with --speedup, the speed-up over the cluster-only run.
 *
 * Exit code: 0 when every layer is bit-exact, 1 when one is not, 2 on bad input (one line).
 */
import { checkFileOutputs } from '../../golden/atomic.ts';
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { InputError, SEED_MAX, checkInt } from '../../rtl-model/errors.ts';
import { PRESETS, PRESET_DIMS, buildPreset, loadOnnxModel, type EncoderModel } from '../../tiler/presets.ts';
import { FIGURES, buildReport, reportJson, writeHtmlReport, type EncoderReport } from '../../tiler/report.ts';
import { runEncoder, type EncoderRunResult } from '../../tiler/run.ts';
import { progressBar } from '../progress.ts';

export interface EncoderCliOptions {
  seq?: string;
  layers?: string;
  clockMhz: string;
  clusterOnly?: boolean;
  speedup?: boolean;
  speedupLayers?: string;
  report?: string;
  json?: boolean;
  seed: string;
  inputs?: string;
  vcd?: string;
}

/** The model named on the command line: a preset name or a path to a .onnx file. */
export function modelFor(target: string, o: EncoderCliOptions): EncoderModel {
  const seed = checkInt('--seed', o.seed, 0, SEED_MAX);
  if ((PRESETS as readonly string[]).includes(target)) {
    if (o.inputs) throw new InputError('--inputs applies to a network.onnx, not to a preset');
    return buildPreset(target, {
      seq: o.seq === undefined ? undefined : Number(o.seq),
      layers: o.layers === undefined ? undefined : Number(o.layers),
      seed,
    });
  }
  if (!/\.onnx$/i.test(target))
    throw new InputError(`<model> must be one of ${PRESETS.join(', ')} or a .onnx file, got '${target}'`);
  if (!existsSync(target)) throw new InputError(`<model>: cannot read '${target}'`);
  if (o.seq !== undefined)
    throw new InputError('--seq applies to presets only (a network.onnx fixes its shapes)');
  return loadOnnxModel(target, o.inputs, seed);
}

function run(
  model: EncoderModel,
  clusterOnly: boolean,
  layers: number,
  label: string,
  vcd?: string,
  dropWeights = false,
): EncoderRunResult {
  let bar: ReturnType<typeof progressBar> | null = null;
  try {
    return runEncoder(model, {
      clusterOnly,
      layers,
      vcd,
      dropWeights,
      onProgress: (step, steps) => {
        bar ??= progressBar(label, steps);
        bar.update(step);
      },
    });
  } finally {
    (bar as ReturnType<typeof progressBar> | null)?.stop();
  }
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The text summary: a table of cycles per layer and the headline numbers. */
export function formatText(r: EncoderReport): string {
  const lines: string[] = [];
  lines.push(`${r.model}: ${r.description}`);
  lines.push(
    `mode ${r.mode === 'ita' ? 'ITA + 8 cores' : 'cluster only (8 cores)'}, ${r.layersRun} of ${r.totalLayers} layers`,
  );
  // The busy figures as the HTML report names and computes them (FIGURES).
  const head = ['layer', 'cycles', ...FIGURES.map((f) => f.label), 'GOp/s', 'exact'];
  const w = head.map((h, i) => Math.max(h.length + 1, [6, 13][i] ?? 11));
  lines.push(head.map((h, i) => pad(h, w[i]!)).join(' '));
  for (const l of r.layers)
    lines.push(
      [l.layer, int(l.cycles), ...FIGURES.map((f) => int(f.of(l))), l.gops.toFixed(1), l.pass ? 'yes' : 'NO']
        .map((c, i) => pad(c, w[i]!))
        .join(' '),
    );
  lines.push('per op kind:');
  for (const k of r.opKinds)
    lines.push(
      `  ${k.kind.padEnd(10)} ${k.unit.padEnd(5)} x${pad(k.count, 4)} ${pad(int(k.cycles), 13)} cycles (${((100 * k.cycles) / Math.max(1, r.cycles)).toFixed(1)} %)`,
    );
  lines.push(`cycles: ${int(r.cycles)} (${r.milliseconds.toFixed(3)} ms at ${r.clockMHz} MHz)`);
  lines.push(
    `ops: ${int(r.ops)}, ${r.gops.toFixed(2)} GOp/s at ${r.clockMHz} MHz (paper: ${r.paper.peakGops} GOp/s peak)`,
  );
  lines.push(`ITA utilisation: ${(100 * r.itaUtilisation).toFixed(1)} %`);
  if (r.model === 'mobilebert')
    lines.push(
      `inferences/s (full model${r.layersRun < r.totalLayers ? `, scaled from ${r.layersRun} layers` : ''}): ${r.inferencesPerSecond.toFixed(1)} (paper: ${r.paper.mobileBert.inferencesPerSecond} at ${r.paper.mobileBert.milliwatts} mW)`,
    );
  if (r.speedup)
    lines.push(
      `speed-up over cluster-only: ${r.speedup.speedup.toFixed(2)}x (${int(r.speedup.clusterOnlyCycles)} cycles; ${r.speedup.note})`,
    );
  const bad = r.layers.find((l) => !l.pass);
  lines.push(
    r.pass
      ? 'bit-exact: every layer equals the functional executor'
      : `NOT bit-exact: layer ${bad?.layer}: ${bad?.mismatch ?? ''}`,
  );
  lines.push(`simulated in ${r.simSeconds.toFixed(1)} s (${int(r.simCyclesPerSecond)} cycles/s)`);
  return lines.join('\n');
}

export function encoderRun(
  target: string,
  o: EncoderCliOptions,
  print: (rep: EncoderReport) => void = () => {},
): EncoderReport {
  const clock = Number(o.clockMhz);
  if (!Number.isFinite(clock) || clock <= 0 || clock > 10000)
    throw new InputError(`--clock-mhz must be a number from 0 (excluded) to 10000, got '${o.clockMhz}'`);
  if (o.clusterOnly && o.speedup)
    throw new InputError(
      '--speedup compares with a cluster-only run; it cannot be combined with --cluster-only',
    );
  if (o.layers !== undefined && !/^\d+$/.test(o.layers))
    throw new InputError(`--layers must be a positive integer, got '${o.layers}'`);
  if (o.seq !== undefined && !/^\d+$/.test(o.seq))
    throw new InputError(`--seq must be a multiple of 64 from 64 to 960, got '${o.seq}'`);
  // a preset is built with only the layers that run (its first k layers do not depend on the rest)
  const preset = (PRESETS as readonly string[]).includes(target);
  const model = modelFor(target, preset ? o : { ...o, layers: undefined });
  const total = preset ? PRESET_DIMS[target as (typeof PRESETS)[number]].layers : model.layerOutputs.length;
  const built = model.layerOutputs.length;
  const layers = o.layers === undefined ? built : checkInt('--layers', o.layers, 1, built);
  // the cluster-only baseline is ~60x slower to simulate: for a preset (whose layers are alike) it
  // runs one layer unless told otherwise, and the report says the rest is extrapolated
  const speedLayers =
    o.speedupLayers !== undefined
      ? checkInt('--speedup-layers', o.speedupLayers, 1, layers)
      : preset
        ? 1
        : layers;
  checkFileOutputs({ '--report': o.report, '--vcd': o.vcd });
  // the weights stay in the model only when a second run (the baseline) follows
  const result = run(
    model,
    !!o.clusterOnly,
    layers,
    o.clusterOnly ? 'cluster only' : 'ITA + cores',
    o.vcd,
    !o.speedup,
  );
  const base = o.speedup ? run(model, true, speedLayers, 'cluster only') : undefined;
  const rep = buildReport(
    result,
    {
      model: model.name,
      description: model.description,
      clockMHz: clock,
      totalLayers: total,
      clusterOnly: !!o.clusterOnly,
    },
    base ? { result: base } : undefined,
  );
  // The report is printed before the HTML is written, so that a failed write does not hide it.
  print(rep);
  if (o.report) writeHtmlReport(o.report, rep, result);
  return rep;
}

/** Defines `itasim encoder` (its flags and action) on the command `index.ts` names and describes. */
export function register(encoder: Command): void {
  encoder
    .command('run')
    .description(
      `run an encoder end to end, bit-exact against the functional executor. Presets: ${PRESETS.map(
        (p) => `${p} (${PRESET_DIMS[p].layers} layers, default --seq ${PRESET_DIMS[p].seq})`,
      ).join(', ')}`,
    )
    .argument('<model>', `a preset (${PRESETS.join(', ')}) or a network.onnx`)
    .option('--seq <n>', 'sequence length of a preset (a multiple of 64 from 64 to 960)')
    .option('--layers <k>', 'run only the first k layers')
    .option('--clock-mhz <f>', 'clock for GOp/s and time', '500')
    .option('--cluster-only', 'run on the 8 cores without ITA (the baseline)')
    .option('--speedup', 'also run cluster-only and print the speed-up')
    .option(
      '--speedup-layers <k>',
      'with --speedup: simulate the cluster-only baseline on the first k layers and extrapolate the rest (default: 1 for a preset, all for a network.onnx)',
    )
    .option('--report <out.html>', 'write the HTML report')
    .option('--json', 'print the report as JSON instead of text')
    .option('--seed <s>', `seed of the synthetic weights and inputs (0..${SEED_MAX})`, '1')
    .addOption(new Option('--inputs <inputs.npz>', 'inputs of a network.onnx (default: seeded int8)'))
    .option('--vcd <file>', 'write a VCD of the run')
    .action((target: string, o: EncoderCliOptions) => {
      const rep = encoderRun(target, o, (r) =>
        process.stdout.write(o.json ? `${reportJson(r)}\n` : `${formatText(r)}\n`),
      );
      if (o.report && !o.json) process.stdout.write(`report written to ${o.report}\n`);
      if (!rep.pass) process.exitCode = 1;
    });
}
