/**
 * `itasim fuzz`: runs the properties of `fuzz/properties.ts` at scale, with a progress bar, and on
 * a failure writes the shrunk counterexample and prints the command that replays it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import fc from 'fast-check';
import { INJECTIONS, injectionByName } from '../../fuzz/inject.ts';
import {
  PROPERTIES,
  itaVsRef,
  propertyByName,
  setInjection,
  stallInsensitivity,
  type FuzzProperty,
} from '../../fuzz/properties.ts';
import { outputError, writeFileAtomic } from '../../golden/atomic.ts';
import { InputError, SEED_MAX } from '../../rtl-model/errors.ts';
import { progressBar } from '../progress.ts';

interface FuzzOptions {
  runs: string;
  seed?: string;
  property?: string[];
  out: string;
  path?: string;
  inject?: string;
  maxShift?: string;
}

function parseIntOption(flag: string, v: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new InputError(`${flag} must be an integer from ${lo} to ${hi}, got '${v}'`);
  }
  return n;
}

/** A replay path as fast-check prints it (numbers separated by colons), or an InputError. */
function checkPath(path: string): string {
  if (!/^\d+(:\d+)*$/.test(path))
    throw new InputError(
      `--path must be the path a failure printed (numbers separated by colons, e.g. 12:0:3), got '${path}'`,
    );
  return path;
}

/** The JSON form of a counterexample (typed arrays as plain arrays). */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as Int32Array) : x), 2);
}

interface Outcome {
  property: string;
  runs: number;
  failed: boolean;
  message?: string;
  seed: number;
  path?: string;
  counterexample?: unknown;
  shrinks?: number;
}

/** Runs one property; returns what happened. */
export function runProperty(
  p: FuzzProperty,
  runs: number,
  seed: number,
  path?: string,
  tick?: () => void,
): Outcome {
  let count = 0;
  const prop = fc.property(p.arbitrary, (v) => {
    count++;
    tick?.();
    const msg = p.check(v);
    if (typeof msg === 'string') throw new Error(msg);
  });
  const params: fc.Parameters<[unknown]> = { numRuns: runs, seed };
  if (path !== undefined) params.path = checkPath(path);
  let r;
  try {
    r = fc.check(prop, params);
  } catch (e) {
    // fast-check's own words for a path that leads nowhere in this property's cases
    if (path !== undefined && e instanceof Error && /replay/i.test(e.message))
      throw new InputError(
        `--path ${path} leads to no case of property ${p.name} with seed ${seed} (use the --seed and --property printed with it)`,
      );
    throw e;
  }
  if (!r.failed) return { property: p.name, runs: count, failed: false, seed };
  const err = r.errorInstance;
  return {
    property: p.name,
    runs: r.numRuns,
    failed: true,
    message: err instanceof Error ? err.message : String(err),
    seed,
    path: r.counterexamplePath ?? undefined,
    shrinks: r.numShrinks,
    counterexample: r.counterexample?.[0],
  };
}

/** Defines `itasim fuzz` (its flags and action) on the command `index.ts` names and describes. */
export function register(cmd: Command): void {
  cmd
    .option('--runs <n>', 'runs per property', '1000')
    .option('--seed <s>', `seed of the random generator (0..${SEED_MAX}; default: a fresh one, printed)`)
    .option('--property <name...>', `properties to run (${PROPERTIES.map((p) => p.name).join(', ')})`)
    .option('--out <dir>', 'folder for counterexamples', 'fuzz-failures')
    .option('--path <p>', 'replay one shrunk case (with --seed and --property, as printed on a failure)')
    .option(
      '--inject <name>',
      `run the cycle-level ITA with a deliberate fault (${INJECTIONS.map((i) => i.name).join(', ')})`,
    )
    .option(
      '--max-shift <n>',
      'largest requantisation shift the ITA-level properties draw (0..255; default 255, the whole range)',
    )
    .action((o: FuzzOptions) => {
      const runs = parseIntOption('--runs', o.runs, 1, 100_000_000);
      const seed =
        o.seed === undefined ? Date.now() % 2 ** 31 : parseIntOption('--seed', o.seed, 0, SEED_MAX);
      if (o.inject !== undefined) injectionByName(o.inject);
      setInjection(o.inject);
      const maxShift =
        o.maxShift === undefined ? undefined : parseIntOption('--max-shift', o.maxShift, 0, 255);
      const names = o.property ?? PROPERTIES.map((p) => p.name);
      const props = names.map((n) => {
        if (maxShift !== undefined && n === 'ita-vs-ref') return itaVsRef({ maxShift });
        if (maxShift !== undefined && n === 'stall-insensitivity') return stallInsensitivity({ maxShift });
        const p = propertyByName(n);
        if (!p)
          throw new InputError(
            `--property '${n}' is unknown; known: ${PROPERTIES.map((q) => q.name).join(', ')}`,
          );
        return p;
      });
      if (o.path !== undefined && props.length !== 1)
        throw new InputError('--path replays exactly one --property');
      if (o.path !== undefined) checkPath(o.path);
      console.log(`seed ${seed}, ${runs} runs per property${o.inject ? `, injected fault ${o.inject}` : ''}`);
      const extra = [
        ...(o.inject ? [`--inject ${o.inject}`] : []),
        ...(maxShift !== undefined ? [`--max-shift ${maxShift}`] : []),
      ].join(' ');
      let failures = 0;
      for (const p of props) {
        const bar = progressBar(`${p.name}`, runs);
        const r = runProperty(p, runs, seed, o.path, () => bar.increment());
        bar.stop();
        if (!r.failed) {
          console.log(`  ok    ${p.name} (${r.runs} runs)`);
          continue;
        }
        failures++;
        // The verdict is printed before the reproducer is written, so that a failed write does not hide it.
        console.log(`  FAIL  ${p.name} after ${r.runs} runs (${r.shrinks} shrinks): ${r.message}`);
        const dir = join(o.out, `${p.name}-seed${seed}`);
        try {
          mkdirSync(dir, { recursive: true });
        } catch (e) {
          throw outputError('--out', dir, e);
        }
        writeFileAtomic(join(dir, 'counterexample.json'), toJson(r.counterexample) + '\n', '--out');
        const replay = `itasim fuzz --property ${p.name} --seed ${seed} --path ${r.path} --runs 1${extra ? ' ' + extra : ''}`;
        const written = p.reproduce ? p.reproduce(r.counterexample, dir) : { files: [], note: '' };
        writeFileAtomic(
          join(dir, 'README.txt'),
          `${p.description}\nfailed after ${r.runs} runs: ${r.message}\n` +
            (o.inject ? `injected fault: ${o.inject}\n` : '') +
            (written.note ? `${written.note}\n` : '') +
            written.files.map((f) => `${f}\n`).join('') +
            `replay: ${replay}\n`,
          '--out',
        );
        console.log(`        shrunk counterexample: ${join(dir, 'counterexample.json')}`);
        for (const f of written.files) console.log(`        ${f}`);
        if (written.note) console.log(`        ${written.note}`);
        console.log(`        replay: ${replay}`);
      }
      if (failures) process.exitCode = 1;
    });
}
