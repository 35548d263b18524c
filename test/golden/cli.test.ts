import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGolden } from '../../golden/archive.ts';
import { writeFileMap } from './helpers.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const itasim = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'itasim.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('itasim recompute / compare', () => {
  let dir: string;
  let src: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'itasim-cli-'));
    src = join(dir, 'S128_E64_P128_F128_H2_relu_seed4');
    writeFileMap(src, loadGolden('pyita/S128_E64_P128_F128_H2_relu_seed4'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('recomputes a folder identically (exit 0), then reports a changed value (exit 1)', () => {
    const out = join(dir, 'out');
    let r = itasim('recompute', '--from', src, '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`recomputed S=128 E=64 P=128 F=128 H=2 activation=relu bias=yes -> ${out}\n`);
    r = itasim('compare', src, out);
    expect(r.out).toBe('identical\n');
    expect(r.code).toBe(0);

    const path = join(out, 'standalone', 'Out_soft_1.txt');
    const lines = readFileSync(path, 'utf8').split('\n');
    const old = lines[20]!; // block 0, row 1, column 4
    lines[20] = old === '7' ? '8' : '7';
    writeFileSync(path, lines.join('\n'));
    r = itasim('compare', src, out);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      `standalone/Out_soft_1.txt: step OW: first difference at value 21: Out_soft head 1 row 1 column 4: ${old} vs ${lines[20]}\n1 file(s) differ\n`,
    );
  });

  it('bad input: one line naming the file, exit 2, nothing written', () => {
    const bad = join(dir, 'bad');
    writeFileMap(bad, loadGolden('pyita/S64_E64_P64_F64_H1_gelu_seed1'));
    rmSync(join(bad, 'standalone', 'Bff2_0.txt'));
    const out = join(dir, 'bad-out');
    let r = itasim('recompute', '--from', bad, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`itasim: ${bad}/standalone/Bff2_0.txt: missing file\n`);
    expect(existsSync(out)).toBe(false);

    writeFileSync(join(bad, 'standalone', 'Bff2_0.txt'), '1\n2\n');
    r = itasim('recompute', '--from', bad, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `itasim: ${bad}/standalone/Bff2_0.txt: 2 values, expected 4096 for S=64 E=64 P=64 F=64 H=1\n`,
    );
    expect(existsSync(out)).toBe(false);

    r = itasim('compare', join(dir, 'nowhere'), src);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`itasim: ${join(dir, 'nowhere')}: no such folder\n`);

    r = itasim('recompute', '--from', src, '--out', out, '--activation', 'tanh');
    expect(r.code).toBe(2);
    expect(r.err).toBe("itasim: --activation must be one of identity, relu, gelu, got 'tanh'\n");
  });
});
