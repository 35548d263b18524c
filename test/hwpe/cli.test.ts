/**
 * `itasim hwpe`: a reference folder written to disk runs to PASS with the RTL job table and event
 * log equal; a corrupted expected image gives exit code 1; a missing folder an input error.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGolden } from '../../golden/archive.ts';
import { runHwpeCommand } from '../../scripts/commands/hwpe.ts';
import { InputError } from '../../rtl-model/errors.ts';

const NAME = 'S64_E64_P64_F64_H1_gelu_seed1';
const root = mkdtempSync(join(tmpdir(), 'itasim-hwpe-'));
const dir = join(root, NAME);
for (const [p, data] of loadGolden(`pyita/${NAME}`)) {
  if (p.startsWith('standalone/') || !p.endsWith('.txt')) continue;
  mkdirSync(dirname(join(dir, p)), { recursive: true });
  writeFileSync(join(dir, p), data);
}
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('itasim hwpe', () => {
  it('passes on a reference folder and matches the RTL job table and event log', async () => {
    const out: string[] = [];
    const jobs = join(root, 'jobs.csv');
    const code = await runHwpeCommand({ from: dir, jobsCsv: jobs }, (s) => out.push(s));
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('RTL job table: equal');
    expect(text).toContain('RTL event log: equal');
    expect(text.trimEnd().endsWith('PASS')).toBe(true);
    expect(readFileSync(jobs, 'utf8').split('\n')[1]).toBe('0,Q,53,56,369,370,370,313,317,170,128,5440,4096');
  });
  it('--json reports pass and every image', async () => {
    const out: string[] = [];
    await runHwpeCommand({ from: dir, json: true }, (s) => out.push(s));
    const r = JSON.parse(out.join('\n')) as {
      pass: boolean;
      images: { name: string; mismatches: number }[];
    };
    expect(r.pass).toBe(true);
    expect(r.images.map((i) => i.name)).toEqual(['Q', 'K', 'V', 'QK', 'AV', 'OW', 'F1', 'F2', 'A']);
  });
  it('exits 1 when an image differs', async () => {
    const bad = join(root, `bad_${NAME}`);
    mkdirSync(join(bad, 'hwpe'), { recursive: true });
    for (const [p, data] of loadGolden(`pyita/${NAME}`)) {
      if (p.startsWith('standalone/') || !p.endsWith('.txt')) continue;
      writeFileSync(join(bad, p), data);
    }
    const f = join(bad, 'hwpe', 'OW.txt');
    const lines = readFileSync(f, 'utf8').split('\n');
    lines[7] = lines[7] === '00000000' ? '00000001' : '00000000';
    writeFileSync(f, lines.join('\n'));
    const out: string[] = [];
    expect(await runHwpeCommand({ from: bad }, (s) => out.push(s))).toBe(1);
    expect(out.join('\n')).toContain('OW    1024 words  1 mismatches');
  });
  it('rejects a missing folder as an input error', async () => {
    await expect(runHwpeCommand({ from: join(root, 'nope') }, () => {})).rejects.toBeInstanceOf(InputError);
  });
});
