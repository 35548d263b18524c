/**
 * The command line's outputs, seen as a user sees them: `node bin/itasim.js` on small inputs with
 * output paths that cannot or must not be written. Every bad case ends with exit code 2 and one
 * line on stderr naming the parameter and the path; the user's files are untouched (content and
 * mtime) and no temporary is left beside them. `--force` replaces only the files the command
 * writes; SIGINT removes every temporary and exits with 130.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'bin', 'itasim.js');

/** Folders the tests made, removed at the end. */
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function itasim(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file and folder below `dir`, with content and mtime (files). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (e.isDirectory()) {
        out.set(rel + '/', '');
        walk(p);
      } else out.set(rel, `${statSync(p).mtimeMs} ${readFileSync(p, 'base64')}`);
    }
  };
  walk(dir);
  return out;
}

/** A fresh folder holding a user's files (with an old mtime, so that a rewrite would show). */
function userFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'itasim-out-'));
  made.push(dir);
  mkdirSync(join(dir, 'results', 'sub'), { recursive: true });
  for (const [p, text] of [
    ['results/notes.txt', 'my notes\n'],
    ['results/sub/data.bin', 'precious\n'],
    ['file.txt', 'a file of mine\n'],
    ['wave.vcd', 'my old waveform\n'],
  ] as const) {
    writeFileSync(join(dir, p), text);
    utimesSync(join(dir, p), 1_000_000, 1_000_000);
  }
  mkdirSync(join(dir, 'empty'));
  return dir;
}

/** Runs a bad case and checks the answer and that nothing of the user's changed. */
function refused(args: string[], param: string, path: string, why?: RegExp): string {
  const dir = userFolder();
  const before = snapshot(dir);
  const r = itasim(args, dir);
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`itasim: ${param}: ${path}`);
  if (why) expect(lines[0]).toMatch(why);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  // Untouched: the same files, contents and mtimes, and nothing new (no temporary, no output).
  expect(snapshot(dir)).toEqual(before);
  return r.stdout;
}

const EXISTS = /exists \(use --force to replace the files this command writes\)$/;

describe('itasim: outputs that must not be written', () => {
  let source: string;
  beforeAll(() => {
    source = mkdtempSync(join(tmpdir(), 'itasim-src-'));
    made.push(source);
    expect(itasim(['golden', '--out', 'case'], source).status).toBe(0);
    source = join(source, 'case');
  });

  it('golden --out onto a non-empty folder', () =>
    refused(['golden', '--out', 'results'], '--out', 'results', EXISTS));
  it('recompute --out onto a non-empty folder', () =>
    refused(['recompute', '--from', source, '--out', 'results'], '--out', 'results', EXISTS));
  it('golden --out onto an existing file', () =>
    refused(['golden', '--out', 'file.txt'], '--out', 'file.txt', EXISTS));
  it('recompute --out onto an existing file', () =>
    refused(['recompute', '--from', source, '--out', 'file.txt'], '--out', 'file.txt', EXISTS));
  it('golden --force --out onto a file: a file is not replaced by a folder', () =>
    refused(['golden', '--force', '--out', 'file.txt'], '--out', 'file.txt', /is a file, not a folder$/));
  it('golden --out below a file (ENOTDIR)', () =>
    refused(['golden', '--out', '/etc/hostname/x'], '--out', '/etc/hostname/x'));
  it('golden --out where nothing can be created (/proc)', () =>
    refused(['golden', '--out', '/proc/itasim-x'], '--out', '/proc/itasim-x'));
  it('recompute --out where nothing can be created (/proc)', () =>
    refused(['recompute', '--from', source, '--out', '/proc/itasim-x'], '--out', '/proc/itasim-x'));
  it('sim --vcd into a missing folder', () =>
    refused(['sim', '--vcd', 'missing/w.vcd'], '--vcd', 'missing/w.vcd', /no such folder/));
  it('sim --vcd onto a folder', () =>
    refused(['sim', '--vcd', 'results'], '--vcd', 'results', /is a folder$/));
  it('sim --vcd onto an existing file', () =>
    refused(['sim', '--vcd', 'wave.vcd'], '--vcd', 'wave.vcd', EXISTS));
  it('sim --vcd below a file (ENOTDIR)', () =>
    refused(['sim', '--vcd', '/etc/hostname/w.vcd'], '--vcd', '/etc/hostname/w.vcd', /not a folder/));
  it('sim --trace-csv where nothing can be created (/proc): the results are printed first', () => {
    const stdout = refused(['sim', '--trace-csv', '/proc/itasim-t.csv'], '--trace-csv', '/proc/itasim-t.csv');
    expect(stdout).toMatch(/^verdict \(head 0\): PASS$/m);
  });
  it('hwpe --jobs-csv onto an existing file', () =>
    refused(['hwpe', '--from', source, '--jobs-csv', 'file.txt'], '--jobs-csv', 'file.txt', EXISTS));
  it('cluster attention --svg onto a folder', () =>
    refused(['cluster', 'attention', '--from', source, '--svg', 'empty'], '--svg', 'empty', /is a folder$/));
  it('--force never replaces a device by a file', () =>
    refused(['--force', 'sim', '--vcd', '/dev/null'], '--vcd', '/dev/null', /is not a regular file$/));
  it('onnx run --outputs into a missing folder', () =>
    refused(
      ['onnx', 'run', 'x.onnx', '--inputs', 'x.npz', '--outputs', 'no/o.npz'],
      '--outputs',
      'no/o.npz',
    ));
});

