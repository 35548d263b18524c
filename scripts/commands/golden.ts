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
import { createRequire } from 'node:module';
import { Option } from 'commander';
import type { Command } from 'commander';
import { cliProgressLib } from '../progress.ts';
import { InputError } from '../../rtl-model/errors.ts';
import {
  allocateOutputs,
  computeActivationTest,
  computeFeedForward,
  computeHead,
  computeHeadSum,
  computeOutputs,
} from '../../rtl-model/ref/ita.ts';
import { buildFolder, folderJobs, startWriteJob, writeJobs } from '../../golden/folder.ts';
import type { FolderJob, FolderOptions } from '../../golden/folder.ts';
import { TextSink } from '../../golden/text.ts';
import type { FileMap } from '../../golden/archive.ts';
import { onInterrupt, writeFolderAtomicAsync } from '../../golden/atomic.ts';
import { interruptible } from '../interrupt.ts';
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
import type { Activation, ItaCase, ItaInputs, ItaOutputs, ItaParams } from '../../golden/types.ts';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  MessageChannel,
  Worker,
  isMainThread,
  parentPort,
  receiveMessageOnPort,
  workerData,
} from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

export interface GoldenRequest {
  params: ItaParams;
  seed: number;
  out: string;
  exportSnitchCluster: boolean;
  seedMode: SeedMode;
  skipVectorValidation: boolean;
  /** Threads to run on (1: this thread only); by default chosen by `threadsFor`. */
  threads?: number;
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
 * Draws the inputs of a request and computes its outputs. Throws InputError when a result tensor
 * is constant (PyITA's check) unless validation is skipped.
 */
export function computeGolden(r: GoldenRequest, stage: Stage = () => {}): ItaCase {
  stage('drawing inputs', 0);
  const inputs = generateInputs(r.params, r.seed, r.seedMode);
  stage('computing outputs', 0.1);
  const outputs = computeOutputs(inputs);
  if (!r.skipVectorValidation) checkOutputs(outputs, r.seed);
  return { inputs, outputs };
}

/** PyITA's constant-output check (InputError naming the tensor). */
function checkOutputs(outputs: ItaOutputs, seed: number): void {
  const constant = findConstantOutput(outputs);
  if (constant) {
    throw new InputError(
      `tensor ${constant} is constant for --seed ${seed}: a bad test vector (PyITA refuses it too); ` +
        `choose another --seed or pass --skip-vector-validation`,
    );
  }
}

function folderOptions(r: GoldenRequest): FolderOptions {
  return { commandLine: testGeneratorCommandLine(r), exportSnitchCluster: r.exportSnitchCluster };
}

/** Draws, computes and builds the complete file set of a request in memory. */
export function buildGolden(r: GoldenRequest, stage: Stage = () => {}): { case: ItaCase; files: FileMap } {
  const c = computeGolden(r, stage);
  stage('formatting files', 0.45);
  return { case: c, files: buildFolder(c, folderOptions(r)) };
}

/** The sub-folders of a PyITA output folder. */
const PYITA_SUBFOLDERS = ['mempool', 'hwpe', 'standalone', 'snitch-cluster'];

/** Cases at least this large (multiply-accumulates) are shared among worker threads. */
const PARALLEL_MIN_WORK = 1e8;
/** Most threads used by default (the work splits into about H + 2 compute and 200 file tasks). */
const THREADS_DEFAULT_MAX = 4;
/** Most threads accepted by --threads. */
export const THREADS_MAX = 16;

/** Threads a request runs on: `threads` if given, otherwise by CPU count for large cases. */
export function threadsFor(r: GoldenRequest): number {
  if (r.threads !== undefined) return r.threads;
  return workOf(r.params) >= PARALLEL_MIN_WORK ? Math.min(availableParallelism(), THREADS_DEFAULT_MAX) : 1;
}

/**
 * Runs a request: draws, computes, then formats and writes the folder atomically, each file
 * written as soon as it is formatted. With more than one thread, the outputs (per head, the
 * feed-forward layer, the activation test) and the files are shared out among worker threads
 * that write into the same temporary folder. The main thread yields to the event loop between
 * its tasks, so that an interrupt (SIGINT, SIGTERM) is handled while the run goes on. Returns the
 * number of files and bytes.
 */
export async function runGolden(
  r: GoldenRequest,
  stage: Stage = () => {},
): Promise<{ files: number; bytes: number }> {
  // Workers start loading while this thread draws the inputs.
  const workers = Array.from({ length: threadsFor(r) - 1 }, startWorker).filter((w) => w !== undefined);
  try {
    stage('drawing inputs', 0);
    const inputs = generateInputs(r.params, r.seed, r.seedMode);
    const outputs = allocateOutputs(inputs, (n) => new Int32Array(new SharedArrayBuffer(4 * n)));
    const c: ItaCase = { inputs, outputs };
    const opts = folderOptions(r);
    const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_WORDS));
    const bytes = new BigInt64Array(new SharedArrayBuffer(8));
    const jobs = fileTasks(c, opts);
    // Workers finish the file they are writing before the temporary folder goes.
    const stopWorkers = (): void => {
      Atomics.store(ctl, PHASE, PHASE_ABORT);
      Atomics.notify(ctl, PHASE);
      const until = Date.now() + 60_000;
      while (Atomics.load(ctl, BUSY) > 0 && Date.now() < until)
        Atomics.wait(ctl, BUSY, Atomics.load(ctl, BUSY), 50);
    };
    const offInterrupt = onInterrupt(stopWorkers);
    await writeFolderAtomicAsync(r.out, async (tmp) => {
      // PyITA creates its four sub-folders up front, even those it leaves empty.
      for (const sub of PYITA_SUBFOLDERS) mkdirSync(join(tmp, sub), { recursive: true });
      const ports = workers.map((w) => {
        const { port1, port2 } = new MessageChannel();
        const job: WorkerJob = { kind: WORKER_KIND, inputs, outputs, opts, tmp, ctl, bytes, port: port2 };
        w.postMessage(job, [port2]);
        return port1;
      });
      try {
        await shareWork(c, jobs, tmp, ctl, bytes, ports, r, stage);
      } catch (e) {
        stopWorkers();
        throw e;
      } finally {
        for (const p of ports) p.close();
      }
    }).finally(offInterrupt);
    stage('done', 1);
    return { files: jobs.length, bytes: Number(bytes[0]) };
  } finally {
    for (const w of workers) void w.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Sharing a run among threads. Every thread claims tasks from shared counters (Atomics), so a
// worker that starts late, or never, only means the others do more; the results do not depend on
// who computes or writes what. Phase 1: compute tasks (the feed-forward layer, each head, the
// activation test) into shared output arrays. The main thread then forms the head sum and checks
// the outputs, and opens phase 2: the files, largest first, each formatted and written by the
// thread that claims it.

const WORKER_KIND = 'itasim-golden-worker';
/** Control words (Int32Array indices). */
const NEXT_TASK = 0;
const TASKS_DONE = 1;
const NEXT_FILE = 2;
const FILES_DONE = 3;
const PHASE = 4;
const FAILED = 5;
/** Files being written by workers right now. */
const BUSY = 6;
const CTL_WORDS = 8;
const PHASE_COMPUTE = 0;
const PHASE_FILES = 1;
const PHASE_ABORT = 2;

interface WorkerJob {
  kind: typeof WORKER_KIND;
  inputs: ItaInputs;
  /** Output tensors on SharedArrayBuffers. */
  outputs: ItaOutputs;
  opts: FolderOptions;
  tmp: string;
  ctl: Int32Array;
  bytes: BigInt64Array;
  /** Where a failing worker sends its error. */
  port: MessagePort;
}

/**
 * Starts a worker thread running this module (undefined if that fails): compiled (`dist/`), as it
 * is; from the TypeScript sources, under tsx's loader.
 */
function startWorker(): Worker | undefined {
  try {
    const self = JSON.stringify(import.meta.url);
    let code = `import(${self});`;
    if (import.meta.url.endsWith('.ts')) {
      // Registers tsx's loader inside the worker first (execArgv does not apply it to the entry module).
      const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
      code = `import(${tsx}).then((m) => { m.register(); return import(${self}); });`;
    }
    const w = new Worker(code, {
      eval: true,
      workerData: { kind: WORKER_KIND },
      stdout: false,
      stderr: false,
    });
    w.unref();
    // A worker that fails to start leaves its share to the others.
    w.on('error', () => {});
    return w;
  } catch {
    return undefined;
  }
}

/** Compute tasks in order of size: the feed-forward layer, the heads, the activation test. */
function computeTaskCount(c: ItaCase): number {
  return c.inputs.params.H + 2;
}

function runComputeTask(c: ItaCase, t: number): void {
  const H = c.inputs.params.H;
  if (t === 0) computeFeedForward(c.inputs, c.outputs);
  else if (t <= H) computeHead(c.inputs, t - 1, c.outputs);
  else computeActivationTest(c.inputs, c.outputs);
}

/** The file jobs of a case, largest first (the same list in every thread). */
function fileTasks(c: ItaCase, opts: FolderOptions): FolderJob[] {
  return folderJobs(c, opts)
    .map((job, i) => ({ job, i }))
    .sort((x, y) => y.job.weight - x.job.weight || x.i - y.i)
    .map((x) => x.job);
}

/** Claims and runs compute tasks until none is left. */
function claimComputeTasks(c: ItaCase, ctl: Int32Array, onTask: () => void): void {
  while (claimComputeTask(c, ctl)) onTask();
}

/** Claims and runs one compute task; false when none is left (or the run is aborted). */
function claimComputeTask(c: ItaCase, ctl: Int32Array): boolean {
  if (Atomics.load(ctl, PHASE) === PHASE_ABORT) return false;
  const t = Atomics.add(ctl, NEXT_TASK, 1);
  if (t >= computeTaskCount(c)) return false;
  runComputeTask(c, t);
  Atomics.add(ctl, TASKS_DONE, 1);
  Atomics.notify(ctl, TASKS_DONE);
  return true;
}

/** Claims, formats and writes files until none is left (or the run is aborted). */
function claimFiles(
  jobs: FolderJob[],
  dir: string,
  ctl: Int32Array,
  bytes: BigInt64Array,
  busy: boolean,
  onFile: () => void,
): void {
  const sink = new TextSink(1 << 20);
  while (claimFile(jobs, dir, ctl, bytes, busy, sink)) onFile();
}

/**
 * Claims, formats and writes one file; false when none is left (or the run is aborted). With
 * `writes`, the file is written in the background and its write (resolving to its error, if any)
 * added to `writes`.
 */
function claimFile(
  jobs: FolderJob[],
  dir: string,
  ctl: Int32Array,
  bytes: BigInt64Array,
  busy: boolean,
  sink: TextSink,
  writes?: Promise<unknown>[],
): boolean {
  if (Atomics.load(ctl, PHASE) !== PHASE_FILES) return false;
  if (busy) Atomics.add(ctl, BUSY, 1);
  try {
    const f = Atomics.add(ctl, NEXT_FILE, 1);
    if (f >= jobs.length) return false;
    let n: number;
    if (writes) {
      const started = startWriteJob(dir, jobs[f]!, sink);
      writes.push(started.written);
      n = started.bytes;
    } else n = writeJobs(dir, [jobs[f]!], undefined, sink);
    Atomics.add(bytes, 0, BigInt(n));
  } finally {
    if (busy) {
      Atomics.sub(ctl, BUSY, 1);
      Atomics.notify(ctl, BUSY);
    }
  }
  Atomics.add(ctl, FILES_DONE, 1);
  Atomics.notify(ctl, FILES_DONE);
  return true;
}

/** Lets the event loop run (signal handlers among others). */
const yieldToEvents = (): Promise<void> => new Promise((done) => setImmediate(done));

/**
 * The main thread's part: its share of both phases, the checks between them and the waits,
 * yielding to the event loop after each task.
 */
async function shareWork(
  c: ItaCase,
  jobs: FolderJob[],
  tmp: string,
  ctl: Int32Array,
  bytes: BigInt64Array,
  ports: MessagePort[],
  r: GoldenRequest,
  stage: Stage,
): Promise<void> {
  const nTasks = computeTaskCount(c);
  const computing = () => stage('computing outputs', 0.1 + (0.3 * Atomics.load(ctl, TASKS_DONE)) / nTasks);
  computing();
  while (claimComputeTask(c, ctl)) {
    computing();
    await yieldToEvents();
  }
  await waitFor(ctl, TASKS_DONE, nTasks, ports, computing);
  computeHeadSum(c.inputs, c.outputs);
  // Workers start on the files while this thread checks the outputs (a failed check aborts the
  // run and the temporary folder goes).
  Atomics.store(ctl, PHASE, PHASE_FILES);
  Atomics.notify(ctl, PHASE);
  if (!r.skipVectorValidation) checkOutputs(c.outputs, r.seed);
  const writing = () => stage('writing files', 0.4 + (0.6 * Atomics.load(ctl, FILES_DONE)) / jobs.length);
  writing();
  const sink = new TextSink(1 << 20);
  // This thread's files are written in the background while it formats the next ones.
  const writes: Promise<unknown>[] = [];
  while (claimFile(jobs, tmp, ctl, bytes, false, sink, writes)) {
    writing();
    await yieldToEvents();
  }
  const failed = (await Promise.all(writes)).find((e) => e !== undefined);
  if (failed !== undefined) throw failed;
  await waitFor(ctl, FILES_DONE, jobs.length, ports, writing);
  if (Atomics.load(ctl, FAILED)) throw workerError(ports);
}

/**
 * Waits, letting the event loop run, until control word `i` reaches `target`; throws a worker's
 * error.
 */
async function waitFor(
  ctl: Int32Array,
  i: number,
  target: number,
  ports: MessagePort[],
  tick: () => void,
): Promise<void> {
  await yieldToEvents();
  for (;;) {
    const v = Atomics.load(ctl, i);
    if (v >= target) return;
    if (Atomics.load(ctl, FAILED)) throw workerError(ports);
    await new Promise((done) => setTimeout(done, 10));
    tick();
  }
}

function workerError(ports: MessagePort[]): Error {
  for (const p of ports) {
    const m = receiveMessageOnPort(p) as { message: { message: string; code?: string } } | undefined;
    if (m) {
      // A file-system error keeps its code, so that it is reported as a failed write.
      const e = new Error(`itasim golden worker thread: ${m.message.message}`);
      return m.message.code ? Object.assign(e, { code: m.message.code }) : e;
    }
  }
  return new Error('itasim golden worker thread failed');
}

/** The worker side: joins both phases of the job it is sent, then ends. */
function workerMain(): void {
  parentPort!.once('message', (job: WorkerJob) => {
    const c: ItaCase = { inputs: job.inputs, outputs: job.outputs };
    const { ctl } = job;
    try {
      const jobs = fileTasks(c, job.opts);
      claimComputeTasks(c, ctl, () => {});
      while (Atomics.load(ctl, PHASE) === PHASE_COMPUTE) Atomics.wait(ctl, PHASE, PHASE_COMPUTE, 1000);
      claimFiles(jobs, job.tmp, ctl, job.bytes, true, () => {});
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      job.port.postMessage({
        message: e instanceof Error ? (e.stack ?? e.message) : String(e),
        code: typeof code === 'string' ? code : undefined,
      });
      Atomics.store(ctl, FAILED, 1);
      Atomics.notify(ctl, TASKS_DONE);
      Atomics.notify(ctl, FILES_DONE);
    } finally {
      job.port.close();
    }
  });
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) workerMain();

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
  threads?: string;
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
    // (node:crypto loads only here: a fixed seed, the usual case, does not need it)
    const { randomInt } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
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
    threads: o.threads === undefined ? undefined : intFlag('--threads', o.threads, 1, THREADS_MAX),
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
  '-S -E -P -F -H --activation --no-bias --seed --out --export-snitch-cluster --skip-vector-validation --seed-mode --threads';

/** Defines `itasim golden` (its flags and action) on the command `index.ts` names and describes. */
export function register(cmd: Command): void {
  const d = DEFAULT_PARAMS;
  cmd
    .option('-S <n>', `sequence length (${DIM_STEP}..${DIM_MAX}, multiple of ${DIM_STEP})`, String(d.S))
    .option('-E <n>', `embedding size (${DIM_STEP}..${DIM_MAX}, multiple of ${DIM_STEP})`, String(d.E))
    .option('-P <n>', `projection size (${DIM_STEP}..${DIM_MAX}, multiple of ${DIM_STEP})`, String(d.P))
    .option('-F <n>', `feed-forward size (${DIM_STEP}..${DIM_MAX}, multiple of ${DIM_STEP})`, String(d.F))
    .option('-H <n>', `number of heads (1..${HEADS_MAX})`, String(d.H))
    .option('--activation <name>', `activation function (${ACTIVATIONS.join(', ')})`, d.activation)
    .option('--no-bias', 'disable biases')
    .option('--seed <n>', `random seed (0..${SEED_MAX}; -1: a fresh seed)`, '0')
    .option(
      '--out <dir>',
      'output folder, new or empty; with --force, its files of the same names are replaced (default: simvectors/data_S.._E.._P.._F.._H.._B.._<Activation>)',
    )
    .option('--export-snitch-cluster', 'also write snitch-cluster/mem_snitch_cluster.h')
    .option('--skip-vector-validation', 'write the case even if an output tensor is constant')
    .option(
      '--seed-mode <mode>',
      "pyita: numpy's legacy stream, PyITA's values; native: a faster generator of its own (other values)",
      'pyita',
    )
    .option(
      '--threads <n>',
      `threads to run on (1..${THREADS_MAX}; default: up to ${THREADS_DEFAULT_MAX} by CPU count for large cases)`,
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
      const cliProgress = showBar ? cliProgressLib() : undefined;
      const bar = cliProgress
        ? new cliProgress.SingleBar(
            { format: 'golden [{bar}] {percentage}% | {stage}', stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(100, 0, { stage: 'starting' });
      // Flags are checked above, synchronously; the run itself is awaited by commander.
      const run = () => runGolden(req, (name, done) => bar?.update(Math.round(done * 100), { stage: name }));
      return interruptible(run).then(
        ({ files, bytes }) => {
          bar?.stop();
          const secs = ((performance.now() - t0) / 1000).toFixed(2);
          console.log(`wrote ${req.out}: ${files} files, ${(bytes / 1e6).toFixed(1)} MB in ${secs} s`);
        },
        (e: unknown) => {
          bar?.stop();
          throw e;
        },
      );
    });
}
