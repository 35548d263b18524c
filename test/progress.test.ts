/**
 * Progress without a terminal (as under vitest): a line every LINE_INTERVAL_S seconds with the
 * share done and the time left while the count is within its total; nothing with --quiet.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LINE_INTERVAL_S, progressBar, progressPolicy } from '../scripts/progress.ts';

describe('progress lines', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    vi.useFakeTimers();
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      lines.push(String(s));
      return true;
    });
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    progressPolicy.quiet = false;
  });
  const later = (): void => void vi.advanceTimersByTime(LINE_INTERVAL_S * 1000 + 1);

  it('a line per interval, with share and time left', () => {
    const p = progressBar('sim', 10, ' outputs');
    p.update(2);
    expect(lines).toEqual([]);
    later();
    p.update(5, 'cycle 4096');
    expect(lines).toEqual([
      `itasim progress: sim: 5/10 outputs (50%), cycle 4096, ${LINE_INTERVAL_S} s elapsed, about ${LINE_INTERVAL_S} s left\n`,
    ]);
  });
  it('a count past its total (fuzz shrinking) shows neither share nor time left', () => {
    const p = progressBar('requant', 20);
    later();
    p.update(161);
    expect(lines).toEqual([`itasim progress: requant: 161, ${LINE_INTERVAL_S} s elapsed\n`]);
  });
  it('--quiet: nothing', () => {
    progressPolicy.quiet = true;
    const p = progressBar('sim', 10);
    later();
    p.update(5);
    expect(lines).toEqual([]);
  });
});