describe('itasim: outputs that may be written', () => {
  it('--force replaces the files the command writes and keeps the others', () => {
    const dir = userFolder();
    const r = itasim(['golden', '--force', '--out', 'results'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'results/notes.txt'), 'utf8')).toBe('my notes\n');
    expect(readFileSync(join(dir, 'results/sub/data.bin'), 'utf8')).toBe('precious\n');
    expect(statSync(join(dir, 'results/notes.txt')).mtimeMs).toBe(1_000_000_000);
    expect(existsSync(join(dir, 'results/mha.npz'))).toBe(true);
    expect(existsSync(join(dir, 'results/standalone'))).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('an empty folder is written into; a new one gets the mode the umask gives', () => {
    const dir = userFolder();
    expect(itasim(['golden', '--out', 'empty'], dir).status).toBe(0);
    expect(existsSync(join(dir, 'empty/mha.npz'))).toBe(true);
    const r = spawnSync('sh', ['-c', `umask 022 && exec "${process.execPath}" "${BIN}" golden --out new`], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(join(dir, 'new')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'new/standalone')).mode & 0o777).toBe(0o755);
  });

  /** Interrupts `args` once its temporary exists; checks exit 130, one line, nothing left. */
  async function interrupt(args: string[], dir: string, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const before = snapshot(dir);
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const hasTemporary = (): boolean => readdirSync(dir).some((n) => n.includes('.tmp-'));
    const until = Date.now() + 30_000;
    while (!hasTemporary() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(hasTemporary()).toBe(true);
    child.kill(signal);
    expect(await done).toBe(130);
    expect(stderr.trimEnd().split('\n')).toEqual(['itasim: interrupted']);
    expect(snapshot(dir)).toEqual(before);
  }

  const BIG = ['-S', '512', '-E', '512', '-P', '64', '-F', '512', '-H', '8'];

  it('SIGINT during a long golden run removes every temporary and exits 130', async () => {
    await interrupt(['golden', ...BIG, '--out', 'big'], userFolder());
  }, 60_000);

  it('SIGINT while recompute writes removes its temporary and exits 130', async () => {
    const dir = userFolder();
    const src = mkdtempSync(join(tmpdir(), 'itasim-src-'));
    made.push(src);
    expect(itasim(['golden', ...BIG, '--out', 'big'], src).status).toBe(0);
    await interrupt(['recompute', '--from', join(src, 'big'), '--out', 'again'], dir);
  }, 60_000);

  // The simulations run synchronously; the signal still ends them at once, their dumps removed.
  const ROOT = join(import.meta.dirname, '..');
  it("SIGINT during sim --vcd removes the dump's temporary and exits 130", async () => {
    await interrupt(['sim', '--random', '--tiles', '8,8,8,8', '--vcd', 'w.vcd'], userFolder());
  }, 60_000);
  it('SIGTERM during sim --vcd does the same', async () => {
    await interrupt(['sim', '--random', '--tiles', '8,8,8,8', '--vcd', 'w.vcd'], userFolder(), 'SIGTERM');
  }, 60_000);
  it('SIGINT during hwpe --vcd', async () => {
    const src = mkdtempSync(join(tmpdir(), 'itasim-src-'));
    made.push(src);
    expect(
      itasim(['golden', '-S', '128', '-E', '128', '-P', '128', '-F', '128', '-H', '2', '--out', 'c'], src)
        .status,
    ).toBe(0);
    await interrupt(['hwpe', '--from', join(src, 'c'), '--vcd', 'w.vcd'], userFolder());
  }, 60_000);
  it('SIGINT during cluster run --vcd', async () => {
    await interrupt(['cluster', 'run', join(ROOT, 'sw/bin/gemm.elf'), '--vcd', 'w.vcd'], userFolder());
  }, 60_000);
  it('SIGINT during cluster attention --vcd', async () => {
    const src = mkdtempSync(join(tmpdir(), 'itasim-src-'));
    made.push(src);
    expect(itasim(['golden', '--out', 'c'], src).status).toBe(0);
    await interrupt(['cluster', 'attention', '--from', join(src, 'c'), '--vcd', 'w.vcd'], userFolder());
  }, 60_000);
  it('SIGINT during encoder run --vcd', async () => {
    await interrupt(['encoder', 'run', 'mobilebert', '--layers', '1', '--vcd', 'w.vcd'], userFolder());
  }, 60_000);
});

describe('itasim: a full disk', () => {
  // A 64 KiB file system of its own (tmpfs); skipped where mounting is not allowed.
  let full: string | undefined;
  beforeAll(() => {
    const d = mkdtempSync(join(tmpdir(), 'itasim-full-'));
    made.push(d);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d]).status === 0) full = d;
  });
  afterAll(() => {
    if (full) spawnSync('umount', [full]);
  });

  it('sim --vcd: the results are printed, then one line; no dump or temporary left', (ctx) => {
    if (!full) return ctx.skip();
    const vcd = join(full, 'w.vcd');
    const r = itasim(['sim', '--vcd', vcd], full);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^verdict \(head 0\): PASS$/m);
    expect(r.stderr).toBe(`itasim: --vcd: ${vcd}: no space left on device\n`);
    expect(readdirSync(full)).toEqual([]);
  });

  it('golden --out: one line; no folder or temporary left', (ctx) => {
    if (!full) return ctx.skip();
    const out = join(full, 'case');
    const r = itasim(['golden', '--out', out], full);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe(`itasim: --out: ${out}: no space left on device\n`);
    expect(readdirSync(full)).toEqual([]);
  });
});
