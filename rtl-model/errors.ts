/**
 * An error in what the user gave (a parameter, a file, a value out of range). The CLI prints its
 * message as one line and exits with code 2; it never shows a stack trace.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * The largest seed of every command: `--seed` takes 0 to this everywhere (a 32-bit word, the
 * largest numpy's `seed(int)` takes).
 */
export const SEED_MAX = 0xffffffff;

/**
 * Checks that `value` is an integer in [lo, hi] (and a multiple of `step` if given). A string is
 * what the user typed: it is parsed here and quoted as typed in the error.
 */
export function checkInt(name: string, value: number | string, lo: number, hi: number, step = 1): number {
  const n = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < lo || n > hi || n % step !== 0) {
    const mult = step !== 1 ? ` and a multiple of ${step}` : '';
    const got = typeof value === 'number' ? String(value) : `'${value}'`;
    throw new InputError(`${name} must be an integer from ${lo} to ${hi}${mult}, got ${got}`);
  }
  return n;
}

/**
 * A failure to write an output the user named (a folder that is missing or read-only, a path that
 * is a folder, a full disk, an existing file not to be replaced). The CLI prints its message as one
 * line, `<parameter>: <path>: <reason>`, and exits with code 2.
 */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}
