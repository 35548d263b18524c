/**
 * What `itasim deploy` writes besides its table: the HTML report (the encoder's, with the deployed
 * graph's cycles and the op rows of the run), the VCD of the run, GOp/s at `--clock-mhz`; existing
 * files are refused without `--force`, and a bad clock is one line with exit code 2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindInputs, runGraph } from '../../onnx/executor.ts';
import { loadModel } from '../../onnx/model.ts';
import { readNpz, writeNpz } from '../../onnx/npz.ts';
import { attr, buildModel } from '../../onnx/writer.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const itasim = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'itasim.js'), 'deploy', ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const vals = (n: number, lo: number, hi: number, seed: number): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((i * 7919 + seed * 104729 + ((i * i) % 613)) % (hi - lo + 1)));

describe('itasim deploy --report, --vcd, --clock-mhz', () => {
  let dir = '';
  let onnx = '';
  let inputs = '';
  let outputs = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'itasim-deploy-out-'));
    // x[64, 64] -> MatMul(W[64, 64]) -> RequantShift -> y: one linear, on ITA
    onnx = join(dir, 'network.onnx');
    writeFileSync(
      onnx,
      buildModel({
        inputs: [{ name: 'x', shape: [64, 64], type: 'int8' }],
        outputs: [{ name: 'y', type: 'int8' }],
        nodes: [
          { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['acc'] },
          {
            op: 'RequantShift',
            name: 'rq',
            inputs: ['acc', 'mul', 'add'],
            outputs: ['y'],
            attrs: { div: attr.int(2 ** 14), n_levels: attr.int(256), signed: attr.int(1) },
          },
        ],
        initializers: {
          W: { shape: [64, 64], values: vals(64 * 64, -128, 127, 1), type: 'int8' },
          mul: { shape: [1], values: [70], type: 'int32' },
          add: { shape: [1], values: [2 ** 13], type: 'int32' },
        },
      }),
    );
    inputs = join(dir, 'inputs.npz');
    writeNpz(
      inputs,
      new Map([
        ['x', { shape: [64, 64], data: Float64Array.from(vals(64 * 64, -128, 127, 2)), signed: true }],
      ]),
    );
    const g = loadModel(onnx);
    outputs = join(dir, 'outputs.npz');
    writeNpz(outputs, runGraph(g, bindInputs(g, readNpz(inputs))).outputs);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the HTML report and the VCD; the report shows the run the JSON gives', () => {
    const html = join(dir, 'report.html');
    const vcd = join(dir, 'run.vcd');
    const args = ['--inputs', inputs, '--compare', outputs, '--clock-mhz', '250'];
    const r = itasim(onnx, ...args, '--json', '--report', html, '--vcd', vcd);
    expect(r.err).not.toMatch(/itasim:/);
    expect(r.code, r.out.slice(0, 2000)).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.pass).toBe(true);
    expect(j.clockMHz).toBe(250);
    expect(j.ops).toBe(2 * 64 * 64 * 64);
    expect(j.gops).toBeCloseTo(j.ops / (j.cycles / 250e6) / 1e9, 9);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain(j.cycles.toLocaleString('en-US'));
    expect(page).toContain('mm');
    expect(page).toContain('<svg');
    const wave = readFileSync(vcd, 'utf8');
    expect(wave).toContain('$enddefinitions');
    expect(wave).toContain('ita_busy');
    // the VCD's last time stamp (1 ps units, 2 ns a cycle) is the run's end
    expect(wave).toContain('$timescale 1ps $end');
    const stamps = [...wave.matchAll(/^#(\d+)$/gm)].map((m) => Number(m[1]));
    expect(Math.max(...stamps)).toBe(j.cycles * 2000);
    // the text form names the rate too
    const t = itasim(onnx, ...args);
    expect(t.code).toBe(0);
    expect(t.out).toContain(`GOp/s at 250 MHz`);
  }, 120_000);

  it('refuses an existing report or VCD without --force, and a bad clock, with one line and exit 2', () => {
    const taken = join(dir, 'taken.html');
    writeFileSync(taken, 'mine');
    const r = itasim(onnx, '--inputs', inputs, '--report', taken);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('--report');
    expect(readFileSync(taken, 'utf8')).toBe('mine');
    const c = itasim(onnx, '--inputs', inputs, '--clock-mhz', 'fast');
    expect(c.code).toBe(2);
    expect(c.err.trim().split('\n')).toHaveLength(1);
    expect(c.err).toContain('--clock-mhz');
    expect(existsSync(join(dir, 'nothing.vcd'))).toBe(false);
  }, 60_000);
});
