/**
 * Progress for long runs, on stderr: a bar with total and ETA on a terminal; without one (CI,
 * pipes, a log file) a line every ~10 s, so that a long run never looks dead yet a log stays
 * short (`itasim progress: <what>: ...`, not to be taken for an error). `--quiet`
 * (progressPolicy.quiet) silences both.
 */
import { createRequire } from 'node:module';

// The bar library is loaded when a bar is first drawn (on a terminal only), not with this module.
const require = createRequire(import.meta.url);
let bars: typeof import('cli-progress') | undefined;

export interface Progress {
  increment(n?: number): void;
  /** The value reached, and optionally what else to show (e.g. `1234 cycles`). */
  update(value: number, detail?: string): void;
  stop(): void;
}

/** Set once by the CLI from `--quiet`. */
export const progressPolicy = { quiet: false };

/**
 * Seconds between two progress lines when stderr is not a terminal (ITASIM_PROGRESS_INTERVAL
 * sets another, for tests).
 */
export const LINE_INTERVAL_S = Number(process.env.ITASIM_PROGRESS_INTERVAL) || 10;

const QUIET: Progress = { increment() {}, update() {}, stop() {} };

function seconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** A line every LINE_INTERVAL_S seconds: value, total, share, elapsed and estimated time left. */
function lineProgress(label: string, total: number, unit: string): Progress {
  const start = Date.now();
  let last = start;
  let value = 0;
  let detail = '';
  const show = (): void => {
    const now = Date.now();
    if (now - last < LINE_INTERVAL_S * 1000) return;
    last = now;
    const elapsed = (now - start) / 1000;
    // (a count that passes its total, such as fuzz's runs while it shrinks, shows no share or ETA)
    const known = total > 0 && value <= total;
    const of = known
      ? `${value}/${total}${unit} (${((100 * value) / total).toFixed(0)}%)`
      : `${value}${unit}`;
    const left = known && value > 0 ? `, about ${seconds((elapsed * (total - value)) / value)} left` : '';
    process.stderr.write(
      `itasim progress: ${label}: ${of}${detail ? `, ${detail}` : ''}, ${seconds(elapsed)} elapsed${left}\n`,
    );
  };
  return {
    increment(n = 1) {
      value += n;
      show();
    },
    update(v, d) {
      value = v;
      if (d !== undefined) detail = d;
      show();
    },
    stop() {},
  };
}

/**
 * Progress labelled `label` counting to `total` (0: unknown, then only the value is shown) in
 * `unit` (e.g. ` outputs`, with its leading space).
 */
export function progressBar(label: string, total: number, unit = ''): Progress {
  if (progressPolicy.quiet) return QUIET;
  if (!process.stderr.isTTY) return lineProgress(label, total, unit);
  const format =
    total > 0
      ? `${label.padEnd(18)} {bar} {percentage}% | {value}/{total}${unit}{detail} | eta {eta_formatted}`
      : `${label.padEnd(18)} {value}${unit}{detail}`;
  const cliProgress = (bars ??= require('cli-progress') as typeof import('cli-progress'));
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { detail: '' });
  let value = 0;
  return {
    increment(n = 1) {
      value += n;
      bar.update(value);
    },
    update(v, d) {
      value = v;
      bar.update(v, d === undefined ? {} : { detail: ` | ${d}` });
    },
    stop() {
      bar.stop();
    },
  };
}
