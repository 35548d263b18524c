/**
 * `itasim deploy` on small synthetic ONNX graphs written with onnx/writer.ts: a Gemm (transB, a
 * bias per column) + RequantShift on ITA followed by an iNoNorm with one weight per element on the
 * cores, in ITA mode and cluster-only, bit-exact against the executor and against an outputs.npz;
 * the same linear feeding an iSoftmax; a wrong reference is caught; nodes without a mapping are
 * refused with one line and exit code 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindInputs, runGraph } from '../../onnx/executor.ts';
import { loadModel } from '../../onnx/model.ts';
import { readNpz, writeNpz } from '../../onnx/npz.ts';
import type { Tensor } from '../../onnx/tensor.ts';
import { attr, buildModel, type GraphSpec, type NodeSpec } from '../../onnx/writer.ts';
import { deploy } from '../../tiler/deploy.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const itasim = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'itasim.js'), 'deploy', ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** Deterministic values in lo..hi. */
const vals = (n: number, lo: number, hi: number, seed: number): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((i * 7919 + seed * 104729 + ((i * i) % 613)) % (hi - lo + 1)));

const S = 64;
const K = 128;
const N = 64;

interface Case {
  onnx: string;
  inputs: string;
  outputs: string;
  /** The executor's outputs, as written to outputs.npz. */
  want: Map<string, Tensor>;
}

/** Writes `graph` as network.onnx, input `x` as inputs.npz and the executor's outputs.npz. */
function writeCase(dir: string, graph: GraphSpec, x: Tensor): Case {
  const onnx = join(dir, 'network.onnx');
  writeFileSync(onnx, buildModel(graph));
  const inputs = join(dir, 'inputs.npz');
  writeNpz(inputs, new Map([['x', x]]));
  const g = loadModel(onnx);
  const want = runGraph(g, bindInputs(g, readNpz(inputs))).outputs;
  const outputs = join(dir, 'outputs.npz');
  writeNpz(outputs, want);
  return { onnx, inputs, outputs, want };
}

/**
 * x[S, K] -> Gemm(transB, W[N, K], C[N]) -> RequantShift -> iNoNorm(w[S, N], b[N]) -> y, written
 * with its inputs.npz and (from the executor) outputs.npz. `extra` replaces the iNoNorm.
 */
function writeNetwork(dir: string, extra?: NodeSpec): Case {
  const nodes: NodeSpec[] = [
    {
      op: 'Gemm',
      name: 'gemm',
      inputs: ['x', 'W', 'C'],
      outputs: ['acc'],
      attrs: { alpha: attr.int(1), beta: attr.int(1), transB: attr.int(1) },
    },
    {
      op: 'RequantShift',
      name: 'rq',
      inputs: ['acc', 'mul', 'add'],
      outputs: ['h'],
      attrs: { div: attr.int(2 ** 14), n_levels: attr.int(256), signed: attr.int(1) },
    },
    extra ?? {
      op: 'iNoNorm',
      name: 'nonorm',
      inputs: ['h', 'nw', 'nb'],
      outputs: ['y'],
      attrs: { D: attr.int(2 ** 10), mul: attr.int(37), n_levels: attr.int(256) },
    },
  ];
  return writeCase(
    dir,
    {
      inputs: [{ name: 'x', shape: [S, K], type: 'int8' }],
      outputs: [{ name: 'y', type: 'int8' }],
      nodes,
      initializers: {
        W: { shape: [N, K], values: vals(N * K, -128, 127, 1), type: 'int8' },
        C: { shape: [N], values: vals(N, -3000, 3000, 2), type: 'int32' },
        mul: { shape: [1], values: [90], type: 'int32' },
        add: { shape: [1], values: [3 * 2 ** 14], type: 'int32' },
        nw: { shape: [S, N], values: vals(S * N, -100, 100, 3), type: 'int32' },
        nb: { shape: [N], values: vals(N, -400, 400, 4), type: 'int32' },
      },
    },
    { shape: [S, K], data: Float64Array.from(vals(S * K, -128, 127, 5)), signed: true },
  );
}

