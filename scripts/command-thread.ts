/**
 * Long simulations (`sim`, `hwpe`, `cluster`, `encoder`, `onnx`, `fuzz`) run synchronously, cycle
 * after cycle, and never yield to the event loop, so a signal handler on their thread would not
 * run until they end. They therefore run on a worker thread: this (main) thread only waits, and on
 * SIGINT or SIGTERM stops the worker, removes every temporary it made (`--vcd`'s `*.tmp-<pid>`,
 * temporary folders), writes one line and exits with code 130.
 *
 * The worker reports each temporary before it creates it and when it is gone, through a message
 * port that this thread drains after the worker is stopped, so no temporary is missed.
 */
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { mirrorTemporaries, removeTemporaries, trackTemporary, untrackTemporary } from '../golden/atomic.ts';
import { commandNamed } from './commands/index.ts';

const KIND = 'itasim-command-thread';

/** Commands whose runs are long and synchronous. */
const THREADED = new Set(['sim', 'hwpe', 'cluster', 'encoder', 'onnx', 'fuzz', 'deploy']);

/** What the worker is given. */
interface ThreadData {
  kind: typeof KIND;
  args: string[];
  port: MessagePort;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  columns: number | undefined;
}

/** A temporary created or removed on the worker. */
interface TemporaryNote {
  op: 'track' | 'untrack';
  path: string;
}

/** The arguments of this run, on the main thread or on the command's worker. */
export function commandArgs(): string[] {
  const d = workerData as Partial<ThreadData> | null;
  return !isMainThread && d?.kind === KIND ? d.args! : process.argv.slice(2);
}

/**
 * On the command's worker: reports temporaries to the main thread and makes stdout and stderr
 * look as they are on the main thread (a terminal or not), for the progress bars. Elsewhere nothing.
 */
export function setUpCommandThread(): void {
  const d = workerData as Partial<ThreadData> | null;
  if (isMainThread || d?.kind !== KIND) return;
  const port = d.port!;
  mirrorTemporaries((op, path) => port.postMessage({ op, path } satisfies TemporaryNote));
  if (d.stderrTTY) Object.assign(process.stderr, { isTTY: true, columns: d.columns ?? 80 });
  if (d.stdoutTTY) Object.assign(process.stdout, { isTTY: true, columns: d.columns ?? 80 });
}

/** Whether `args` name a command that runs on a worker (help never does). */
export function runsOnThread(args: readonly string[]): boolean {
  if (!isMainThread) return false;
  if (args.includes('--help') || args.includes('-h') || args[0] === 'help') return false;
  const name = commandNamed(args);
  return name !== undefined && THREADED.has(name);
}

/**
 * Runs the CLI module `entry` (its URL) with `args` on a worker thread and waits for it; the exit
 * code is the worker's. An interrupt stops it as the header says.
 */
export async function runOnThread(entry: string, args: string[]): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const note = (m: TemporaryNote): void => (m.op === 'track' ? trackTemporary : untrackTemporary)(m.path);
  port1.on('message', note);
  const self = JSON.stringify(entry);
  let code = `import(${self});`;
  if (entry.endsWith('.ts')) {
    // tsx's loader registered inside the worker first (execArgv does not apply it to the entry module).
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    code = `import(${tsx}).then((m) => { m.register(); return import(${self}); });`;
  }
  const data: ThreadData = {
    kind: KIND,
    args,
    port: port2,
    stdoutTTY: process.stdout.isTTY === true,
    stderrTTY: process.stderr.isTTY === true,
    columns: process.stderr.columns,
  };
  const worker = new Worker(code, { eval: true, workerData: data, transferList: [port2] });
  let stopping = false;
  const interrupted = (): void => {
    if (stopping) return;
    stopping = true;
    void worker.terminate().finally(() => {
      for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1))
        note(m.message as TemporaryNote);
      removeTemporaries();
      process.stderr.write('itasim: interrupted\n');
      process.exit(130);
    });
  };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, interrupted);
  // A closed pipe (`| head`) ends the output quietly.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  let failure: unknown;
  worker.on('error', (e) => (failure = e));
  const exitCode = await new Promise<number>((res) => worker.on('exit', res));
  if (stopping) return new Promise(() => {}); // the interrupt handler exits
  port1.close();
  if (failure !== undefined) {
    const text = failure instanceof Error ? (failure.stack ?? failure.message) : String(failure);
    process.stderr.write(`itasim: internal error (a bug in itasim):\n${text}\n`);
    process.exitCode = 1;
    return;
  }
  process.exitCode = exitCode;
}
