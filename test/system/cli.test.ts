/**
 * `itasim cluster attention`: exit code 0 when every output is bit-exact, 1 on a mismatch (an
 * expected image altered by one word), bad input as InputError (exit 2 in the CLI); the report
 * and the SVG timeline.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGolden } from '../../golden/archive.ts';
import { InputError } from '../../rtl-model/errors.ts';
import { runAttentionCommand, type AttentionReport } from '../../scripts/commands/cluster.ts';

const NAME = 'S64_E64_P64_F64_H1_gelu_seed1';

/** The temporary folders the tests wrote (removed after them). */
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function folder(alter?: (files: Map<string, Uint8Array>) => void): string {
  const files = loadGolden(`pyita/${NAME}`);
  alter?.(files);
  const root = mkdtempSync(join(tmpdir(), 'itasim-att-'));
  roots.push(root);
  const dir = join(root, NAME);
  for (const [p, d] of files) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), d);
  }
  return dir;
}

describe('itasim cluster attention', () => {
  it('bit-exact folder: exit 0, JSON report, SVG timeline', () => {
    const dir = folder();
    const svg = join(dirname(dir), 't.svg');
    const out: string[] = [];
    const code = runAttentionCommand({ from: dir, json: true, svg, wait: 'poll', maxCycles: 100_000 }, (s) =>
      out.push(s),
    );
    expect(code).toBe(0);
    const rep = JSON.parse(out.join('\n')) as AttentionReport;
    expect(rep.pass).toBe(true);
    expect(rep.jobs).toBe(8);
    expect(rep.images.map((i) => i.mismatches)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(rep.itaBusy).toBeGreaterThan(2000);
    // one [start, end) pair per job, in order, summing to the busy cycles
    expect(rep.itaBusyIntervals.length).toBe(8);
    expect(rep.itaBusyIntervals.reduce((s, [a, b]) => s + b - a, 0)).toBe(rep.itaBusy);
    for (let j = 1; j < 8; j++)
      expect(rep.itaBusyIntervals[j]![0]).toBeGreaterThan(rep.itaBusyIntervals[j - 1]![1]);
    expect(rep.itaUtilisationIssue).toBeGreaterThan(0.4);
    expect(rep.dmaBusy).toBeGreaterThan(1000);
    expect(rep.dmaTransfers).toBeGreaterThan(8);
    expect(rep.coreActive.length).toBe(9);
    const pic = readFileSync(svg, 'utf8');
    expect(pic.startsWith('<svg')).toBe(true);
    // one bar per ITA job
    expect(pic.match(/<title>ITA: /g)!.length).toBe(8);
  });

  it('one altered word of an expected image: exit 1, the mismatch named', () => {
    const dir = folder((files) => {
      const t = new TextDecoder().decode(files.get('hwpe/F2.txt')!).split('\n');
      t[5] = t[5] === '00000000' ? '00000001' : '00000000';
      files.set('hwpe/F2.txt', new TextEncoder().encode(t.join('\n')));
    });
    const out: string[] = [];
    const code = runAttentionCommand({ from: dir, wait: 'event', maxCycles: 100_000 }, (s) => out.push(s));
    expect(code).toBe(1);
    const text = out.join('\n');
    expect(text).toMatch(/F2 +1 of 1024 words differ; first word 5/);
    expect(text).toMatch(/FAIL$/);
  });

  it('bad input: a missing folder', () => {
    expect(() => runAttentionCommand({ from: '/nonexistent/x', wait: 'poll', maxCycles: 10 })).toThrow(
      InputError,
    );
  });
});
