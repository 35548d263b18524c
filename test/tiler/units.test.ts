/**
 * The split pass on its own (no cycle-level run): which units an op becomes, which buffers each
 * uses and produces, how many ITA jobs or core kernels it holds, on ITA and on the cores.
 */
import { describe, expect, it } from 'vitest';
import type { MappedGraph, TilerOp } from '../../tiler/map.ts';
import { place } from '../../tiler/place.ts';
import { splitUnits } from '../../tiler/units.ts';

const mat = (name: string, rows: number, cols: number) => ({ name, rows, cols });
const base = { nodes: ['n'], layer: 0, macs: 0 };

const x = mat('x', 128, 64);
const y = mat('y', 128, 128);
const linear: TilerOp = {
  ...base,
  nodes: ['lin'],
  kind: 'linear',
  x,
  y,
  wT: new Int8Array(128 * 64),
  bias: new Int32Array(128),
  rq: { mult: 1, shift: 0, add: 0 },
  act: 'identity',
  actConsts: { b: 0, c: 0, mult: 1, shift: 0, add: 0 },
};
const add: TilerOp = {
  ...base,
  nodes: ['res'],
  kind: 'add',
  a: y,
  b: y,
  y: mat('z', 128, 128),
  mul: 1,
  add: 0,
  shift: 1,
};

function split(ops: TilerOp[], clusterOnly: boolean) {
  const g: MappedGraph = { ops, mats: new Map(), inputs: [x], aliases: [] };
  let next = 0;
  return splitUnits(g, {
    placed: place(ops, { clusterOnly }),
    l1Size: 119 * 1024,
    dramAlloc: (b) => {
      const a = next;
      next += Math.ceil(b / 64) * 64;
      return a;
    },
  });
}

describe('split (units.ts)', () => {
  it('cuts a linear into one ITA unit per 64-row block, one job per output tile and inner tile', () => {
    const s = split([linear], false);
    expect(s.units.map((u) => [u.label, u.unit, u.jobs.length, u.kernels.length])).toEqual([
      ['lin/r0c0', 'ita', 2, 0],
      ['lin/r1c0', 'ita', 2, 0],
    ]);
    const u = s.units[1]!;
    expect(u.uses).toEqual(['x:r1', 'lin/w0', 'lin/b24_0', 'y:r1']);
    expect(u.produces).toEqual(['y:r1']);
    // the ITA sequence: PRELOAD first, NEXTLOAD with the next weights after
    expect(u.jobs.map((j) => [j.preload, j.next?.key ?? null])).toEqual([
      [true, 'lin/w0'],
      [false, null],
    ]);
    // every activation has its DRAM home, the input first
    expect([...s.matAddr.keys()]).toEqual(['x', 'y']);
  });

  it('gives the cores 8 kernels (one per hart) per unit in cluster-only mode, int32 biases', () => {
    const s = split([linear], true);
    expect(s.units.map((u) => [u.unit, u.jobs.length, u.kernels.length])).toEqual([
      ['cores', 0, 8],
      ['cores', 0, 8],
    ]);
    expect(s.units[0]!.uses).toContain('lin/b32_0');
  });

  it('reads a residual add from its requantisation table, one unit per row block', () => {
    const s = split([linear, add], false);
    const adds = s.units.filter((u) => u.op === 1);
    expect(adds.map((u) => u.label)).toEqual(['res/r0c0', 'res/r1c0']);
    expect(adds[0]!.uses).toEqual(['y:r0', 'y:r0', 'z:r0', 'res/lut']);
    expect(s.bufs.get('res/lut')!.bytes).toBe(512);
  });
});
