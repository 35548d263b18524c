/**
 * `itasim onnx`: runs integer ONNX graphs in Deeploy's dialect bit-exactly.
 *
 *   itasim onnx run <network.onnx> --inputs <inputs.npz> [--softmax deeploy|rtl]
 *       [--outputs out.npz] [--activations act.npz] [--compare outputs.npz]
 *       [--compare-activations activations.npz]
 *   itasim onnx attention <network.onnx> [--inputs inputs.npz] [--softmax deeploy|rtl|both]
 *
 * Unsupported ops and attributes are refused before anything runs (one line, exit 2); a
 * comparison that finds a differing tensor exits 1.
 */
import { checkFileOutputs } from '../../golden/atomic.ts';
import type { Command } from 'commander';
import { Option } from 'commander';
import { findAttention, checkAttention } from '../../onnx/attention.ts';
import type { TensorMatch } from '../../onnx/compare.ts';
import { compareActivations, compareOutputs, formatMatches } from '../../onnx/compare.ts';
import { bindInputs, checkSupported, runGraph, unusedArrays } from '../../onnx/executor.ts';
import type { Graph } from '../../onnx/model.ts';
import { loadModel } from '../../onnx/model.ts';
import { readNpz, writeNpz } from '../../onnx/npz.ts';
import type { SoftmaxVariant } from '../../onnx/ops/context.ts';
import type { RunResult } from '../../onnx/executor.ts';
import type { Tensor } from '../../onnx/tensor.ts';
import { progressBar } from '../progress.ts';

interface RunOpts {
  inputs: string;
  softmax: SoftmaxVariant;
  outputs?: string;
  activations?: string;
  compare?: string;
  compareActivations?: string;
  json?: boolean;
}

function execute(graph: Graph, inputsPath: string, softmax: SoftmaxVariant): RunResult {
  checkSupported(graph);
  const arrays = readNpz(inputsPath);
  const inputs = bindInputs(graph, arrays);
  const unused = unusedArrays(graph, arrays);
  if (unused.length > 0)
    process.stderr.write(`note: ${inputsPath}: arrays not fed to the graph: ${unused.join(', ')}\n`);
  const bar = progressBar('onnx run', graph.nodes.length);
  try {
    return runGraph(graph, inputs, { softmax, onNode: (i) => bar.update(i) });
  } finally {
    bar.stop();
  }
}

