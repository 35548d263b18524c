/**
 * The place pass: which unit each op runs on, and why. A linear goes to ITA only while its inner
 * dimension fits ITA's TILES register (K <= 960); cluster-only puts everything on the cores;
 * elementwise ops always run on the cores.
 */
import { describe, expect, it } from 'vitest';
import type { TilerOp } from '../../tiler/map.ts';
import { place } from '../../tiler/place.ts';

const mat = (name: string, rows: number, cols: number) => ({ name, rows, cols });
const base = { nodes: ['n'], layer: 0, macs: 0 };
const linear = (K: number): TilerOp => ({
  ...base,
  kind: 'linear',
  x: mat('x', 64, K),
  y: mat('y', 64, 64),
  wT: new Int8Array(64 * K),
  bias: new Int32Array(64),
  rq: { mult: 1, shift: 0, add: 0 },
  act: 'identity',
  actConsts: { b: 0, c: 0, mult: 1, shift: 0, add: 0 },
});
const add: TilerOp = {
  ...base,
  kind: 'add',
  a: mat('a', 64, 64),
  b: mat('b', 64, 64),
  y: mat('y', 64, 64),
  mul: 1,
  add: 0,
  shift: 0,
};

describe('place', () => {
  it('puts a linear on ITA up to K = 960 and on the cores beyond, saying why', () => {
    const [a, b] = place([linear(960), linear(1024)], { clusterOnly: false });
    expect(a).toEqual({ where: 'ita', reason: expect.stringContaining('linear') });
    expect(b!.where).toBe('cores');
    expect(b!.reason).toMatch(/K = 1024 exceeds ITA's 15 inner tiles/);
  });

  it('puts everything on the cores in cluster-only mode', () => {
    const p = place([linear(64), add], { clusterOnly: true });
    expect(p.map((x) => x.where)).toEqual(['cores', 'cores']);
    expect(p[0]!.reason).toMatch(/cluster-only/);
  });

  it('runs a residual add on the cores in ITA mode', () => {
    expect(place([add], { clusterOnly: false })[0]).toEqual({
      where: 'cores',
      reason: expect.stringMatching(/residual add/),
    });
  });
});
