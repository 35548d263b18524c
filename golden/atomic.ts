/**
 * Atomic file and folder writes: content goes to a temporary sibling that is renamed into place
 * only when complete, so an interrupted run never leaves a file or folder that looks finished.
 *
 * Outputs never destroy what the user did not ask to replace: an existing file, or a non-empty
 * folder, at an output path is refused unless `outputPolicy.force` is set (the CLI's `--force`),
 * and even then only the files the command writes are replaced. Every temporary that exists is
 * listed in a registry, so an interrupted run can remove them all (`removeTemporaries`).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { OutputError } from '../rtl-model/errors.ts';

/** Whether existing outputs may be replaced (set once by the CLI from `--force`). */
export const outputPolicy = { force: false };

/** Temporaries (files or folders) this process created and has not yet renamed or removed. */
const liveTemporaries = new Set<string>();

/** Where the registry's changes are also sent (a worker thread's to the main thread's). */
let mirror: ((op: 'track' | 'untrack', path: string) => void) | undefined;

/** Sends every later change of the registry to `to` as well. */
export function mirrorTemporaries(to: (op: 'track' | 'untrack', path: string) => void): void {
  mirror = to;
}

/**
 * Adds a temporary to the registry (before it is created); it is removed by `removeTemporaries`
 * if the run is stopped.
 */
export function trackTemporary(path: string): void {
  liveTemporaries.add(resolve(path));
  mirror?.('track', resolve(path));
}

/** Takes a temporary off the registry (it was renamed into place or removed). */
export function untrackTemporary(path: string): void {
  liveTemporaries.delete(resolve(path));
  mirror?.('untrack', resolve(path));
}

/** What stops the writers of temporaries (e.g. worker threads) before they are removed. */
const interruptHooks = new Set<() => void>();

/** Registers `stop`, run on an interrupt before the temporaries go; returns its removal. */
export function onInterrupt(stop: () => void): () => void {
  interruptHooks.add(stop);
  return () => void interruptHooks.delete(stop);
}

/** Stops every writer, then removes every live temporary (for an interrupted run); never throws. */
export function removeTemporaries(): void {
  for (const stop of interruptHooks) {
    try {
      stop();
    } catch {
      // The removal below is tried all the same.
    }
  }
  for (const p of liveTemporaries) {
    try {
      rmSync(p, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Nothing more can be done about one that cannot be removed.
    }
  }
  liveTemporaries.clear();
}

/**
 * Output errors met while a run goes on (a dump that fills the disk halfway): the run finishes and
 * its results are printed, then the CLI reports the first of these and exits with code 2.
 */
const deferredErrors: OutputError[] = [];

/** Records an output error to be reported once the run's results are printed. */
export function deferOutputError(e: OutputError): void {
  deferredErrors.push(e);
}

/** The output errors recorded so far (the list is emptied). */
export function takeDeferredOutputErrors(): OutputError[] {
  return deferredErrors.splice(0);
}

/** What a failed file-system call means to a user, in a few words. */
const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a parent is not a folder',
  EISDIR: 'is a folder',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'name too long',
  EEXIST: 'exists',
  ENOTEMPTY: 'is a folder that is not empty',
  EBUSY: 'busy',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  EFBIG: 'file too large',
  EINVAL: 'invalid path',
  EXDEV: 'on another file system than its temporary',
};

/**
 * `e` as an OutputError naming the parameter and path when it is a file-system error (one with a
 * code), otherwise `e` itself (a bug, which keeps its stack).
 */
export function outputError(param: string, path: string, e: unknown): unknown {
  if (e instanceof OutputError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  return new OutputError(`${param}: ${path}: ${REASONS[code] ?? code.toLowerCase()}`);
}

function exists(path: string): OutputError {
  return new OutputError(`${path} exists (use --force to replace the files this command writes)`);
}

/**
 * Checks, before a run, that a file may be written at `path` (see `checkFileOutput`); undefined
 * paths (outputs not asked for) pass.
 */
export function checkFileOutputs(outputs: Record<string, string | undefined>): void {
  for (const [param, path] of Object.entries(outputs)) if (path !== undefined) checkFileOutput(param, path);
}

/**
 * Checks that a file may be written at `path` (named by `param`): not a folder, and not an
 * existing file unless `--force`. Throws an OutputError.
 */
export function checkFileOutput(param: string, path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw outputError(param, path, e);
    // A new file: its folder must exist (checked here so that a run fails before it starts).
    let dir;
    try {
      dir = statSync(dirname(path));
    } catch (e2) {
      if ((e2 as { code?: unknown }).code === 'ENOENT')
        throw new OutputError(`${param}: ${path}: no such folder: ${dirname(path)}`);
      throw outputError(param, path, e2);
    }
    if (!dir.isDirectory()) throw new OutputError(`${param}: ${path}: a parent is not a folder`);
    return;
  }
  if (st.isDirectory()) throw new OutputError(`${param}: ${path}: is a folder`);
  // A device, pipe or socket is never replaced by a file, not even with --force.
  if (!st.isFile()) throw new OutputError(`${param}: ${path}: is not a regular file`);
  if (!outputPolicy.force) throw new OutputError(`${param}: ${exists(path).message}`);
}

