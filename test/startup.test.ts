/**
 * How the command line starts: the checked-in files it reads found from the repository root, from
 * the TypeScript sources and from a compiled form alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoUrl } from '../rtl-model/repo.ts';

describe('checked-in files', () => {
  it('are found from the repository root', () => {
    const pkg = fileURLToPath(repoUrl('package.json'));
    expect(JSON.parse(readFileSync(pkg, 'utf8')).name).toBe('itasim');
    expect(existsSync(fileURLToPath(repoUrl('sw/bin/tiler.elf')))).toBe(true);
  });
});
