/**
 * How the command line starts: the checked-in files it reads found from the repository root, from
 * the TypeScript sources and from a compiled form alike, and each sub-command's module loaded only
 * when that command runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandNamed, registerCommands } from '../scripts/commands/index.ts';
import { repoUrl } from '../rtl-model/repo.ts';

describe('checked-in files', () => {
  it('are found from the repository root', () => {
    const pkg = fileURLToPath(repoUrl('package.json'));
    expect(JSON.parse(readFileSync(pkg, 'utf8')).name).toBe('itasim');
    expect(existsSync(fileURLToPath(repoUrl('sw/bin/tiler.elf')))).toBe(true);
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