/**
 * Writes one file atomically (to a temporary beside it, then renamed). `param` names the output
 * in errors; the file is refused if it exists and `--force` was not given.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, param = 'output'): void {
  checkFileOutput(param, path);
  const tmp = `${path}.tmp-${process.pid}`;
  trackTemporary(tmp);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw outputError(param, path, e);
  } finally {
    untrackTemporary(tmp);
  }
}

/** Every file below `dir` (relative paths), depth first. */
function filesBelow(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesBelow(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** A folder being built: where it goes, its temporary, and whether it goes into an existing one. */
interface FolderPlan {
  out: string;
  param: string;
  target: string;
  tmp: string;
  merge: boolean;
}

/** Checks that a folder may be written at `out` and makes its temporary (tracked). */
function beginFolder(out: string, param: string): FolderPlan {
  const target = resolve(out);
  let merge = false;
  try {
    const st = statSync(target);
    if (!st.isDirectory()) {
      const why = outputPolicy.force ? `${out}: is a file, not a folder` : exists(out).message;
      throw new OutputError(`${param}: ${why}`);
    }
    merge = true;
    if (readdirSync(target).length > 0 && !outputPolicy.force)
      throw new OutputError(`${param}: ${exists(out).message}`);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw outputError(param, out, e);
  }
  const parent = dirname(target);
  const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}`);
  trackTemporary(tmp);
  try {
    mkdirSync(parent, { recursive: true });
    // mkdirSync (not mkdtempSync): the folder gets the umask's mode, as any other the user makes.
    mkdirSync(tmp);
  } catch (e) {
    untrackTemporary(tmp);
    throw outputError(param, out, e);
  }
  return { out, param, target, tmp, merge };
}

/** Moves a complete temporary folder into place (renamed, or merged file by file). */
function commitFolder(p: FolderPlan): void {
  try {
    if (!p.merge) renameSync(p.tmp, p.target);
    else {
      for (const f of filesBelow(p.tmp)) {
        mkdirSync(dirname(join(p.target, f)), { recursive: true });
        renameSync(join(p.tmp, f), join(p.target, f));
      }
      // Sub-folders the command makes even when empty.
      for (const e of readdirSync(p.tmp, { withFileTypes: true }))
        if (e.isDirectory()) mkdirSync(join(p.target, e.name), { recursive: true });
    }
  } catch (e) {
    throw outputError(p.param, p.out, e);
  }
}

/** Removes what is left of the temporary folder. */
function endFolder(p: FolderPlan): void {
  rmSync(p.tmp, { recursive: true, force: true });
  untrackTemporary(p.tmp);
}

/**
 * Builds a folder atomically: `fill` writes into a temporary folder beside `out`. A new `out` is
 * the temporary renamed; an existing empty `out`, or with `--force` a non-empty one, receives the
 * files of the temporary one by one (each renamed over its namesake), and every other file in it
 * stays. A non-empty `out` without `--force`, or a file at `out`, is refused. `param` names the
 * output in errors.
 */
export function writeFolderAtomic(out: string, fill: (tmpDir: string) => void, param = '--out'): void {
  const p = beginFolder(out, param);
  try {
    try {
      fill(p.tmp);
    } catch (e) {
      throw outputError(param, out, e);
    }
    commitFolder(p);
  } finally {
    endFolder(p);
  }
}

/** `writeFolderAtomic` with a `fill` that takes its time (and lets signals be handled meanwhile). */
export async function writeFolderAtomicAsync(
  out: string,
  fill: (tmpDir: string) => Promise<void>,
  param = '--out',
): Promise<void> {
  const p = beginFolder(out, param);
  try {
    try {
      await fill(p.tmp);
    } catch (e) {
      throw outputError(param, out, e);
    }
    commitFolder(p);
  } finally {
    endFolder(p);
  }
}
