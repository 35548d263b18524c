// Which form of the CLI `bin/itasim.js` runs: the JavaScript compiled into dist/ by
// `npm run build` (scripts/build.ts) while every source it was compiled from is unchanged, the
// TypeScript sources through tsx otherwise. A source counts as unchanged while its modification time
// and size are those dist/build.json recorded when the build read it.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Folder of the compiled CLI, from the repository's root. */
export const BUILD_DIR = 'dist';
/** The build's list of sources, in BUILD_DIR. */
export const MANIFEST = 'build.json';
/** The compiled entry point, from the repository's root. */
export const BUILT_ENTRY = `${BUILD_DIR}/scripts/itasim.js`;

/**
 * @typedef {{ path: string, mtimeMs: number, size: number }} SourceStamp
 * @typedef {{ sources: SourceStamp[] }} Manifest
 */

/**
 * Modification time and size of a file.
 * @param {string} root the repository's root
 * @param {string} path from the root, with `/`
 * @returns {SourceStamp}
 */
export function stamp(root, path) {
  const s = statSync(join(root, path));
  return { path, mtimeMs: s.mtimeMs, size: s.size };
}

/**
 * True when dist/ holds a complete build of the sources as they are now.
 * @param {string} root the repository's root
 * @returns {boolean}
 */
export function buildIsCurrent(root) {
  /** @type {Manifest} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, BUILD_DIR, MANIFEST), 'utf8'));
  } catch {
    return false;
  }
  if (!Array.isArray(manifest.sources) || !statSync(join(root, BUILT_ENTRY), { throwIfNoEntry: false }))
    return false;
  for (const s of manifest.sources) {
    const now = statSync(join(root, s.path), { throwIfNoEntry: false });
    if (!now || now.mtimeMs !== s.mtimeMs || now.size !== s.size) return false;
  }
  return true;
}
