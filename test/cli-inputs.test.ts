/**
 * The command line's inputs, seen as a user sees them: `node bin/itasim.js` on folders and files
 * that are named otherwise than PyITA names them, or that hold bad data. A good input runs; a bad
 * one ends with exit code 2 and one line on stderr, `itasim: ...`, naming the file and what was
 * expected, never a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'bin', 'itasim.js');

let work: string;
/** A folder written by `itasim golden` (64^3, H 1, identity, with bias), under the name `case`. */
let source: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'itasim-in-'));
  source = join(work, 'case');
  expect(itasim(['golden', '--out', source]).status).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function itasim(
  args: string[],
  cwd = work,
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the source folder at `rel` (below the work folder); returns its path. */
function copy(rel: string): string {
  const to = join(work, rel);
  mkdirSync(join(to, '..'), { recursive: true });
  cpSync(source, to, { recursive: true });
  return to;
}

/** Runs a bad case: exit 2, one line `itasim: ...` matching `why`, no stack trace. */
function refused(args: string[], why: RegExp): void {
  const r = itasim(args);
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^itasim: /);
  expect(lines[0]).toMatch(why);
}

describe("sizes are read from a folder's contents, its name only cross-checked", () => {
  it('hwpe runs a folder whatever its name', () => {
    const r = itasim(['hwpe', '--from', source]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASS$/m);
  });
  it("cluster attention runs PyITA's simvectors/data_S.._E.._B1_Identity naming", () => {
    const r = itasim([
      'cluster',
      'attention',
      '--from',
      copy('simvectors/data_S64_E64_P64_F64_H1_B1_Identity'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PASS$/m);
  });
  it('hwpe refuses a folder whose name states another S', () =>
    refused(
      ['hwpe', '--from', copy('S128_E64_P64_F64_H1_identity')],
      /name says S=128, but its files hold S=64$/,
    ));
  it('cluster attention refuses a name with another activation', () =>
    refused(
      ['cluster', 'attention', '--from', copy('S64_E64_P64_F64_H1_gelu_seed1')],
      /name says activation=gelu, but its files hold activation=identity$/,
    ));
  it('sim refuses a name with another bias flag', () =>
    refused(
      ['sim', '--from', copy('data_S64_E64_P64_F64_H1_B0_Identity')],
      /name says B0, but its files hold B1$/,
    ));
});

describe('bad data is refused where it is read, naming the file and the line', () => {
  /** A copy of the source folder with `edit` applied to its file `rel`. */
  function damaged(name: string, rel: string, edit: (b: Buffer) => Buffer | string): string {
    const dir = copy(name);
    writeFileSync(join(dir, rel), edit(readFileSync(join(dir, rel))));
    return dir;
  }
  const firstLines = (n: number) => (b: Buffer) => b.toString().split('\n').slice(0, n).join('\n') + '\n';

  it('sim: a truncated stream file', () =>
    refused(
      ['sim', '--from', damaged('trunc', 'standalone/Q.txt', firstLines(1000))],
      /trunc\/standalone\/Q\.txt: ends at line 1000 after 1000 values; expected 16384 for S=64 E=64 P=64 F=64 H=1/,
    ));
  it('sim: an int8 stream holding 300', () =>
    refused(
      ['sim', '--from', damaged('int8', 'standalone/Wq_0.txt', (b) => b.toString().replace(/^.*$/m, '300'))],
      /int8\/standalone\/Wq_0\.txt: line 1: 300 is outside int8 \(-128 to 127\)$/,
    ));
  it('hwpe: a truncated mem.txt', () =>
    refused(
      ['hwpe', '--from', damaged('mem', 'hwpe/mem.txt', firstLines(5000))],
      /mem\/hwpe\/mem\.txt: ends at line 5000; expected 9504 words/,
    ));
  it('cluster attention: a truncated mem.txt', () =>
    refused(['cluster', 'attention', '--from', join(work, 'mem')], /mem\/hwpe\/mem\.txt: ends at line 5000/));
  it('an npz member whose CRC is wrong', () => {
    const dir = damaged('crc', 'mha.npz', (b) => {
      b[b.indexOf('q.npy') + 400] ^= 0x55;
      return b;
    });
    refused(
      ['sim', '--from', dir],
      /crc\/mha\.npz: member q\.npy: CRC-32 [0-9a-f]{8} of its data, expected [0-9a-f]{8}/,
    );
    refused(['recompute', '--from', dir, '--out', join(work, 'crc-out')], /member q\.npy: CRC-32/);
  });
  it('sim: an empty --stall-trace', () => {
    writeFileSync(join(work, 'empty.csv'), '');
    refused(
      ['sim', '--from', source, '--stall-trace', 'empty.csv'],
      /^itasim: --stall-trace: empty\.csv: empty; expected a header/,
    );
  });
});

describe('fuzz --path', () => {
  it('a malformed path: one line, no fast-check stack', () =>
    refused(
      ['fuzz', '--property', 'requant', '--seed', '1', '--runs', '1', '--path', 'abc'],
      /^itasim: --path must be the path a failure printed \(numbers separated by colons, e\.g\. 12:0:3\), got 'abc'$/,
    ));
});

describe('usage errors: one line, the nearest valid name, exit 2', () => {
  const one = (args: string[], line: string): void => {
    const r = itasim(args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe(`itasim: ${line}\n`);
    expect(r.stdout).toBe('');
  };
  it('an unknown command', () => one(['simm'], "unknown command 'simm' (did you mean sim?)"));
  it('an unknown sub-command', () => one(['cluster', 'rn'], "unknown command 'rn' (did you mean run?)"));
  it('an unknown flag', () => one(['sim', '--vdc', 'w.vcd'], "unknown option '--vdc' (did you mean --vcd?)"));
  it('an unknown flag like no other', () =>
    one(['sim', '--qqqqqq'], "unknown option '--qqqqqq' (see --help)"));
  it('a missing argument', () => one(['cluster', 'run'], "missing required argument 'elf'"));
  it("a flag's missing value", () => one(['hwpe', '--from'], "option '--from <folder>' argument missing"));
  it('a missing sub-command', () =>
    one(['cluster'], 'cluster needs a command: run, attention (see itasim cluster --help)'));
  it('a number as typed, never NaN', () => {
    one(['sim', '--seed', 'abc'], "--seed must be an integer from 0 to 4294967295, got 'abc'");
    one(
      ['cluster', 'run', 'x.elf', '--max-cycles', '1e'],
      "--max-cycles must be an integer from 1 to 1099511627776, got '1e'",
    );
  });
  it('--version', () => {
    const r = itasim(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('cut-offs and traps are said', () => {
  /** gemm.elf with its first instruction made illegal (all zeros); no trap handler is set up. */
  function illegalElf(): string {
    const b = readFileSync(join(import.meta.dirname, '..', 'sw/bin/gemm.elf'));
    const entry = b.readUInt32LE(24);
    const phoff = b.readUInt32LE(28);
    for (let i = 0; i < b.readUInt16LE(44); i++) {
      const at = phoff + 32 * i;
      const [type, off, va, filesz] = [0, 4, 8, 16].map((k) => b.readUInt32LE(at + k)) as [
        number,
        number,
        number,
        number,
      ];
      if (type === 1 && va <= entry && entry < va + filesz) b.writeUInt32LE(0, off + entry - va);
    }
    const path = join(work, 'illegal.elf');
    writeFileSync(path, b);
    return path;
  }

  it('cluster run stops at a trap whose handler is itself and reports the first trap', () => {
    const r = itasim(['cluster', 'run', illegalElf(), '--json']);
    expect(r.status).toBe(1);
    const rep = JSON.parse(r.stdout) as {
      cycles: number;
      stopped: string;
      partial: boolean;
      traps: { count: number; first: { hart: number; cause: number; pc: string } };
    };
    expect(rep.stopped).toBe('trapLoop');
    expect(rep.partial).toBe(true);
    expect(rep.cycles).toBeLessThan(10_000);
    expect(rep.traps.count).toBeGreaterThan(0);
    expect(rep.traps.first).toMatchObject({ hart: 0, cause: 2, pc: '0x80000000' });
    expect(r.stderr).toMatch(
      /^itasim: cluster run: stopped at cycle \d+: core \d trapped \(illegal instruction, mcause 2\) at pc 0x00000000, and its handler is that same instruction \(statistics are partial\)\n$/,
    );
  });
  it('cluster run: a --max-cycles cut-off is said and the statistics marked partial', () => {
    const r = itasim([
      'cluster',
      'run',
      join(import.meta.dirname, '..', 'sw/bin/gemm.elf'),
      '--max-cycles',
      '500',
      '--json',
    ]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ cycles: 500, stopped: 'maxCycles', partial: true });
    expect(r.stderr).toBe(
      'itasim: cluster run: stopped at --max-cycles 500 before the program wrote tohost (statistics are partial)\n',
    );
  });
  it('cluster attention: a --max-cycles cut-off is said, no percentage of a phase not ended', () => {
    const r = itasim(['cluster', 'attention', '--from', source, '--max-cycles', '3000']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^total cycles: 3000 \(stopped at --max-cycles/m);
    expect(r.stdout).toMatch(/issue phase not ended/);
    expect(r.stdout).not.toMatch(/\d{4,}\.\d%/);
    expect(r.stderr).toMatch(/^itasim: cluster attention: stopped at --max-cycles 3000 .*\n$/);
    const j = itasim(['cluster', 'attention', '--from', source, '--max-cycles', '3000', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ partial: true, itaUtilisationIssue: null });
  });
});

describe('progress without a terminal: a line now and then on stderr, none with --quiet', () => {
  // Lines every 10 ms instead of every 10 s.
  const FAST = { ITASIM_PROGRESS_INTERVAL: '0.01' };
  it('sim on a folder: outputs of the total, the cycle, the time left', () => {
    expect(
      itasim(['golden', '-S', '128', '-E', '128', '-P', '128', '-F', '128', '--out', 'p128']).status,
    ).toBe(0);
    const r = itasim(['sim', '--from', 'p128', '--stall-prob', '0.5'], work, FAST);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines)
      expect(l).toMatch(
        /^itasim progress: sim: \d+\/\d+ outputs \(\d+%\), cycle \d+, \d+ s elapsed, about \d+ s left$/,
      );
  });
  it('cluster run: cycles', () => {
    const r = itasim(['cluster', 'run', join(import.meta.dirname, '..', 'sw/bin/gemm.elf')], work, FAST);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^itasim progress: cluster run: \d+ cycles, \d+ s elapsed$/m);
  });
  it('--quiet silences it', () => {
    const r = itasim(
      ['--quiet', 'cluster', 'run', join(import.meta.dirname, '..', 'sw/bin/gemm.elf')],
      work,
      FAST,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('one vocabulary across commands', () => {
  it('every --seed takes 0 to 4294967295', () => {
    expect(itasim(['sim', '--random', '--tiles', '1,1,1,1', '--seed', '4294967295']).status).toBe(0);
    for (const args of [
      ['sim', '--random', '--tiles', '1,1,1,1'],
      ['fuzz', '--property', 'requant', '--runs', '1'],
      ['encoder', 'run', 'mobilebert'],
    ])
      refused(
        [...args, '--seed', '4294967296'],
        /--seed must be an integer from 0 to 4294967295, got '4294967296'$/,
      );
  });
  it('JSON: pass for the check, camelCase keys', () => {
    // (step names such as QK are data, not keys to spell in camelCase)
    const keys = (text: string): string[] => [...text.matchAll(/"([^"]+)":/g)].map((m) => m[1]!);
    const runs = [
      itasim(['sim', '--json']),
      itasim(['hwpe', '--from', source, '--json']),
      itasim(['cluster', 'attention', '--from', source, '--json']),
    ];
    for (const r of runs) {
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { pass: unknown }).pass).toBe(true);
      expect(keys(r.stdout).filter((k) => /[_\s-]/.test(k))).toEqual([]);
    }
    const run = itasim([
      'cluster',
      'run',
      join(import.meta.dirname, '..', 'sw/bin/gemm.elf'),
      '--json',
      '--max-cycles',
      '100',
    ]);
    expect(keys(run.stdout).filter((k) => /[_\s-]/.test(k))).toEqual([]);
  });
  it('sim refuses the flags of the other mode instead of ignoring them', () => {
    refused(['sim', '--from', source, '--tiles', '1,1,1,1'], /^itasim: --tiles applies to --random only/);
    refused(['sim', '--activation', 'gelu'], /^itasim: --activation applies to --random only/);
    refused(['sim', '--random', '--tiles', '1,1,1,1', '--head', '0'], /^itasim: --head applies to a folder/);
  });
});
