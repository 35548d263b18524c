/**
 * `itasim recompute --from <pyita-folder> --out <folder>`: reads the inputs and constants of a
 * PyITA folder, recomputes every output with the integer reference (`rtl-model/ref`) and writes
 * the complete file set, atomically. The C header is written when the source has one, with the
 * same command line in its first line.
 */
import type { Command } from 'commander';
import { InputError } from '../../rtl-model/errors.ts';
import { computeOutputs, computeSteps } from '../../rtl-model/ref/ita.ts';
import {
  folderFileCount,
  HEADER_PATH,
  headerCommandLine,
  DiskFolder,
  folderJobs,
  readInputs,
  writeJobs,
} from '../../golden/folder.ts';
import { writeFolderAtomicAsync } from '../../golden/atomic.ts';
import { interruptible } from '../interrupt.ts';
import { ACTIVATIONS } from '../../golden/types.ts';
import type { Activation, ItaParams } from '../../golden/types.ts';
import { progressBar } from '../progress.ts';

export interface RecomputeOptions {
  from: string;
  out: string;
  activation?: Activation;
}

/**
 * Recomputes a folder; returns the parameters it found. Files are written one at a time with the
 * event loop let in between, so that an interrupt removes the temporary folder.
 */
export async function recompute(o: RecomputeOptions): Promise<ItaParams> {
  const files = new DiskFolder(o.from);
  const inputs = readInputs(files, { activation: o.activation, where: o.from });
  const header = files.get(HEADER_PATH);
  // The header's first line quotes the generating command line; it is kept when it has PyITA's form.
  const commandLine = (header && headerCommandLine(header)) ?? '';
  const exportSnitchCluster = header !== undefined;
  const computing = progressBar('computing', computeSteps(inputs));
  const outputs = computeOutputs(inputs, () => computing.increment());
  computing.stop();
  const writing = progressBar('writing', folderFileCount(inputs.params, exportSnitchCluster));
  try {
    const jobs = folderJobs({ inputs, outputs }, { commandLine, exportSnitchCluster });
    // Interruptible only while writing: the computation is synchronous, and there Ctrl-C ends
    // the process at once (nothing is on disk yet).
    await interruptible(() =>
      writeFolderAtomicAsync(o.out, async (tmp) => {
        for (const job of jobs) {
          writeJobs(tmp, [job]);
          writing.increment();
          await new Promise((done) => setImmediate(done));
        }
      }),
    );
  } finally {
    writing.stop();
  }
  return inputs.params;
}

/** Defines `itasim recompute` (its flags and action) on the command `index.ts` names and describes. */
export function register(cmd: Command): void {
  cmd
    .requiredOption('--from <folder>', 'PyITA folder to read the inputs and constants from')
    .requiredOption(
      '--out <folder>',
      'folder to write (a new or empty one; with --force, its files of the same names are replaced)',
    )
    .option(
      '--activation <name>',
      `feed-forward activation (${ACTIVATIONS.join(', ')}); default: found from the folder`,
    )
    .action(async (opts: { from: string; out: string; activation?: string }) => {
      if (opts.activation !== undefined && !(ACTIVATIONS as readonly string[]).includes(opts.activation))
        throw new InputError(
          `--activation must be one of ${ACTIVATIONS.join(', ')}, got '${opts.activation}'`,
        );
      const p = await recompute({
        from: opts.from,
        out: opts.out,
        activation: opts.activation as Activation | undefined,
      });
      process.stdout.write(
        `recomputed S=${p.S} E=${p.E} P=${p.P} F=${p.F} H=${p.H} activation=${p.activation} bias=${p.bias ? 'yes' : 'no'} -> ${opts.out}\n`,
      );
    });
}
