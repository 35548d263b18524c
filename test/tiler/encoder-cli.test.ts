/**
 * `itasim encoder run` end to end: a shortened preset (1 MobileBERT layer at S = 64) in ITA mode
 * with --json and --report, a one-layer network.onnx with --speedup (cluster-only baseline), a
 * network whose graph arithmetic differs from ITA's (exit 1), and refused inputs (exit 2, one line).
 * The report's HTML and JSON are also checked on their own against a hand-made run result.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNpz } from '../../onnx/npz.ts';
import { attr, buildModel } from '../../onnx/writer.ts';
import { buildReport, comparisonText, reportHtml, speedupOver } from '../../tiler/report.ts';
import type { EncoderRunResult } from '../../tiler/run.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const itasim = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'itasim.js'), 'encoder', 'run', ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** One linear layer x[1, 64, K] * W[K, 64] + b, RequantShift (+ Relu) as a network.onnx. */
function linearOnnx(path: string, K: number, w: number, mul: number, relu: boolean): void {
  const nodes = [
    { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['acc'] },
    { op: 'Add', name: 'bias', inputs: ['acc', 'B'], outputs: ['accb'] },
    {
      op: 'RequantShift',
      name: 'rq',
      inputs: ['accb', 'mul', 'add'],
      outputs: [relu ? 'r' : 'y'],
      attrs: { div: attr.int(2 ** 16), n_levels: attr.int(256), signed: attr.int(1) },
    },
    ...(relu ? [{ op: 'Relu', name: 'relu', inputs: ['r'], outputs: ['y'] }] : []),
  ];
  const bytes = buildModel({
    inputs: [{ name: 'x', shape: [1, 64, K], type: 'int8' }],
    outputs: [{ name: 'y', type: 'int8' }],
    nodes,
    initializers: {
      W: {
        shape: [K, 64],
        values: Array.from({ length: K * 64 }, (_, i) => (w ? w : ((i * 37) % 255) - 127)),
        type: 'int8',
      },
      B: { shape: [64], values: Array.from({ length: 64 }, (_, i) => i * 10 - 320), type: 'int32' },
      mul: { shape: [1], values: [mul], type: 'int32' },
      add: { shape: [1], values: [0], type: 'int32' },
    },
  });
  writeFileSync(path, bytes);
}

describe('itasim encoder run', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'itasim-encoder-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs one MobileBERT layer bit-exact: exit 0, JSON fields, HTML report', () => {
    const html = join(dir, 'report.html');
    const r = itasim('mobilebert', '--seq', '64', '--layers', '1', '--json', '--report', html);
    expect(r.err).not.toMatch(/itasim:/);
    expect(r.code, r.out.slice(0, 3000)).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.model).toBe('mobilebert');
    expect(j.pass).toBe(true);
    expect(j.mode).toBe('ita');
    expect(j.layersRun).toBe(1);
    expect(j.totalLayers).toBe(24);
    expect(j.cycles).toBeGreaterThan(10_000);
    expect(j.gops).toBeCloseTo((j.ops * 500e6) / j.cycles / 1e9, 9);
    expect(j.itaUtilisation).toBeGreaterThan(0);
    expect(j.itaUtilisation).toBeLessThanOrEqual(1);
    expect(j.layers).toHaveLength(1);
    for (const k of ['cycles', 'ita', 'cores', 'dma', 'stall', 'ops', 'gops', 'pass'])
      expect(j.layers[0]).toHaveProperty(k);
    expect(j.layers[0].cycles).toBe(j.cycles);
    const kinds = new Set(j.opKinds.map((k: { kind: string }) => k.kind));
    for (const k of ['attention', 'sum', 'linear', 'add', 'nonorm']) expect(kinds.has(k)).toBe(true);
    expect(j.perOp.length).toBeGreaterThan(10);
    expect(j.speedup).toBeNull();
    expect(j.paper.peakGops).toBe(154);
    expect(existsSync(html)).toBe(true);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain('<svg');
    expect(page).toContain('bit-exact');
    expect(page).toContain('32.5');
    expect(page).not.toMatch(/(src|href)=["']?https?:/);
    expect(page).not.toContain('<script');
  }, 240_000);

  it('runs a network.onnx with --speedup and prints the text table', () => {
    const net = join(dir, 'linear.onnx');
    linearOnnx(net, 128, 0, 90, true);
    const r = itasim(net, '--speedup', '--clock-mhz', '1000');
    expect(r.err).not.toMatch(/itasim:/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /layer +cycles +ITA busy +cores busy \(mean of 8\) +DMA busy +stalls \(mean of 8\) +GOp\/s +exact/,
    );
    expect(r.out).toMatch(/GOp\/s at 1000 MHz/);
    expect(r.out).toMatch(/ITA utilisation: \d+\.\d %/);
    expect(r.out).toMatch(/speed-up over cluster-only: \d+\.\d\dx/);
    expect(r.out).toContain('bit-exact: every layer equals the functional executor');
  }, 240_000);

  it("runs a linear whose int32 requantiser product would wrap on the cores (ITA's would not), exit 0", () => {
    // 640 x 127 x 127 x 255 > 2^31: Deeploy's int32 mul x sum wraps, ITA's 35-bit one does not
    const net = join(dir, 'wrap.onnx');
    const K = 640;
    linearOnnx(net, K, 127, 255, false);
    const inputs = join(dir, 'wrap.npz');
    writeNpz(
      inputs,
      new Map([['x', { shape: [1, 64, K], data: new Float64Array(64 * K).fill(127), signed: true }]]),
    );
    const r = itasim(net, '--inputs', inputs, '--json');
    expect(r.err).not.toMatch(/itasim:/);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.pass).toBe(true);
    expect(j.perOp[0]).toMatchObject({ kind: 'dgemm', unit: 'cores' });
    expect(j.perOp[0].reason).toMatch(/can wrap Deeploy's int32 requantiser/);
  }, 240_000);

  it.each([
    [['mobilebert', '--seq', '100'], /--seq must be a multiple of 64 from 64 to 960/],
    [['mobilebert', '--layers', '25'], /--layers must be an integer from 1 to 24/],
    [['bert'], /must be one of mobilebert, dinov2, whisper or a \.onnx file/],
    [['whisper', '--clock-mhz', 'fast'], /--clock-mhz/],
    [['mobilebert', '--cluster-only', '--speedup'], /--speedup/],
    [['/nonexistent/x.onnx'], /cannot read/],
  ])(
    'refuses %j with exit 2 and one line',
    (args, msg) => {
      const r = itasim(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(
        r.err
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('npm warn')),
      ).toHaveLength(1);
      expect(r.out).toBe('');
    },
    60_000,
  );
});

