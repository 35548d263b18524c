#!/usr/bin/env node
// Entry point of the `itasim` command: the compiled CLI in dist/ when it was built from the sources
// as they are now (see build-state.js), otherwise the TypeScript sources through tsx's loader.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILT_ENTRY, buildIsCurrent } from './build-state.js';

const root = join(import.meta.dirname, '..');
if (buildIsCurrent(root)) {
  await import(pathToFileURL(join(root, BUILT_ENTRY)).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../scripts/itasim.ts');
}