function runCommand(model: string, opts: RunOpts): void {
  checkFileOutputs({ '--outputs': opts.outputs, '--activations': opts.activations });
  const graph = loadModel(model);
  const result = execute(graph, opts.inputs, opts.softmax);
  let failed = false;
  const json: Record<string, unknown> = { model, softmax: opts.softmax };
  const report = (key: string, title: string, rows: TensorMatch[]): void => {
    if (opts.json) json[key] = rows;
    else process.stdout.write(`${title}\n${formatMatches(rows)}\n`);
    if (rows.some((r) => r.mismatches > 0)) failed = true;
  };
  if (opts.compare)
    report(
      'compare',
      `outputs vs ${opts.compare} (softmax ${opts.softmax})`,
      compareOutputs(result, opts.compare),
    );
  if (opts.compareActivations)
    report(
      'compareActivations',
      `activations vs ${opts.compareActivations} (softmax ${opts.softmax})`,
      compareActivations(result, opts.compareActivations),
    );
  if (opts.json) {
    json.outputs = [...result.outputs].map(([name, t]) => ({
      name,
      shape: t.shape,
      data: Array.from(t.data),
    }));
    // pass: every comparison asked for matched (null when none was asked for)
    json.pass = opts.compare || opts.compareActivations ? !failed : null;
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else if (!opts.compare && !opts.compareActivations) {
    for (const [name, t] of result.outputs) {
      const head = Array.from(t.data.subarray(0, 16)).join(' ');
      process.stdout.write(`${name} [${t.shape.join('x')}]: ${head}${t.data.length > 16 ? ' ...' : ''}\n`);
    }
  }
  // Written after the results are printed, so that a failed write does not hide them.
  if (opts.outputs) writeNpz(opts.outputs, result.outputs, '--outputs');
  if (opts.activations) {
    const all = new Map<string, Tensor>();
    for (const n of result.order) for (const o of n.outputs) if (o !== '') all.set(o, result.tensors.get(o)!);
    writeNpz(opts.activations, all, '--activations');
  }
  if (failed) process.exitCode = 1;
}

function attentionCommand(model: string, opts: { inputs?: string; softmax: SoftmaxVariant | 'both' }): void {
  const graph = loadModel(model);
  const found = findAttention(graph);
  for (const u of found.unmatched)
    process.stdout.write(`softmax ${u.softmax}: no attention block (${u.reason})\n`);
  if (found.blocks.length === 0) process.stdout.write('no attention block found\n');
  let failed = false;
  for (const b of found.blocks) {
    process.stdout.write(
      `attention at ${b.softmax}: H=${b.H} S=${Number.isNaN(b.S) ? '?' : b.S} E=${b.E} P=${b.P}, ${b.nodes.length} nodes\n`,
    );
    process.stdout.write(`  inputs: q=${b.inputs.q} k=${b.inputs.k} v=${b.inputs.v}\n`);
    process.stdout.write(
      `  ITA steps: Q=${b.steps.Q} K^T=${b.steps.KT} V=${b.steps.V} QK=${b.steps.A} softmax=${b.steps.A_soft} AV=${b.steps.O} OW=${b.steps.Out.join(',')}${b.steps.sum ? ` sum=${b.steps.sum}` : ''}\n`,
    );
    const h0 = b.spec.heads[0];
    if (h0) {
      const rq = (n: string, r: { mult: number; shift: number; add: number }): string =>
        `${n}(${r.mult},${r.shift},${r.add})`;
      const r = h0.rq;
      process.stdout.write(
        `  requant (mult,shift,add) head 0: ${[rq('Q', r.q), rq('K', r.k), rq('V', r.v), rq('QK', r.qk), rq('AV', r.av), rq('OW', r.ow)].join(' ')}\n`,
      );
    }
    process.stdout.write(
      b.issues.length === 0
        ? '  mapping onto ITA: exact\n'
        : `  mapping onto ITA is not exact on the hardware:\n${b.issues.map((i) => `    - ${i}\n`).join('')}`,
    );
  }
  if (opts.inputs && found.blocks.length > 0) {
    const variants: SoftmaxVariant[] = opts.softmax === 'both' ? ['deeploy', 'rtl'] : [opts.softmax];
    for (const v of variants) {
      const result = execute(graph, opts.inputs, v);
      for (const b of found.blocks) {
        const rows = checkAttention(b, result.tensors, v);
        process.stdout.write(
          `ITA mapping of ${b.softmax} vs graph (softmax ${v} in both)\n${formatMatches(rows)}\n`,
        );
        if (rows.some((r) => r.mismatches > 0)) failed = true;
      }
    }
  }
  if (failed) process.exitCode = 1;
}

/** Defines `itasim onnx` (its flags and action) on the command `index.ts` names and describes. */
export function register(onnx: Command): void {
  onnx
    .command('run')
    .description('execute a graph on the inputs of an npz file')
    .argument('<network.onnx>', 'the integer ONNX graph')
    .requiredOption('--inputs <inputs.npz>', 'graph inputs (by name, else in order)')
    .addOption(
      new Option('--softmax <variant>', "ITA softmax: Deeploy's emulation or the RTL's")
        .choices(['deeploy', 'rtl'])
        .default('deeploy'),
    )
    .option('--outputs <out.npz>', 'write the graph outputs')
    .option('--activations <act.npz>', 'write every node output, keyed by tensor name')
    .option(
      '--compare <outputs.npz>',
      'compare the outputs with a reference (per-tensor report, exit 1 on a difference)',
    )
    .option(
      '--compare-activations <activations.npz>',
      'compare intermediates with a reference keyed by tensor or module name',
    )
    .option('--json', 'print the outputs (every value) and the comparisons as JSON')
    .action((model: string, opts: RunOpts) => runCommand(model, opts));
  onnx
    .command('attention')
    .description('find attention blocks, map them onto ITA steps and check the mapping against the graph')
    .argument('<network.onnx>', 'the integer ONNX graph')
    .option('--inputs <inputs.npz>', 'run the check on these inputs')
    .addOption(
      new Option('--softmax <variant>', 'softmax variant used on both sides')
        .choices(['deeploy', 'rtl', 'both'])
        .default('both'),
    )
    .action((model: string, opts: { inputs?: string; softmax: SoftmaxVariant | 'both' }) =>
      attentionCommand(model, opts),
    );
}