describe('encoder report', () => {
  /** A hand-made run: 2 layers, ITA mode. */
  const run = (cycles: number[], clusterOnly = false): EncoderRunResult => ({
    cycles: cycles.reduce((a, b) => a + b, 0),
    ops: cycles.length * 2_000_000,
    bitExact: true,
    itaBusy: clusterOnly ? 0 : 1000,
    itaUtilisation: clusterOnly ? 0 : 1000 / cycles.reduce((a, b) => a + b, 0),
    dmaBusy: 500,
    layers: cycles.map((c, l) => ({
      layer: l,
      cycles: c,
      ita: clusterOnly ? 0 : 500,
      dma: 250,
      cores: 8 * 300,
      stall: 80,
      ops: 2_000_000,
      bitExact: true,
      mismatch: null,
    })),
    opStats: cycles.flatMap((c, l) => [
      {
        layer: l,
        name: `mhsa${l}`,
        kind: 'attention',
        unit: clusterOnly ? 'cores' : 'ita',
        reason: 'test',
        bitExact: true,
        mismatch: null,
        cycles: c - 100,
        ita: 500,
        dma: 200,
        cores: 100,
        stall: 10,
        ops: 2_000_000,
      },
      {
        layer: l,
        name: `ln${l}`,
        kind: 'layernorm',
        unit: 'cores',
        reason: 'test',
        bitExact: true,
        mismatch: null,
        cycles: 100,
        ita: 0,
        dma: 50,
        cores: 2300,
        stall: 70,
        ops: 0,
      },
    ]),
    timeline: [
      { unit: 'ita', start: 0, end: 500, label: 'l0/mhsa' },
      { unit: 'dma', start: 0, end: 250, label: 'l0/load' },
      { unit: 'core0', start: 500, end: 1000, label: 'l0/ln' },
    ],
    simSeconds: 1,
    simCyclesPerSecond: 2000,
    steps: 4,
    itaJobs: 2,
    l1Peak: 1000,
    stepStats: [],
    outputs: new Map(),
    aliases: [],
  });

  it('computes GOp/s, inferences/s and the speed-up, extrapolating a shorter baseline', () => {
    const ita = run([1000, 1000]);
    const base = run([40_000], true);
    const s = speedupOver(ita, base);
    expect(s.extrapolated).toBe(true);
    expect(s.clusterOnlyCycles).toBe(80_000);
    expect(s.speedup).toBe(40);
    const rep = buildReport(
      ita,
      { model: 'mobilebert', description: 'test', clockMHz: 500, totalLayers: 24, clusterOnly: false },
      { result: base },
    );
    expect(rep.gops).toBeCloseTo((4e6 * 500e6) / 2000 / 1e9, 12);
    // 2 of 24 layers in 2000 cycles at 500 MHz: 24 layers take 48 us
    expect(rep.inferencesPerSecond).toBeCloseTo(1 / 48e-6, 6);
    expect(rep.opKinds.map((k) => [k.kind, k.count])).toEqual([
      ['attention', 2],
      ['layernorm', 2],
    ]);
    expect(comparisonText(rep)).toMatch(/speed-up of 40\.0x/);
    const same = speedupOver(ita, run([30_000, 50_000], true));
    expect(same.extrapolated).toBe(false);
    expect(same.speedup).toBe(40);
    const html = reportHtml(rep, ita);
    expect(html).toContain('layer 1');
    expect(html).toContain('40.0x');
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
  });
});
