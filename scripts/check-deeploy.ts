/**
 * Runs Deeploy's integer test models through the executor and prints how many tensors match
 * bit-exactly: every graph output against `outputs.npz` and, where present, every intermediate of
 * `activations.npz`; for graphs with an ITA attention block, also the ITA mapping against the
 * graph in both softmax variants. Run by hand (it reads `../shared/deeploy-models`, which a fresh
 * clone does not have):
 *
 *   npx tsx scripts/check-deeploy.ts [models-dir]
 *
 * Exits 1 if anything differs.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAttention, findAttention } from '../onnx/attention.ts';
import type { TensorMatch } from '../onnx/compare.ts';
import { compareActivations, compareOutputs } from '../onnx/compare.ts';
import { bindInputs, runGraph } from '../onnx/executor.ts';
import { loadModel } from '../onnx/model.ts';
import { readNpz } from '../onnx/npz.ts';
import { InputError } from '../rtl-model/errors.ts';

const root = resolve(
  process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../shared/deeploy-models'),
);
if (!existsSync(root)) {
  process.stderr.write(`check-deeploy: ${root} does not exist (pass the deeploy-models folder)\n`);
  process.exit(2);
}

function modelDirs(dir: string): string[] {
  const out: string[] = [];
  if (existsSync(join(dir, 'network.onnx'))) out.push(dir);
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...modelDirs(p));
  }
  return out;
}

interface Row {
  model: string;
  what: string;
  tensors: string;
  elements: string;
  ok: boolean;
}

const rows: Row[] = [];
const summarise = (model: string, what: string, m: TensorMatch[]): void => {
  const named = m.filter((r) => r.link !== 'order');
  const byOrder = m.filter((r) => r.link === 'order');
  const good = named.filter((r) => r.mismatches === 0).length;
  const el = named.reduce((n, r) => n + r.elements, 0);
  const elOk = named.reduce((n, r) => n + r.elements - r.mismatches, 0);
  let tensors = `${good}/${named.length}`;
  if (byOrder.length > 0)
    tensors += ` (+${byOrder.filter((r) => r.mismatches === 0).length}/${byOrder.length} by position)`;
  rows.push({ model, what, tensors, elements: `${elOk}/${el}`, ok: good === named.length });
  for (const r of named)
    if (r.mismatches > 0) process.stdout.write(`  ${model} ${what}: ${r.name} differs: ${r.detail}\n`);
};

function checkModel(dir: string, model: string): void {
  const graph = loadModel(join(dir, 'network.onnx'));
  const inputs = bindInputs(graph, readNpz(join(dir, 'inputs.npz')));
  const t0 = performance.now();
  const result = runGraph(graph, inputs, { softmax: 'deeploy' });
  const ms = performance.now() - t0;
  summarise(model, `outputs (${ms.toFixed(0)} ms)`, compareOutputs(result, join(dir, 'outputs.npz')));
  const act = join(dir, 'activations.npz');
  if (existsSync(act) && readNpz(act).size > 0)
    summarise(model, 'activations', compareActivations(result, act));
  for (const block of findAttention(graph).blocks) {
    for (const i of block.issues) process.stdout.write(`  ${model}: ITA mapping not exact: ${i}\n`);
    summarise(model, 'ITA mapping (deeploy softmax)', checkAttention(block, result.tensors, 'deeploy'));
    const rtl = runGraph(graph, inputs, { softmax: 'rtl' });
    summarise(model, 'ITA mapping (rtl softmax)', checkAttention(block, rtl.tensors, 'rtl'));
  }
}

for (const dir of modelDirs(root)) {
  const model = relative(root, dir) || '.';
  try {
    checkModel(dir, model);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    rows.push({ model, what: 'refused', tensors: '-', elements: '-', ok: false });
    process.stdout.write(`  ${model}: ${e.message}\n`);
  }
}

const w = [5, 4, 7, 8].map((_, i) =>
  Math.max(
    ...rows.map((r) => [r.model, r.what, r.tensors, r.elements][i]!.length),
    ['model', 'check', 'tensors', 'elements'][i]!.length,
  ),
);
const line = (c: string[]): string => c.map((s, i) => s.padEnd(w[i]!)).join('  ');
process.stdout.write(`${line(['model', 'check', 'tensors', 'elements'])}  result\n`);
for (const r of rows)
  process.stdout.write(`${line([r.model, r.what, r.tensors, r.elements])}  ${r.ok ? 'bit-exact' : 'DIFF'}\n`);
const bad = rows.filter((r) => !r.ok).length;
process.stdout.write(
  bad === 0 ? `all ${rows.length} checks bit-exact\n` : `${bad} of ${rows.length} checks differ\n`,
);
process.exitCode = bad === 0 ? 0 : 1;
