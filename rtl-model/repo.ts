/**
 * Checked-in files the model reads at run time (the cluster programs in `sw/bin/`, the reference
 * archives in `golden/data/`), found from the repository's root. This module runs from the sources
 * (`rtl-model/repo.ts`, under tsx or vitest) or compiled one folder deeper (`dist/rtl-model/repo.js`,
 * `npm run build`); its own extension tells which.
 */
const ROOT = new URL(import.meta.url.endsWith('.ts') ? '../' : '../../', import.meta.url);

/** The URL of a file given by its path from the repository's root, e.g. `sw/bin/tiler.elf`. */
export function repoUrl(path: string): URL {
  return new URL(path, ROOT);
}
