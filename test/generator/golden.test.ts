/**
 * `itasim golden` against every checked-in PyITA folder: the same file set, every file byte for
 * byte (the C header's command line included, since the request is the folder's own), `mha.npz`
 * by content (member names, dtypes, shapes and values; the zip container itself differs).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGolden, PYITA_FOLDERS, type FileMap } from '../../golden/archive.ts';
import { readFolderFiles } from '../../golden/folder.ts';
import { findConstantOutput, neighbourDiffMeans } from '../../golden/generate.ts';
import { readNpz } from '../../golden/npz.ts';
import type { ItaOutputs, Tensor } from '../../golden/types.ts';
import { Command } from 'commander';
import {
  buildGolden,
  register,
  testGeneratorCommandLine,
  type GoldenRequest,
} from '../../scripts/commands/golden.ts';
import { folderArgs, folderParams } from './folders.ts';

const HEADER = 'snitch-cluster/mem_snitch_cluster.h';
const dec = new TextDecoder();

function requestFor(name: string, out = '/nonexistent'): GoldenRequest {
  const { params, seed } = folderParams(name);
  return { params, seed, out, exportSnitchCluster: true, seedMode: 'pyita', skipVectorValidation: false };
}

/** Compares two folders file by file; returns a list of differences (empty when identical). */
function folderDiff(got: FileMap, want: FileMap): string[] {
  const diffs: string[] = [];
  const names = new Set([...got.keys(), ...want.keys()]);
  for (const name of [...names].sort()) {
    const a = got.get(name);
    const b = want.get(name);
    if (!a || !b) {
      diffs.push(`${name}: only in ${a ? 'generated' : 'reference'}`);
    } else if (name === 'mha.npz') {
      const na = readNpz(a, 'generated mha.npz');
      const nb = readNpz(b, 'reference mha.npz');
      if ([...na.keys()].sort().join() !== [...nb.keys()].sort().join())
        diffs.push(`${name}: members differ`);
      for (const [k, arr] of nb) {
        const g = na.get(k);
        if (
          !g ||
          g.dtype !== arr.dtype ||
          g.shape.join() !== arr.shape.join() ||
          !g.data.every((v, i) => v === arr.data[i])
        ) {
          diffs.push(`${name}: member ${k} differs`);
        }
      }
    } else if (name === HEADER) {
      const [la, ...ra] = dec.decode(a).split('\n');
      const [lb, ...rb] = dec.decode(b).split('\n');
      if (ra.join('\n') !== rb.join('\n')) diffs.push(`${name}: body differs`);
      if (la !== lb) diffs.push(`${name}: first line differs: ${la} / ${lb}`);
    } else if (a.length !== b.length || !a.every((v, i) => v === b[i])) {
      const at = dec.decode(a).split('\n');
      const bt = dec.decode(b).split('\n');
      const line = at.findIndex((l, i) => l !== bt[i]);
      diffs.push(`${name}: differs at line ${line + 1} (${at[line]} vs ${bt[line]})`);
    }
  }
  return diffs;
}

describe.each(PYITA_FOLDERS)('itasim golden reproduces %s', (name) => {
  it('every file', () => {
    const { files } = buildGolden(requestFor(name));
    expect(folderDiff(files, loadGolden(`pyita/${name}`))).toEqual([]);
  });
});

