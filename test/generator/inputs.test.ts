/**
 * `generateInputs` against the inputs PyITA drew for every checked-in reference folder: the whole
 * input set as `readInputs` recovers it from the folder, and independently of that reader the
 * untiled tensors of `mha.npz`, the constant files at the folder's root and the activation test
 * input, each compared value by value.
 */
import { describe, expect, it } from 'vitest';
import { loadGolden, PYITA_FOLDERS, text, type FileMap } from '../../golden/archive.ts';
import { generateInputs, geluConstants } from '../../golden/generate.ts';
import { readInputs } from '../../golden/folder.ts';
import { readNpz } from '../../golden/npz.ts';
import type { ItaParams, Tensor } from '../../golden/types.ts';
import { folderParams } from './folders.ts';

const ints = (files: FileMap, path: string): number[] =>
  text(files, path)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => l.trim().split(/\s+/).map(Number));

/** [step][head] table as PyITA's RQS_* files hold it: one row per head, one column per step. */
const transposeRows = (t: number[][]): number[] => t[0]!.flatMap((_, h) => t.map((row) => row[h]!));

describe.each(PYITA_FOLDERS)('generateInputs matches PyITA: %s', (name) => {
  const { params, seed } = folderParams(name);
  const files = loadGolden(`pyita/${name}`);
  const npz = readNpz(files.get('mha.npz')!, 'mha.npz');
  const inp = generateInputs(params, seed);

  const same = (got: Tensor, key: string): void => {
    const want = npz.get(key)!;
    expect(got.shape).toEqual(
      want.shape.length === 3 && got.shape.length === 2 ? want.shape.slice(1) : want.shape,
    );
    expect(got.data).toEqual(want.data);
  };

  it('every input, tensor and constant (readInputs of the folder)', () => {
    expect(inp).toEqual(readInputs(files));
  });

  it('Q, K (= V) and the per-head weights and biases (mha.npz)', () => {
    same(inp.Q, 'q');
    same(inp.K, 'k');
    same(inp.Wq, 'w1');
    same(inp.Wk, 'w2');
    same(inp.Wv, 'w3');
    same(inp.Wo, 'w4');
    same(inp.Bq, 'b1');
    same(inp.Bk, 'b2');
    same(inp.Bv, 'b3');
    same(inp.Bo, 'b4');
  });

  it('requantisation constants (mha.npz and RQS_*.txt)', () => {
    expect(inp.rqsAttn.mult.flat()).toEqual(Array.from(npz.get('rqs_mult')!.data));
    expect(inp.rqsAttn.shift.flat()).toEqual(Array.from(npz.get('rqs_shift')!.data));
    expect(inp.rqsAttn.add.flat()).toEqual(Array.from(npz.get('rqs_add')!.data));
    expect(transposeRows(inp.rqsAttn.mult)).toEqual(ints(files, 'RQS_ATTN_MUL.txt'));
    expect(transposeRows(inp.rqsAttn.shift)).toEqual(ints(files, 'RQS_ATTN_SHIFT.txt'));
    expect(transposeRows(inp.rqsFfn.mult)).toEqual(ints(files, 'RQS_FFN_MUL.txt'));
    expect(transposeRows(inp.rqsFfn.shift)).toEqual(ints(files, 'RQS_FFN_SHIFT.txt'));
    expect(transposeRows(inp.rqsFfn.add)).toEqual(ints(files, 'RQS_FFN_ADD.txt'));
  });

  it('GELU constants', () => {
    const g = geluConstants();
    expect([g.one, g.b, g.c, g.rqsMul, g.rqsShift, g.rqsAdd]).toEqual(
      [
        'GELU_ONE',
        'GELU_B',
        'GELU_C',
        'activation_requant_mult',
        'activation_requant_shift',
        'activation_requant_add',
      ].map((f) => ints(files, `${f}.txt`)[0]),
    );
    expect(inp.gelu).toEqual(g);
  });

  it('activation test input (standalone/preactivation.txt), drawn last', () => {
    expect(inp.preactivation.shape).toEqual([params.S, params.F]);
    expect(Array.from(inp.preactivation.data)).toEqual(ints(files, 'standalone/preactivation.txt'));
  });
});

describe('generateInputs', () => {
  const base: ItaParams = { S: 64, E: 64, P: 64, F: 64, H: 1, activation: 'identity', bias: true };

  it('without bias draws no bias and leaves zero tensors of the right shapes', () => {
    const inp = generateInputs({ ...base, H: 2, bias: false }, 9);
    for (const t of [inp.Bq, inp.Bk, inp.Bv, inp.Bo, inp.Bff, inp.Bff2])
      expect(t.data.every((v) => v === 0)).toBe(true);
    expect([inp.Bq.shape, inp.Bo.shape, inp.Bff.shape, inp.Bff2.shape]).toEqual([
      [2, 64],
      [2, 64],
      [1, 64],
      [1, 64],
    ]);
  });

  it('refuses what testGenerator.py refuses, naming the flag', () => {
    expect(() => generateInputs({ ...base, S: 96 }, 0)).toThrow(
      /^-S must be an integer from 64 to 512 and a multiple of 64, got 96$/,
    );
    expect(() => generateInputs({ ...base, F: 576 }, 0)).toThrow(/^-F must be/);
    expect(() => generateInputs({ ...base, H: 0 }, 0)).toThrow(/^-H must be an integer from 1/);
    expect(() => generateInputs({ ...base, activation: 'tanh' as never }, 0)).toThrow(
      /^--activation must be one of identity, relu, gelu, got tanh$/,
    );
    expect(() => generateInputs(base, -1)).toThrow(/^--seed must be an integer from 0 to 4294967295/);
  });

  it('native seed mode: same shapes and ranges, its own values, deterministic', () => {
    const a = generateInputs({ ...base, H: 2 }, 5, 'native');
    const b = generateInputs({ ...base, H: 2 }, 5, 'native');
    const c = generateInputs({ ...base, H: 2 }, 5, 'pyita');
    expect(a.Q.data).toEqual(b.Q.data);
    expect(a.Q.data).not.toEqual(c.Q.data);
    expect(a.Wq.shape).toEqual(c.Wq.shape);
    expect(a.Q.data.every((v) => v >= -128 && v <= 127)).toBe(true);
    expect(a.Bq.data.every((v) => v >= -(2 ** 13) && v < 2 ** 13)).toBe(true);
    expect(a.rqsAttn.mult.flat().every((v) => v >= 64 && v <= 126)).toBe(true);
    expect(a.preactivation.data.every((v) => v >= -128 && v <= 126)).toBe(true);
  });
});
