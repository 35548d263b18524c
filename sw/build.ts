/**
 * Builds the cluster's bare-metal programs: every `kernels/<name>.c` with the runtime into
 * `bin/<name>.elf`, using clang + lld for rv32ima (Debian packages `clang lld`).
 *
 *   npm run build:sw            build into sw/bin
 *   npm run build:sw -- --out d build into directory d (used by the reproducibility test)
 *
 * The build is reproducible: fixed flags, relative paths, no build id, no debug info, so the same
 * clang version produces the same bytes. `bin/TOOLCHAIN` records the compiler that made the
 * committed ELFs; `bin/MANIFEST` the SHA-256 of every source, of the flags and of every ELF, so a
 * machine without the compiler still detects an ELF that is stale or damaged.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SW = dirname(fileURLToPath(import.meta.url));
export const CFLAGS = [
  '--target=riscv32-unknown-elf',
  '-march=rv32ima',
  '-mabi=ilp32',
  '-mno-relax',
  '-O2',
  '-ffreestanding',
  '-fno-common',
  '-nostdlib',
  '-fuse-ld=lld',
  '-Wall',
  '-Werror',
  '-Iruntime',
  '-Truntime/link.ld',
  '-Wl,--build-id=none',
];

/** First line of `clang --version`, or null when clang is not installed. */
export function clangVersion(): string | null {
  try {
    return execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return null;
  }
}

export function kernels(): string[] {
  return readdirSync(join(SW, 'kernels'))
    .filter((f) => f.endsWith('.c'))
    .map((f) => f.slice(0, -2))
    .sort();
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The inputs of the build: every runtime and kernel source (paths relative to sw/). */
export function sources(): string[] {
  const list = (d: string): string[] =>
    readdirSync(join(SW, d))
      .sort()
      .map((f) => `${d}/${f}`);
  return [...list('runtime'), ...list('kernels').filter((f) => f.endsWith('.c'))];
}

/**
 * The manifest of a build: one `<sha256>  <name>` line per source, for the flags, and per ELF in
 * `binDir`.
 */
export function manifest(binDir: string): string {
  const lines = sources().map((f) => `${sha256(readFileSync(join(SW, f)))}  ${f}`);
  lines.push(`${sha256(CFLAGS.join(' '))}  (flags)`);
  for (const k of kernels()) lines.push(`${sha256(readFileSync(join(binDir, `${k}.elf`)))}  bin/${k}.elf`);
  return lines.join('\n') + '\n';
}

/** Builds every kernel into `outDir`; returns the paths written. */
export function build(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const out: string[] = [];
  for (const k of kernels()) {
    const elf = join(outDir, `${k}.elf`);
    execFileSync('clang', [...CFLAGS, 'runtime/crt0.S', 'runtime/libc.c', `kernels/${k}.c`, '-o', elf], {
      cwd: SW,
      stdio: 'inherit',
    });
    out.push(elf);
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 ? resolve(process.argv[i + 1]!) : join(SW, 'bin');
  const v = clangVersion();
  if (!v) {
    process.stderr.write('build:sw: clang not found (apt-get install clang lld)\n');
    process.exit(2);
  }
  for (const f of build(outDir)) console.log(f);
  if (i < 0) {
    writeFileSync(join(outDir, 'TOOLCHAIN'), `${v}\n`);
    writeFileSync(join(outDir, 'MANIFEST'), manifest(outDir));
  }
}
