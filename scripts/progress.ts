/**
 * Progress for long runs: a bar on a terminal (stderr), nothing when output is not a TTY (CI,
 * pipes), so logs stay clean.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  increment(n?: number): void;
  update(value: number): void;
  stop(): void;
}

const QUIET: Progress = { increment() {}, update() {}, stop() {} };

/** A progress bar labelled `label` counting to `total`. */
export function progressBar(label: string, total: number): Progress {
  if (!process.stderr.isTTY) return QUIET;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(18)} {bar} {percentage}% | {value}/{total} | eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let value = 0;
  return {
    increment(n = 1) {
      value += n;
      bar.update(value);
    },
    update(v) {
      value = v;
      bar.update(v);
    },
    stop() {
      bar.stop();
    },
  };
}