describe('itasim golden', () => {
  it('quotes the testGenerator.py command line the way the reference headers do', () => {
    for (const name of PYITA_FOLDERS) {
      expect(testGeneratorCommandLine(requestFor(name))).toBe(
        ['testGenerator.py', ...folderArgs(name)].join(' '),
      );
    }
  });

  it('the command line writes the folder (atomically) and refuses bad flags with exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itasim-golden-'));
    try {
      const name = 'S64_E64_P64_F64_H1_relu_seed2_nobias';
      const out = join(dir, 'case');
      const bin = join(import.meta.dirname, '../../bin/itasim.js');
      const ok = spawnSync(process.execPath, [bin, 'golden', ...folderArgs(name), '--out', out], {
        encoding: 'utf8',
      });
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      expect(readdirSync(dir)).toEqual(['case']); // no temporary folder left behind
      expect(readdirSync(join(out, 'mempool'))).toEqual([]); // PyITA's empty sub-folder
      expect(folderDiff(readFolderFiles(out), loadGolden(`pyita/${name}`))).toEqual([]);

      const bad = spawnSync(process.execPath, [bin, 'golden', '-P', '100', '--out', join(dir, 'bad')], {
        encoding: 'utf8',
      });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toBe(
        "itasim: -P must be an integer from 64 to 512 and a multiple of 64, got '100'\n",
      );
      expect(existsSync(join(dir, 'bad'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('writes the same folder with worker threads (--threads 2) as with one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itasim-golden-threads-'));
    try {
      const name = 'S128_E128_P64_F256_H4_gelu_seed3';
      const out = join(dir, 'case');
      const bin = join(import.meta.dirname, '../../bin/itasim.js');
      const args = [bin, 'golden', ...folderArgs(name), '--threads', '2', '--out', out];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readdirSync(dir)).toEqual(['case']);
      expect(folderDiff(readFolderFiles(out), loadGolden(`pyita/${name}`))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('itasim golden flag errors (one line naming the flag and the allowed values)', () => {
  const parse = (args: string[]): void => {
    const program = new Command().exitOverride();
    register(program.command('golden'));
    program.parse(['golden', ...args, '--out', '/nonexistent/never-written'], { from: 'user' });
  };
  it.each([
    [['-S', '65'], "-S must be an integer from 64 to 512 and a multiple of 64, got '65'"],
    [['-E', '1024'], "-E must be an integer from 64 to 512 and a multiple of 64, got '1024'"],
    [['-F', '6.4e1'], "-F must be an integer from 64 to 512 and a multiple of 64, got '6.4e1'"],
    [['-H', '0'], "-H must be an integer from 1 to 256, got '0'"],
    [['--activation', 'Gelu'], "--activation must be one of identity, relu, gelu, got 'Gelu'"],
    [['--seed', '4294967296'], "--seed must be an integer from -1 to 4294967295, got '4294967296'"],
    [['--seed-mode', 'fast'], "--seed-mode must be one of pyita, native, got 'fast'"],
    [['--export-mempool'], /^--export-mempool is not supported by itasim golden \(supported: -S -E/],
    [['--no-partial-softmax'], /^--no-partial-softmax is not supported/],
  ] as [string[], string | RegExp][])('%j', (args, message) => {
    expect(() => parse(args)).toThrow(message);
  });
});

describe('PyITA constant-output check', () => {
  const t = (shape: number[], values: number[]): Tensor => ({ shape, data: Int32Array.from(values) });
  const varied = t([1, 2, 3], [1, 5, -3, 7, 0, 2]);
  const outputs = (over: Partial<ItaOutputs>): ItaOutputs =>
    ({
      Qp: varied,
      Kp: varied,
      Vp: varied,
      A: varied,
      A_soft: varied,
      O_soft: varied,
      Out_soft: varied,
      Out_soft_sum: varied,
      ...over,
    }) as ItaOutputs;

  it('passes varied tensors and names the first constant one', () => {
    expect(findConstantOutput(outputs({}))).toBeUndefined();
    expect(findConstantOutput(outputs({ Vp: t([1, 2, 3], [4, 4, 4, 4, 4, 4]) }))).toBe('Vp');
    // Rows equal to each other: constant along the row axis only.
    expect(findConstantOutput(outputs({ A: t([1, 2, 3], [1, 2, 3, 1, 2, 3]) }))).toBe('A');
  });

  it('sums |np.diff| exactly over heads of every size', () => {
    // The definition, value by value (int8: |-128| stays -128; uint8: the wrapped difference).
    const direct = (x: Tensor, unsigned: boolean): [number, number] => {
      const [H, R, C] = x.shape as [number, number, number];
      const abs = (a: number, b: number) => {
        const d = (b - a) & 0xff;
        if (unsigned) return d;
        const v = d >= 128 ? d - 256 : d;
        return v === -128 ? -128 : Math.abs(v);
      };
      let row = 0;
      let col = 0;
      for (let h = 0; h < H; h++)
        for (let r = 0; r < R; r++)
          for (let c = 0; c < C; c++) {
            const i = (h * R + r) * C + c;
            if (r + 1 < R) row += abs(x.data[i]!, x.data[i + C]!);
            if (c + 1 < C) col += abs(x.data[i]!, x.data[i + 1]!);
          }
      return [row / (H * (R - 1) * C), col / (H * R * (C - 1))];
    };
    let s = 7;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    for (const shape of [
      [1, 2, 2],
      [3, 5, 7],
      [2, 64, 64],
      [1, 512, 512],
    ])
      for (const unsigned of [false, true]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = t(
          shape,
          Array.from({ length: n }, () => (unsigned ? next() : next() - 128)),
        );
        expect(neighbourDiffMeans(x, unsigned)).toEqual(direct(x, unsigned));
      }
  });

  it('wraps differences in int8 like np.diff (|-128| stays -128) and in uint8 for A_soft', () => {
    // 0 - (-128) wraps to -128 in int8: numpy's mean of |diff| is negative, hence "constant".
    expect(findConstantOutput(outputs({ Qp: t([1, 2, 2], [-128, 0, 0, -128]) }))).toBe('Qp');
    // The same bytes in uint8 (A_soft: 128, 0 / 0, 128) differ by 128 both ways.
    expect(findConstantOutput(outputs({ A_soft: t([1, 2, 2], [128, 0, 0, 128]) }))).toBeUndefined();
  });
});
