/**
 * `itasim golden`: PyITA's `testGenerator.py` as a drop-in. The same flags, defaults and limits;
 * for the same seed it writes the same files, byte for byte (the C header's first line quotes the
 * equivalent testGenerator.py command line, in the order PyITA's reference folders show it).
 *
 * Differences from testGenerator.py: the output folder is `--out` (default: testGenerator.py's
 * `simvectors/data_S.._E.._P.._F.._H.._B.._<Activation>` relative to the working directory), it is
 * written atomically, and a case that fails PyITA's constant-output check is not written at all
 * (PyITA writes it, then fails). `--seed -1` (testGenerator.py: unseeded) draws a fresh seed and
 * prints it. For H > 1 the standalone files follow the fixed tilers of the reference folders.
 */
import { randomInt } from 'node:crypto';
import { Option } from 'commander';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { InputError } from '../../rtl-model/errors.ts';
import { computeOutputs } from '../../rtl-model/ref/ita.ts';
import { buildFolder } from '../../golden/folder.ts';
import type { FileMap } from '../../golden/archive.ts';
import { writeFolderAtomic } from '../../golden/atomic.ts';
import {
  DEFAULT_PARAMS,
  DIM_MAX,
  DIM_STEP,
  HEADS_MAX,
  SEED_MAX,
  SEED_MODES,
  findConstantOutput,
  generateInputs,
  validateParams,
} from '../../golden/generate.ts';
import type { SeedMode } from '../../golden/generate.ts';
import { ACTIVATIONS } from '../../golden/types.ts';
import type { Activation, ItaCase, ItaParams } from '../../golden/types.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface GoldenRequest {
  params: ItaParams;
  seed: number;
  out: string;
  exportSnitchCluster: boolean;
  seedMode: SeedMode;
  skipVectorValidation: boolean;
}

/** The testGenerator.py command line PyITA would quote for this request (its reference order). */
export function testGeneratorCommandLine(r: GoldenRequest): string {
  const p = r.params;
  const args = ['testGenerator.py', '-H', p.H, '-S', p.S, '-E', p.E, '-P', p.P, '-F', p.F];
  args.push('--activation', p.activation, '--seed', r.seed);
  if (!p.bias) args.push('--no-bias');
  if (r.skipVectorValidation) args.push('--skip-vector-validation');
  if (r.exportSnitchCluster) args.push('--export-snitch-cluster');
  return args.join(' ');
}

/** testGenerator.py's folder name for the parameters. */
export function defaultOutDir(p: ItaParams): string {
  const act = p.activation.charAt(0).toUpperCase() + p.activation.slice(1);
  return join('simvectors', `data_S${p.S}_E${p.E}_P${p.P}_F${p.F}_H${p.H}_B${p.bias ? 1 : 0}_${act}`);
}

/** Multiply-accumulates of a case (inputs, attention per head, feed-forward): the work estimate. */
function workOf(p: ItaParams): number {
  const { S, E, P, F, H } = p;
  return H * (3 * S * E * P + 2 * S * S * P + S * P * E) + 2 * S * E * F;
}

/** Cases at least this large show a progress bar on a terminal. */
const PROGRESS_MIN_WORK = 2e7;

/** Stage hook: `stage(name, fractionDoneBefore)`. */
type Stage = (name: string, done: number) => void;

/**
 * Draws, computes and builds the complete file set of a request in memory. Throws InputError when
 * a result tensor is constant (PyITA's check) unless validation is skipped.
 */
export function buildGolden(r: GoldenRequest, stage: Stage = () => {}): { case: ItaCase; files: FileMap } {
  stage('drawing inputs', 0);
  const inputs = generateInputs(r.params, r.seed, r.seedMode);
  stage('computing outputs', 0.05);
  const outputs = computeOutputs(inputs);
  if (!r.skipVectorValidation) {
    const constant = findConstantOutput(outputs);
    if (constant) {
      throw new InputError(
        `tensor ${constant} is constant for --seed ${r.seed}: a bad test vector (PyITA refuses it too); ` +
          `choose another --seed or pass --skip-vector-validation`,
      );
    }
  }
  stage('formatting files', 0.45);
  const c: ItaCase = { inputs, outputs };
  const files = buildFolder(c, {
    commandLine: testGeneratorCommandLine(r),
    exportSnitchCluster: r.exportSnitchCluster,
  });
  return { case: c, files };
}

/** The sub-folders of a PyITA output folder. */
const PYITA_SUBFOLDERS = ['mempool', 'hwpe', 'standalone', 'snitch-cluster'];

/** Runs a request: builds the files and writes the folder atomically. Returns files and bytes. */
export function runGolden(r: GoldenRequest, stage: Stage = () => {}): { files: number; bytes: number } {
  const { files } = buildGolden(r, stage);
  stage('writing files', 0.85);
  let bytes = 0;
  writeFolderAtomic(r.out, (tmp) => {
    // PyITA creates its four sub-folders up front, even those it leaves empty.
    for (const sub of PYITA_SUBFOLDERS) mkdirSync(join(tmp, sub), { recursive: true });
    for (const [rel, data] of files) {
      const path = join(tmp, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data);
      bytes += data.length;
    }
  });
  stage('done', 1);
  return { files: files.size, bytes };
}

/** Parses an integer flag strictly; errors name the flag and the allowed values. */
function intFlag(flag: string, raw: string, lo: number, hi: number, step = 1): number {
  const v = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v) || v < lo || v > hi || v % step !== 0) {
    const mult = step !== 1 ? ` and a multiple of ${step}` : '';
    throw new InputError(`${flag} must be an integer from ${lo} to ${hi}${mult}, got '${raw}'`);
  }
  return v;
}