describe('itasim deploy', () => {
  let dir: string;
  let net: ReturnType<typeof writeNetwork>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'itasim-deploy-'));
    net = writeNetwork(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs Gemm + RequantShift on ITA and a per-element iNoNorm on the cores, bit-exact', () => {
    const r = deploy(net.onnx, net.inputs, { compare: net.outputs });
    expect(r.perOp.map((o) => [o.op, o.where, o.pass])).toEqual([
      ['Gemm', 'ita', true],
      ['iNoNorm', 'cores', true],
    ]);
    expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
    expect(r.pass).toBe(true);
    expect(r.perOp[0]!.itaBusy).toBeGreaterThan(0);
    expect(r.perOp.reduce((n, o) => n + o.cycles, 0)).toBe(r.cycles);
    expect(r.itaOpShare).toBeGreaterThan(0);
  });

  it('runs everything on the cores with cluster-only, same outputs, more cycles', () => {
    const ita = deploy(net.onnx, net.inputs, { compare: net.outputs });
    const co = deploy(net.onnx, net.inputs, { compare: net.outputs, clusterOnly: true });
    expect(co.pass).toBe(true);
    expect(co.perOp.map((o) => o.where)).toEqual(['cores', 'cores']);
    expect(co.perOp[0]!.reason).toMatch(/cluster-only/);
    expect(co.itaBusy).toBe(0);
    expect(co.cycles).toBeGreaterThan(ita.cycles);
  });

  it('catches a reference output that differs in one element', () => {
    const y = readNpz(net.outputs).get('y')!;
    y.data[100] = y.data[100] === 5 ? 6 : 5;
    const bad = join(dir, 'bad.npz');
    writeNpz(bad, new Map([['y', { shape: y.shape, data: y.data, signed: true }]]));
    const r = deploy(net.onnx, net.inputs, { compare: bad });
    expect(r.compare![0]!.pass).toBe(false);
    expect(r.pass).toBe(false);
  });

  it('prints JSON with pass, cycles and per-op rows (exit 0)', () => {
    const r = itasim(net.onnx, '--inputs', net.inputs, '--compare', net.outputs, '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.pass).toBe(true);
    expect(j.cycles).toBeGreaterThan(0);
    expect(j.perOp[1]).toMatchObject({ op: 'iNoNorm', name: 'nonorm', where: 'cores' });
    for (const row of j.perOp) expect(Object.keys(row)).toEqual(expect.arrayContaining(['cycles', 'reason']));
  });

  it('runs an iSoftmax after the linear on the cores, bit-exact against the executor and outputs.npz', () => {
    const n = writeNetwork(mkdtempSync(join(dir, 'softmax-')), {
      op: 'iSoftmax',
      name: 'sm',
      inputs: ['h'],
      outputs: ['y'],
      attrs: {
        coeffA: attr.int(1),
        coeffB: attr.int(345),
        coeffC: attr.int(62395),
        log2: attr.int(255),
        n_levels: attr.int(256),
      },
    });
    const r = deploy(n.onnx, n.inputs, { compare: n.outputs });
    expect(r.perOp.map((o) => [o.op, o.where, o.pass])).toEqual([
      ['Gemm', 'ita', true],
      ['iSoftmax', 'cores', true],
    ]);
    expect(r.pass).toBe(true);
  });

  it("runs a padded Gemm (bias per element, requantiser per row) as Deeploy's int32 gemm, bit-exact", () => {
    // the shape of Deeploy's GEMM/TransB_RQ kernel test: 20 x 100 times 100 x 10, nothing a multiple of 64
    const c = writeCase(
      mkdtempSync(join(dir, 'dgemm-')),
      {
        inputs: [{ name: 'x', shape: [20, 100], type: 'int8' }],
        outputs: [{ name: 'y', type: 'int8' }],
        nodes: [
          {
            op: 'Gemm',
            name: 'gemm',
            inputs: ['x', 'W', 'C'],
            outputs: ['acc'],
            attrs: { transB: attr.int(1) },
          },
          {
            op: 'RequantShift',
            name: 'rq',
            inputs: ['acc', 'mul', 'add'],
            outputs: ['y'],
            attrs: { div: attr.int(2 ** 16), n_levels: attr.int(256), signed: attr.int(1) },
          },
        ],
        initializers: {
          W: { shape: [10, 100], values: vals(1000, -128, 127, 6), type: 'int8' },
          C: { shape: [20, 10], values: vals(200, -128, 127, 7), type: 'int32' },
          mul: { shape: [20, 1], values: vals(20, 10, 99, 8), type: 'int32' },
          add: { shape: [20, 1], values: vals(20, -1200000, 1200000, 9), type: 'int32' },
        },
      },
      { shape: [20, 100], data: Float64Array.from(vals(2000, -128, 127, 10)), signed: true },
    );
    const r = deploy(c.onnx, c.inputs, { compare: c.outputs });
    expect(r.perOp.map((o) => [o.kind, o.where, o.pass])).toEqual([['dgemm', 'cores', true]]);
    expect(r.perOp[0]!.reason).toMatch(/a bias per element/);
    expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
  });

  it('sums a long K (1024: A block and weights beyond L1) in chunks, bit-exact', () => {
    // the shape of Deeploy's GEMM/Regular_RQPerColumn kernel test, with 2 rows and 3 outputs
    const c = writeCase(
      mkdtempSync(join(dir, 'longk-')),
      {
        inputs: [{ name: 'x', shape: [2, 1024], type: 'int8' }],
        outputs: [{ name: 'y', type: 'uint8' }],
        nodes: [
          {
            op: 'Gemm',
            name: 'gemm',
            inputs: ['x', 'W', 'B'],
            outputs: ['acc'],
            attrs: { transB: attr.int(1) },
          },
          {
            op: 'RequantShift',
            name: 'rq',
            inputs: ['acc', 'mul', 'add'],
            outputs: ['y'],
            attrs: { div: attr.int(2 ** 12), n_levels: attr.int(256), signed: attr.int(0) },
          },
        ],
        initializers: {
          W: { shape: [3, 1024], values: vals(3072, -128, 127, 11), type: 'int8' },
          B: { shape: [3], values: [-900, 40, 700], type: 'int32' },
          mul: { shape: [3], values: [3, 1, 2], type: 'int32' },
          add: { shape: [3], values: [2 ** 19, 2 ** 19, 2 ** 19], type: 'int32' },
        },
      },
      { shape: [2, 1024], data: Float64Array.from(vals(2048, -128, 127, 12)), signed: true },
    );
    expect(new Set(c.want.get('y')!.data).size).toBeGreaterThan(3); // not clipped flat
    const r = deploy(c.onnx, c.inputs, { compare: c.outputs });
    expect(r.perOp.map((o) => [o.kind, o.where, o.pass])).toEqual([['dgemm', 'cores', true]]);
    // units per chunk of K (merged where they fit L1 together)
    expect(r.run.stepStats.map((st) => st.label).join(' ')).toMatch(/gemm\/r0k0\b.*gemm\/r0k7\b/);
    expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
  });

  it('writes the int32 product of a Gemm without a requantiser (a graph output), bit-exact', () => {
    // the shape of Deeploy's GEMM/Regular kernel test: 32 x 32 times 32 x 32, a bias per element
    const c = writeCase(
      mkdtempSync(join(dir, 'int32-')),
      {
        inputs: [{ name: 'x', shape: [32, 32], type: 'int8' }],
        outputs: [{ name: 'y', type: 'int32' }],
        nodes: [
          {
            op: 'Gemm',
            name: 'gemm',
            inputs: ['x', 'W', 'C'],
            outputs: ['y'],
            attrs: { transB: attr.int(1) },
          },
        ],
        initializers: {
          W: { shape: [32, 32], values: vals(1024, -128, 127, 13), type: 'int8' },
          C: { shape: [32, 32], values: vals(1024, -128, 127, 14), type: 'int32' },
        },
      },
      { shape: [32, 32], data: Float64Array.from(vals(1024, -128, 127, 15)), signed: true },
    );
    const y = c.want.get('y')!.data;
    expect(Math.max(...y.map(Math.abs))).toBeGreaterThan(32_767); // beyond 16 bits
    const r = deploy(c.onnx, c.inputs, { compare: c.outputs });
    expect(r.perOp.map((o) => [o.kind, o.where, o.pass])).toEqual([['dgemm', 'cores', true]]);
    expect(r.perOp[0]!.reason).toMatch(/int32 product/);
    expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
    // one value off in the reference is caught
    const bad = join(dir, 'int32-bad.npz');
    const wrong = Float64Array.from(y);
    wrong[517] = wrong[517]! + 65536;
    writeNpz(bad, new Map([['y', { shape: [32, 32], data: wrong, signed: true }]]));
    expect(deploy(c.onnx, c.inputs, { compare: bad }).pass).toBe(false);
  });

  it("runs products of two activations with a requantiser per row as Deeploy's int32 gemm, bit-exact", () => {
    // x . x^T (B^T is x itself) and (x + 128) . x (uint8 A, B read as it is), each + RequantShift per row
    const rqRow = (name: string, x: string, y: string, mul: string, div: number): NodeSpec => ({
      op: 'RequantShift',
      name,
      inputs: [x, mul, 'add'],
      outputs: [y],
      attrs: { div: attr.int(div), n_levels: attr.int(256), signed: attr.int(1) },
    });
    const c = writeCase(
      mkdtempSync(join(dir, 'act-')),
      {
        inputs: [{ name: 'x', shape: [64, 64], type: 'int8' }],
        outputs: [
          { name: 'y1', type: 'int8' },
          { name: 'y2', type: 'int8' },
        ],
        nodes: [
          { op: 'Transpose', name: 'xt', inputs: ['x'], outputs: ['xT'], attrs: { perm: attr.ints([1, 0]) } },
          { op: 'MatMul', name: 'xxt', inputs: ['x', 'xT'], outputs: ['s1'] },
          rqRow('rq1', 's1', 'y1', 'mul', 2 ** 14),
          {
            op: 'RequantShift',
            name: 'shift',
            inputs: ['x', 'one', 'half'],
            outputs: ['p'],
            attrs: { div: attr.int(1), n_levels: attr.int(256), signed: attr.int(0) },
          },
          { op: 'MatMul', name: 'px', inputs: ['p', 'x'], outputs: ['s2'] },
          rqRow('rq2', 's2', 'y2', 'mul2', 2 ** 16),
        ],
        initializers: {
          mul: { shape: [64, 1], values: vals(64, 20, 60, 18), type: 'int32' },
          add: { shape: [64, 1], values: vals(64, -50_000, 50_000, 19), type: 'int32' },
          mul2: { shape: [64, 1], values: vals(64, 1, 4, 21), type: 'int32' },
          one: { shape: [], values: [1], type: 'int32' },
          half: { shape: [], values: [128], type: 'int32' },
        },
      },
      { shape: [64, 64], data: Float64Array.from(vals(4096, -128, 127, 20)), signed: true },
    );
    for (const y of ['y1', 'y2']) expect(new Set(c.want.get(y)!.data).size, y).toBeGreaterThan(20);
    expect(Math.max(...c.want.get('y2')!.data)).toBeLessThan(127); // not saturated
    expect(Math.min(...c.want.get('y2')!.data)).toBeGreaterThan(-128);
    const r = deploy(c.onnx, c.inputs, { compare: c.outputs });
    // x^T is read only as B of x x^T, whose B^T is x itself: it is not computed
    expect(r.perOp.map((o) => [o.name, o.kind, o.pass])).toEqual([
      ['xt', 'alias', true],
      ['xxt', 'dgemm', true],
      ['shift', 'lut', true],
      ['px', 'dgemm', true],
    ]);
    expect(r.compare!.every((m) => m.pass)).toBe(true);
  });

  it('refuses an int32 product that another op reads: one line, exit 2', () => {
    const c = writeCase(
      mkdtempSync(join(dir, 'int32-read-')),
      {
        inputs: [{ name: 'x', shape: [64, 64], type: 'int8' }],
        outputs: [{ name: 'y', type: 'int8' }],
        nodes: [
          { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['acc'] },
          {
            op: 'iGELU',
            name: 'gelu',
            inputs: ['acc'],
            outputs: ['y'],
            attrs: { b: attr.int(-80), one: attr.int(64) },
          },
        ],
        initializers: { W: { shape: [64, 64], values: vals(4096, -3, 3, 16), type: 'int8' } },
      },
      { shape: [64, 64], data: Float64Array.from(vals(4096, -3, 3, 17)), signed: true },
    );
    const r = itasim(c.onnx, '--inputs', c.inputs);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^itasim: node mm \(MatMul\): a linear layer must end in one RequantShift/),
    ]);
  });

  it('refuses an element-wise op that does not end in an 8-bit value: one line, exit 2', () => {
    const n = writeNetwork(mkdtempSync(join(dir, 'gelu-')), {
      op: 'iGELU',
      name: 'gelu',
      inputs: ['h'],
      outputs: ['y'],
      attrs: { b: attr.int(-80), one: attr.int(64) },
    });
    const r = itasim(n.onnx, '--inputs', n.inputs);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^itasim: node gelu \(iGELU\): iGELU must be followed by a RequantShift/),
    ]);
  });

  it('refuses an op without a mapping: one line naming the node and why, exit 2', () => {
    const n = writeNetwork(mkdtempSync(join(dir, 'hardswish-')), {
      op: 'RequantizediHardswish',
      name: 'hswish',
      inputs: ['h'],
      outputs: ['y'],
      attrs: {
        one_over_six: attr.int(2731),
        six: attr.int(96),
        three: attr.int(48),
        mul: attr.int(3),
        add: attr.int(0),
        shift: attr.int(8),
      },
    });
    const r = itasim(n.onnx, '--inputs', n.inputs);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^itasim: node hswish \(RequantizediHardswish\): op RequantizediHardswish has no tiler mapping/,
      ),
    ]);
  });

  /** A uint8 graph input x[64, 80] (values up to 250) into `node`. */
  const uint8Case = (name: string, node: NodeSpec, extra: NodeSpec[] = []): Case =>
    writeCase(
      mkdtempSync(join(dir, `${name}-`)),
      {
        inputs: [{ name: 'x', shape: [64, 80], type: 'uint8' }],
        outputs: [{ name: 'y', type: 'int8' }],
        nodes: [node, ...extra],
        initializers: {
          W: { shape: [80, 64], values: vals(80 * 64, -128, 127, 21), type: 'int8' },
          B: { shape: [64], values: vals(64, -4000, 4000, 22), type: 'int32' },
          mul: { shape: [], values: [5], type: 'int32' },
          add: { shape: [], values: [0], type: 'int32' },
        },
      },
      { shape: [64, 80], data: Float64Array.from(vals(64 * 80, 0, 250, 23)), signed: false },
    );

  it('deploys a uint8 graph input above 127 into a linear: the cores read it as uint8', () => {
    const c = uint8Case('uint8-in', { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['p'] }, [
      { op: 'Add', name: 'bias', inputs: ['B', 'p'], outputs: ['pb'] },
      {
        op: 'RequantShift',
        name: 'rq',
        inputs: ['pb', 'mul', 'add'],
        outputs: ['y'],
        attrs: { div: attr.int(2 ** 16), n_levels: attr.int(256), signed: attr.int(1) },
      },
    ]);
    expect(new Set(c.want.get('y')!.data).size).toBeGreaterThan(32);
    for (const clusterOnly of [false, true]) {
      const r = deploy(c.onnx, c.inputs, { compare: c.outputs, clusterOnly });
      expect(r.perOp.map((o) => [o.name, o.where, o.pass])).toEqual([['mm', 'cores', true]]);
      expect(r.perOp[0]!.reason).toMatch(/uint8/);
      expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
    }
  }, 120_000);

  it('keeps a linear that reads a ReLU output on ITA (the executor calls it unsigned; it stays below 128)', () => {
    const rq = (name: string, x: string, y: string): NodeSpec => ({
      op: 'RequantShift',
      name,
      inputs: [x, 'mul', 'add'],
      outputs: [y],
      attrs: { div: attr.int(2 ** 12), n_levels: attr.int(256), signed: attr.int(1) },
    });
    const c = writeCase(
      mkdtempSync(join(dir, 'relu-linear-')),
      {
        inputs: [{ name: 'x', shape: [64, 64], type: 'int8' }],
        outputs: [{ name: 'y', type: 'int8' }],
        nodes: [
          { op: 'MatMul', name: 'mm1', inputs: ['x', 'W1'], outputs: ['p1'] },
          rq('rq1', 'p1', 'h1'),
          { op: 'Relu', name: 'relu', inputs: ['h1'], outputs: ['r'] },
          { op: 'MatMul', name: 'mm2', inputs: ['r', 'W2'], outputs: ['p2'] },
          rq('rq2', 'p2', 'y'),
        ],
        initializers: {
          W1: { shape: [64, 64], values: vals(4096, -128, 127, 31), type: 'int8' },
          W2: { shape: [64, 64], values: vals(4096, -128, 127, 32), type: 'int8' },
          mul: { shape: [], values: [9], type: 'int32' },
          add: { shape: [], values: [0], type: 'int32' },
        },
      },
      { shape: [64, 64], data: Float64Array.from(vals(4096, -128, 127, 33)), signed: true },
    );
    const r = deploy(c.onnx, c.inputs, { compare: c.outputs });
    expect(r.perOp.map((o) => [o.name, o.where, o.pass])).toEqual([
      ['mm1', 'ita', true],
      ['mm2', 'ita', true],
    ]);
    expect(r.compare).toEqual([{ name: 'y', pass: true, detail: '' }]);
  }, 120_000);

  it('refuses a uint8 graph input above 127 read by an op mapped for int8 only: one line, exit 2', () => {
    const c = uint8Case('uint8-softmax', {
      op: 'iSoftmax',
      name: 'sm',
      inputs: ['x'],
      outputs: ['y'],
      attrs: {
        coeffA: attr.int(1),
        coeffB: attr.int(1),
        coeffC: attr.int(1),
        log2: attr.int(1),
        n_levels: attr.int(256),
      },
    });
    const r = itasim(c.onnx, '--inputs', c.inputs);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^itasim: node sm \(iSoftmax\): .*uint8 values up to 250; sm \(iSoftmax\) is mapped for int8 inputs only$/,
      ),
    ]);
  });
});
