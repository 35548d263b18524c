/**
 * Interrupts (SIGINT, SIGTERM) during a run that yields to the event loop: every temporary the
 * process made is removed (see `golden/atomic.ts`), one line goes to stderr and the exit code is
 * 130. Only runs that yield can be interrupted this way (`golden`, `recompute`); the long
 * synchronous simulations run on a worker thread instead, stopped by the main thread
 * (`command-thread.ts`), so Ctrl-C never waits for a run to finish.
 */
import { removeTemporaries } from '../golden/atomic.ts';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function interrupted(): never {
  removeTemporaries();
  process.stderr.write('itasim: interrupted\n');
  process.exit(130);
}

/** Runs `run` with the interrupt handler installed. */
export async function interruptible<T>(run: () => Promise<T>): Promise<T> {
  for (const s of SIGNALS) process.on(s, interrupted);
  try {
    return await run();
  } finally {
    for (const s of SIGNALS) process.off(s, interrupted);
  }
}
