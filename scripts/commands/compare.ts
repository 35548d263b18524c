/**
 * `itasim compare <a> <b>`: compares two PyITA folders file by file (see `golden/compare.ts`).
 * Prints one line per differing file: file, step, first differing element and both values.
 * Exit code 0 when identical, 1 on any difference, 2 when a folder cannot be read.
 */
import type { Command } from 'commander';
import { compareFolders } from '../../golden/compare.ts';
import { DiskFolder } from '../../golden/folder.ts';

/** Defines `itasim compare` (its flags and action) on the command `index.ts` names and describes. */
export function register(cmd: Command): void {
  cmd
    .argument('<a>', 'first folder (its dimensions locate the differences)')
    .argument('<b>', 'second folder')
    .action((a: string, b: string) => {
      const diffs = compareFolders(new DiskFolder(a), new DiskFolder(b), [a, b]);
      for (const d of diffs) process.stdout.write(`${d.file}: step ${d.step}: ${d.message}\n`);
      if (diffs.length > 0) {
        process.stdout.write(`${diffs.length} file(s) differ\n`);
        process.exitCode = 1;
      } else process.stdout.write('identical\n');
    });
}