function choiceFlag<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new InputError(`${flag} must be one of ${allowed.join(', ')}, got '${raw}'`);
  }
  return raw as T;
}

interface RawOptions {
  S: string;
  E: string;
  P: string;
  F: string;
  H: string;
  activation: string;
  bias: boolean;
  seed: string;
  out?: string;
  exportSnitchCluster?: boolean;
  seedMode: string;
  skipVectorValidation?: boolean;
}

/** Turns the raw flags into a validated request (InputError naming the flag otherwise). */
export function parseGoldenOptions(o: RawOptions): GoldenRequest {
  const dim = (f: 'S' | 'E' | 'P' | 'F'): number => intFlag(`-${f}`, o[f], DIM_STEP, DIM_MAX, DIM_STEP);
  const params: ItaParams = validateParams({
    S: dim('S'),
    E: dim('E'),
    P: dim('P'),
    F: dim('F'),
    H: intFlag('-H', o.H, 1, HEADS_MAX),
    activation: choiceFlag<Activation>('--activation', o.activation, ACTIVATIONS),
    bias: o.bias,
  });
  let seed = intFlag('--seed', o.seed, -1, SEED_MAX);
  if (seed === -1) {
    seed = randomInt(0, 2 ** 32 - 1);
    process.stderr.write(`itasim golden: --seed -1: using seed ${seed}\n`);
  }
  return {
    params,
    seed,
    out: o.out ?? defaultOutDir(params),
    exportSnitchCluster: !!o.exportSnitchCluster,
    seedMode: choiceFlag<SeedMode>('--seed-mode', o.seedMode, SEED_MODES),
    skipVectorValidation: !!o.skipVectorValidation,
  };
}

/** testGenerator.py flags that change its output in ways this generator does not model. */
const UNSUPPORTED: [key: string, flag: string, unset: unknown][] = [
  ['partialSoftmax', '--no-partial-softmax', true],
  ['exportMempool', '--export-mempool', undefined],
  ['exportRom', '--export-rom', undefined],
  ['memPath', '--mem-path', undefined],
];
const SUPPORTED =
  '-S -E -P -F -H --activation --no-bias --seed --out --export-snitch-cluster --skip-vector-validation --seed-mode';

/** Registers `itasim golden`. */
export function register(program: Command): void {
  const d = DEFAULT_PARAMS;
  program
    .command('golden')
    .description(
      'generate a PyITA test-vector folder (drop-in for testGenerator.py: same files for the same seed)',
    )
    .option('-S <n>', `sequence length (${DIM_STEP}..${DIM_MAX}, multiple of ${DIM_STEP})`, String(d.S))
    .option('-E <n>', `embedding size (${DIM_STEP}..${DIM_MAX}, multiple of ${DIM_STEP})`, String(d.E))
    .option('-P <n>', `projection size (${DIM_STEP}..${DIM_MAX}, multiple of ${DIM_STEP})`, String(d.P))
    .option('-F <n>', `feed-forward size (${DIM_STEP}..${DIM_MAX}, multiple of ${DIM_STEP})`, String(d.F))
    .option('-H <n>', `number of heads (1..${HEADS_MAX})`, String(d.H))
    .option('--activation <name>', `activation function (${ACTIVATIONS.join(', ')})`, d.activation)
    .option('--no-bias', 'disable biases')
    .option('--seed <n>', `random seed (0..${SEED_MAX}; -1: a fresh seed)`, '0')
    .option('--out <dir>', 'output folder (default: simvectors/data_S.._E.._P.._F.._H.._B.._<Activation>)')
    .option('--export-snitch-cluster', 'also write snitch-cluster/mem_snitch_cluster.h')
    .option('--skip-vector-validation', 'write the case even if an output tensor is constant')
    .option(
      '--seed-mode <mode>',
      "pyita: numpy's legacy stream, PyITA's values; native: a faster generator of its own (other values)",
      'pyita',
    )
    .option('-B <n>', 'number of batches (accepted and ignored, as testGenerator.py does)')
    .option('-v', 'verbosity (accepted; progress goes to a terminal bar instead)')
    .addOption(new Option('--no-partial-softmax').hideHelp())
    .addOption(new Option('--export-mempool').hideHelp())
    .addOption(new Option('--export-rom').hideHelp())
    .addOption(new Option('--mem-path <path>').hideHelp())
    .action((raw: RawOptions & Record<string, unknown>) => {
      for (const [key, flag, unset] of UNSUPPORTED) {
        if (raw[key] !== unset) {
          throw new InputError(`${flag} is not supported by itasim golden (supported: ${SUPPORTED})`);
        }
      }
      const req = parseGoldenOptions(raw);
      const t0 = performance.now();
      const showBar = process.stderr.isTTY && workOf(req.params) >= PROGRESS_MIN_WORK;
      const bar = showBar
        ? new cliProgress.SingleBar(
            { format: 'golden [{bar}] {percentage}% | {stage}', stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(100, 0, { stage: 'starting' });
      try {
        const { files, bytes } = runGolden(req, (name, done) =>
          bar?.update(Math.round(done * 100), { stage: name }),
        );
        bar?.stop();
        const secs = ((performance.now() - t0) / 1000).toFixed(2);
        console.log(`wrote ${req.out}: ${files} files, ${(bytes / 1e6).toFixed(1)} MB in ${secs} s`);
      } catch (e) {
        bar?.stop();
        throw e;
      }
    });
}
