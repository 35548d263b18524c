/**
 * A model folder as Deeploy's test tree holds one, written for a deploy test in a temporary
 * folder: network.onnx, inputs.npz, and outputs.npz from the functional executor's run on the
 * inputs as the npz binds them (its tensors kept for the test's own checks).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindInputs, runGraph } from '../../onnx/executor.ts';
import { loadModel } from '../../onnx/model.ts';
import { readNpz, writeNpz } from '../../onnx/npz.ts';
import type { Tensor } from '../../onnx/tensor.ts';
import { buildModel, type GraphSpec } from '../../onnx/writer.ts';

export interface ModelFolder {
  dir: string;
  onnx: string;
  inputs: string;
  outputs: string;
  /** Every tensor of the executor's run. */
  ref: Map<string, Tensor>;
}

/** Writes the folder (named `itasim-<name>-...` in the temporary directory); the caller removes `dir`. */
export function modelFolder(name: string, spec: GraphSpec, inputs: Map<string, Tensor>): ModelFolder {
  const dir = mkdtempSync(join(tmpdir(), `itasim-${name}-`));
  const onnx = join(dir, 'network.onnx');
  writeFileSync(onnx, buildModel(spec));
  const inputsPath = join(dir, 'inputs.npz');
  writeNpz(inputsPath, inputs);
  const g = loadModel(onnx);
  const run = runGraph(g, bindInputs(g, readNpz(inputsPath)));
  const outputs = join(dir, 'outputs.npz');
  writeNpz(outputs, run.outputs);
  return { dir, onnx, inputs: inputsPath, outputs, ref: run.tensors };
}
