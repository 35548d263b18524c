/**
 * The fuzzer finds deliberately injected datapath faults (fuzz/inject.ts) within a few runs at a
 * fixed seed and shrinks them to 64 x 64 x 64 cases with a handful of non-zero elements; and
 * `itasim fuzz` writes the reproducer (PyITA folder, VCD, replay command) that fails again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { INJECTIONS } from '../../fuzz/inject.ts';
import { inputsOf, nonZeros, type ItaFuzzCase } from '../../fuzz/ita-case.ts';
import { itaVsRef, setInjection, toFcProperty } from '../../fuzz/properties.ts';

const SEED = 20241124;
/** Runs allowed before the fault must have been found (the CLI's bound is 1000). */
const FIND_WITHIN = 50;
/** Non-zero tensor elements allowed in the shrunk case. */
const HANDFUL = 8;

describe('injected faults are found and shrunk', () => {
  afterAll(() => setInjection(undefined));
  // The documented fault; the others are shrunk by `itasim fuzz` (slower: up to a few hundred runs).
  for (const inj of INJECTIONS.filter((i) => i.name === 'requant-round-lane5')) {
    it(`${inj.name}: found within ${FIND_WITHIN} runs, shrunk to S=E=P=64 and <= ${HANDFUL} non-zeros`, () => {
      setInjection(inj.name);
      const r = fc.check(toFcProperty(itaVsRef()), { seed: SEED, numRuns: 1000 });
      setInjection(undefined);
      expect(r.failed).toBe(true);
      expect(r.numRuns).toBeLessThanOrEqual(FIND_WITHIN);
      const f = r.counterexample![0] as ItaFuzzCase;
      expect([f.params.S, f.params.E, f.params.P, f.params.H]).toEqual([64, 64, 64, 1]);
      const nz = Object.values(nonZeros(inputsOf(f))).reduce((a, b) => a + b, 0);
      expect(nz).toBeLessThanOrEqual(HANDFUL);
      // without the fault the shrunk case passes: the failure is the fault's
      expect(itaVsRef().check(f)).toBeUndefined();
    });
  }
});

describe('itasim fuzz writes a reproducer that replays the failure', () => {
  const out = mkdtempSync(join(tmpdir(), 'itasim-fuzz-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const cli = (args: string[]): { code: number; stdout: string } => {
    try {
      const stdout = execFileSync(process.execPath, ['bin/itasim.js', 'fuzz', ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { code: 0, stdout };
    } catch (e) {
      const err = e as { status: number; stdout: string };
      return { code: err.status, stdout: err.stdout };
    }
  };
  it('--inject requant-round-lane5: folder, VCD, README with the replay command; the replay fails', () => {
    const r = cli([
      '--property',
      'ita-vs-ref',
      '--inject',
      'requant-round-lane5',
      '--max-shift',
      '35',
      '--seed',
      String(SEED),
      '--runs',
      '1000',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}ita-vs-ref after \d+ runs/);
    const dir = join(out, `ita-vs-ref-seed${SEED}`);
    expect(existsSync(join(dir, 'folder', 'standalone', 'Q.txt'))).toBe(true);
    expect(existsSync(join(dir, 'folder', 'mha.npz'))).toBe(true);
    expect(readFileSync(join(dir, 'ita.vcd'), 'utf8')).toMatch(/\$enddefinitions/);
    const readme = readFileSync(join(dir, 'README.txt'), 'utf8');
    const replay = /replay: itasim fuzz (.*)/.exec(readme)![1]!.split(' ');
    expect(replay).toContain('--inject');
    const again = cli([...replay, '--out', join(out, 'replay')]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/after 1 runs/);
    // the same case without the fault passes
    const i = replay.indexOf('--inject');
    const clean = cli([...replay.slice(0, i), ...replay.slice(i + 2), '--out', join(out, 'clean')]);
    expect(clean.code).toBe(0);
  });
});
