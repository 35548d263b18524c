/**
 * How the command line starts: which form runs (the compiled dist/ while it matches the sources,
 * the TypeScript otherwise), the checked-in files found from either, and each sub-command's module
 * loaded only when that command runs.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { BUILD_DIR, BUILT_ENTRY, MANIFEST, buildIsCurrent, stamp } from '../bin/build-state.js';
import { COMMANDS, commandNamed, registerCommands } from '../scripts/commands/index.ts';
import { repoUrl } from '../rtl-model/repo.ts';

describe('checked-in files', () => {
  it('are found from the repository root', () => {
    const pkg = fileURLToPath(repoUrl('package.json'));
    expect(JSON.parse(readFileSync(pkg, 'utf8')).name).toBe('itasim');
    expect(existsSync(fileURLToPath(repoUrl('sw/bin/tiler.elf')))).toBe(true);
  });
});

describe('the compiled CLI runs only while it matches the sources', () => {
  /** Modification time of the sources as built (seconds). */
  const T = 1_700_000_000;
  /** A root with two sources and a build of them; returns the root. */
  function builtRoot(): string {
    const root = mkdtempSync(join(tmpdir(), 'itasim-build-'));
    mkdirSync(join(root, 'scripts'));
    writeFileSync(join(root, 'scripts', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'tsconfig.json'), '{}\n');
    utimesSync(join(root, 'scripts', 'a.ts'), T, T);
    mkdirSync(join(root, BUILD_DIR, 'scripts'), { recursive: true });
    writeFileSync(join(root, BUILT_ENTRY), '');
    const sources = ['tsconfig.json', 'scripts/a.ts'].map((p) => stamp(root, p));
    writeFileSync(join(root, BUILD_DIR, MANIFEST), JSON.stringify({ sources }));
    return root;
  }

  it('is current as built', () => {
    const root = builtRoot();
    try {
      expect(buildIsCurrent(root)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.each([
    ['a source edited (a later time)', (r: string) => utimesSync(join(r, 'scripts/a.ts'), T, T + 1)],
    [
      'a source copied over with an earlier time',
      (r: string) => utimesSync(join(r, 'scripts/a.ts'), T, T - 1),
    ],
    [
      'a source of another size with the same time',
      (r: string) => {
        writeFileSync(join(r, 'scripts/a.ts'), 'export const a = 12;\n');
        utimesSync(join(r, 'scripts/a.ts'), T, T);
      },
    ],
    ['a source removed', (r: string) => rmSync(join(r, 'scripts/a.ts'))],
    ['no list of sources (a build stopped half way)', (r: string) => rmSync(join(r, BUILD_DIR, MANIFEST))],
    ['an unreadable list', (r: string) => writeFileSync(join(r, BUILD_DIR, MANIFEST), '{')],
    ['no compiled entry point', (r: string) => rmSync(join(r, BUILT_ENTRY))],
  ])('is stale after %s', (_, change) => {
    const root = builtRoot();
    try {
      change(root);
      expect(buildIsCurrent(root)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('sub-commands load on demand', () => {
  it('names the command the arguments run or ask help for', () => {
    expect(commandNamed([])).toBeUndefined();
    expect(commandNamed(['--help'])).toBeUndefined();
    expect(commandNamed(['golden', '-S', '64', '--out', 'sim'])).toBe('golden');
    expect(commandNamed(['help', 'sim'])).toBe('sim');
    expect(commandNamed(['-h', 'cluster', 'run', 'x.elf'])).toBe('cluster');
  });

  it('lists every command as its module defines it', async () => {
    for (const c of COMMANDS) {
      const cmd = new Command(c.name);
      (await c.load()).register(cmd);
      expect(new Help().subcommandTerm(cmd)).toBe(c.usage ? `${c.name} ${c.usage}` : c.name);
    }
  });

  it('defines only the named command in full, and lists the others', async () => {
    const program = new Command('itasim');
    await registerCommands(program, ['compare', 'a', 'b']);
    expect(program.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
    const defined = program.commands.filter((c) => c.registeredArguments.length || c.options.length);
    expect(defined.map((c) => c.name())).toEqual(['compare']);
    expect(program.helpInformation()).toContain('compare <a> <b>');
    expect(program.helpInformation()).toContain('golden [options]');
  });
});
