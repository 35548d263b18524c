/**
 * `itasim sim` end to end: the RTL handshake traces reproduced through the command's own path
 * (`--from <folder> --head 0 --trace-csv`), every `rtl-cycles.csv` row reproduced by
 * `--random --json`, the stall-trace replay, the VCD's hierarchy, and one-line input errors.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GOLDEN_DATA_DIR, PYITA_FOLDERS, loadGolden, text } from '../../golden/archive.ts';
import { simulate } from '../../scripts/commands/sim.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'itasim-sim-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const traces = loadGolden('rtl-traces');

/** Unpacks a checked-in reference folder to disk (the CLI reads folders). */
function folderOnDisk(name: string): string {
  const dir = join(tmp, name);
  for (const [p, data] of loadGolden(`pyita/${name}`)) {
    if (!p.endsWith('.txt')) continue;
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), data);
  }
  return dir;
}

describe('itasim sim --from --trace-csv reproduces the RTL handshake traces', () => {
  for (const name of PYITA_FOLDERS) {
    it(name, async () => {
      const out = join(tmp, `${name}.csv`);
      const { reports } = await simulate({ from: folderOnDisk(name), head: '0', traceCsv: out });
      expect(reports[0]!.pass).toBe(true);
      expect(readFileSync(out, 'utf8')).toBe(text(traces, `${name}.csv`));
    });
  }
});

describe('itasim sim --random --json reproduces rtl-cycles.csv', () => {
  const rows = readFileSync(join(GOLDEN_DATA_DIR, 'rtl-cycles.csv'), 'utf8').trim().split('\n').slice(1);
  for (const row of rows) {
    it(row, async () => {
      const [layer, ts, te, tp, tf, compute, first, last, hs] = row.split(',');
      const { reports } = await simulate({
        random: true,
        layer,
        tiles: `${ts},${te},${tp},${tf}`,
        json: true,
      });
      const l = reports[0]!.layers[0]!;
      expect([l.layer, l.computeCycles, l.firstOutputEdge, l.lastOutputEdge, l.outputHandshakes]).toEqual([
        layer,
        Number(compute),
        Number(first),
        Number(last),
        Number(hs),
      ]);
    });
  }
  it('through the real command line', () => {
    const out = execFileSync(
      'node',
      [
        join(ROOT, 'bin/itasim.js'),
        'sim',
        '--random',
        '--layer',
        'feedforward',
        '--tiles',
        '1,1,1,1',
        '--json',
      ],
      {
        encoding: 'utf8',
      },
    );
    const j = JSON.parse(out) as {
      layers: {
        computeCycles: number;
        firstOutputEdge: number;
        lastOutputEdge: number;
        outputHandshakes: number;
      }[];
    };
    expect(j.layers[0]).toMatchObject({
      computeCycles: 512,
      firstOutputEdge: 15,
      lastOutputEdge: 526,
      outputHandshakes: 512,
    });
  });
});

describe('itasim sim options', () => {
  it('--stall-trace replays the stalled RTL run and compares every cycle', async () => {
    const trace = join(tmp, 'stall.csv');
    writeFileSync(trace, text(traces, 'per-cycle/S64_E64_P64_F64_identity_stall_seed1_full.csv'));
    const { reports } = await simulate({
      from: folderOnDisk('S64_E64_P64_F64_H1_identity_seed0'),
      stallTrace: trace,
    });
    const r = reports[0]!;
    expect(r.pass).toBe(true);
    expect(r.cycleCompare?.rows).toBe(4693);
    expect(r.cycleCompare?.mismatchedRows).toBe(0);
    expect(r.stalls.outputNotReady).toBeGreaterThan(0);
  });
  it('--vcd names signals by the RTL hierarchy', async () => {
    const vcd = join(tmp, 'a.vcd');
    await simulate({ random: true, layer: 'feedforward', tiles: '1,1,1,1', vcd });
    const v = readFileSync(vcd, 'utf8');
    for (const scope of [
      'ita',
      'i_controller',
      'i_softmax_top',
      'i_softmax',
      'genblk1[9]',
      'i_serdiv',
      'i_activation',
      'gelu_instances',
      'i_fifo',
    ]) {
      expect(v).toContain(`$scope module ${scope} $end`);
    }
    for (const sig of [
      'step_q',
      'calc_en_q10',
      'ongoing_q',
      'inp2_q',
      'requant_oup_q',
      'status_cnt_q',
      'div_res_zero_q',
      'valid_o',
    ]) {
      expect(v).toMatch(new RegExp(`\\$var wire \\d+ \\S+ ${sig.replace(/[[\]]/g, '\\$&')} \\$end`));
    }
  });
  it('--head all runs every head', async () => {
    const { reports } = await simulate({
      from: folderOnDisk('S128_E64_P128_F128_H2_relu_seed4'),
      head: 'all',
      stallProb: '0.3',
      seed: '9',
    });
    expect(reports.map((r) => [r.head, r.pass])).toEqual([
      [0, true],
      [1, true],
    ]);
  });
  it.each([
    [['--random', '--tiles', '1,2'], /--tiles must be four/],
    [
      ['--random', '--tiles', '1,1,1,0'],
      /--tiles ts must be an integer from 1 to 32|--tiles tf must be an integer from 1 to 32/,
    ],
    [['--random', '--layer', 'conv', '--tiles', '1,1,1,1'], /--layer must be one of/],
    [['--random', '--tiles', '1,1,1,1', '--stall-prob', '1.5'], /--stall-prob must be in \[0, 1\)/],
    [['--from', '/nonexistent-folder'], /--from: .* is not a directory/],
    [['--head', '1'], /--head must be an integer from 0 to 0/],
  ])('bad input %j: one line, exit code 2', (args, msg) => {
    const r = spawnSync('node', [join(ROOT, 'bin/itasim.js'), 'sim', ...args], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
  });
});

describe('itasim sim without a folder', () => {
  it('runs the built-in default reference folder and passes', () => {
    const r = spawnSync('node', [join(ROOT, 'bin/itasim.js'), 'sim', '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    const runs = Array.isArray(rep) ? rep : (rep.runs ?? [rep]);
    expect(runs[0].pass).toBe(true);
  });
});

describe('itasim sim on a folder whose name does not carry its dimensions', () => {
  it('reads the dimensions from the data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itasim-sim-'));
    try {
      const out = join(dir, 'vectors');
      const bin = join(ROOT, 'bin/itasim.js');
      const g = ['golden', '-S', '128', '-E', '64', '-P', '64', '-F', '64', '--activation', 'relu'];
      expect(spawnSync('node', [bin, ...g, '--seed', '3', '--out', out]).status).toBe(0);
      const r = spawnSync('node', [bin, 'sim', '--from', out, '--json'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).pass).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
