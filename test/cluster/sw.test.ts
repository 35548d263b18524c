/**
 * The committed programs in sw/bin are what `npm run build:sw` makes from the committed sources.
 * Always: the manifest written by the build matches the current sources, flags and ELFs (a source
 * edited without a rebuild, or a damaged ELF, fails here). When the recorded clang is installed,
 * a rebuild into a temporary directory must also reproduce every ELF byte for byte.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { build, clangVersion, kernels, manifest } from '../../sw/build.ts';

const BIN = new URL('../../sw/bin/', import.meta.url);
const recorded = readFileSync(new URL('TOOLCHAIN', BIN), 'utf8').trim();

describe('sw/bin', () => {
  it('holds one ELF per kernel', () => {
    for (const k of kernels()) expect(readFileSync(new URL(`${k}.elf`, BIN)).length).toBeGreaterThan(1000);
  });
  it('is up to date with the sources (manifest of sources, flags and ELFs)', () => {
    expect(manifest(fileURLToPath(BIN))).toBe(readFileSync(new URL('MANIFEST', BIN), 'utf8'));
  });
  it(`rebuilding reproduces every ELF byte for byte when ${recorded} is installed`, () => {
    if (clangVersion() !== recorded) return; // the manifest test above still guards the ELFs
    const dir = mkdtempSync(join(tmpdir(), 'itasim-sw-'));
    try {
      for (const f of build(dir)) {
        const name = f.slice(dir.length + 1);
        expect(Buffer.compare(readFileSync(f), readFileSync(new URL(name, BIN))), name).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
