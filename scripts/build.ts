/**
 * `npm run build` (run by `npm ci` as `prepare`): compiles the `itasim` command line and everything
 * it imports to JavaScript in `dist/`, the same tree one folder deeper (`dist/scripts/itasim.js`), so
 * that `bin/itasim.js` starts without transpiling. Types are not checked here (`npm test` does).
 *
 * `dist/build.json` lists every source the build read with its modification time and size, taken
 * before compiling; `bin/itasim.js` runs the compiled form only while each of them still matches,
 * the TypeScript sources through tsx otherwise. It is written last: a build that stops half way
 * leaves none, and the sources run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_DIR, MANIFEST, stamp, type Manifest } from '../bin/build-state.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Entry points; every module they import, statically or by `import('...')`, is compiled too. */
const ENTRIES = ['scripts/itasim.ts'];
/** Files that shape the output without being imported. */
const CONFIG = ['tsconfig.json', 'scripts/build.ts'];

async function build(): Promise<void> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    console.log('itasim build: typescript is not installed (devDependencies); the CLI runs from the sources');
    return;
  }
  const fail = (diags: readonly import('typescript').Diagnostic[]): never => {
    const host = {
      getCanonicalFileName: (f: string) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => '\n',
    };
    throw new Error(`itasim build failed:\n${ts.formatDiagnostics(diags, host)}`);
  };
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => fail([d]),
  })!;
  if (config.errors.length) fail(config.errors);
  const out = join(ROOT, BUILD_DIR);
  const program = ts.createProgram(
    ENTRIES.map((e) => join(ROOT, e)),
    {
      ...config.options,
      noEmit: false,
      noCheck: true,
      outDir: out,
      rootDir: ROOT,
      rewriteRelativeImportExtensions: true,
      sourceMap: false,
      declaration: false,
    },
  );
  const sources = program
    .getSourceFiles()
    .map((f) => resolve(f.fileName))
    .filter((f) => f.startsWith(ROOT + sep) && !f.includes(`${sep}node_modules${sep}`))
    .map((f) => relative(ROOT, f).split(sep).join('/'));
  // stamps before compiling: a source edited meanwhile no longer matches and runs from the sources
  const manifest: Manifest = { sources: [...CONFIG, ...sources].map((p) => stamp(ROOT, p)) };
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = program.emit();
  const diags = [...program.getOptionsDiagnostics(), ...result.diagnostics];
  if (result.emitSkipped || diags.length) fail(diags);
  writeFileSync(join(out, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
  console.log(`itasim build: ${sources.length} modules compiled to ${BUILD_DIR}/`);
}

await build();
