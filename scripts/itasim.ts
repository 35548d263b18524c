/**
 * The `itasim` command line. Each sub-command lives in `scripts/commands/` and is loaded only when
 * it runs; this file wires them and turns input and output errors into one line on stderr with
 * exit code 2. Long simulations run on a worker thread, so that an interrupt is handled at once
 * (see `command-thread.ts`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandArgs, runOnThread, runsOnThread, setUpCommandThread } from './command-thread.ts';

// The command line parser and the rest are loaded where the command runs (`runCommand`): a
// command run on a worker starts it without loading them on this thread first.

const args = commandArgs();
if (runsOnThread(args)) await runOnThread(import.meta.url, args);
else await runCommand();

/** Commander's message for a usage error as one line, without its `error: ` prefix. */
function usageError(text: string): string {
  return text
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' ')
    .replace('(Did you mean', '(did you mean')
    .replace(/^(unknown (?:command|option) '[^']*')$/, '$1 (see --help)');
}

/** The help of a command run without the sub-command it needs, as one line naming them. */
function missingCommand(help: string): string {
  const cmd = /^Usage: (\S+(?: [a-z][\w-]*)*)/.exec(help)?.[1] ?? 'itasim';
  const list = help.split(/^Commands:$/m)[1] ?? '';
  const names = [...list.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  return `${cmd.replace(/^itasim /, '')} needs a command: ${names.join(', ')} (see ${cmd} --help)`;
}

/** The version of the package (package.json), for `--version`. */
async function packageVersion(): Promise<string> {
  const { repoUrl } = await import('../rtl-model/repo.ts');
  return (JSON.parse(readFileSync(fileURLToPath(repoUrl('package.json')), 'utf8')) as { version: string })
    .version;
}

async function runCommand(): Promise<void> {
  setUpCommandThread();
  const [{ Command, CommanderError, Option }, { InputError, OutputError }, atomic, { registerCommands }] =
    await Promise.all([
      import('commander'),
      import('../rtl-model/errors.ts'),
      import('../golden/atomic.ts'),
      import('./commands/index.ts'),
    ]);
  const { outputPolicy, takeDeferredOutputErrors } = atomic;

  const program = new Command();
  program
    .name('itasim')
    .description('Bit-accurate, cycle-level model of the ITA accelerator and its Snitch cluster')
    .addOption(
      new Option(
        '--force',
        'replace existing output files (only those the command writes; other files stay)',
      ),
    )
    .addOption(
      new Option('--quiet', 'no progress on stderr (a bar on a terminal, otherwise a line every ~10 s)'),
    )
    .version(await packageVersion(), '-V, --version', 'print the version of itasim')
    .configureHelp({ showGlobalOptions: true })
    // A usage error is one line, with the nearest valid name when there is one.
    .configureOutput({
      outputError: (text, write) => write(`itasim: ${usageError(text)}\n`),
      // Only a usage error shows help on stderr: a command that needs a sub-command got none
      // (`itasim` alone still shows the whole help).
      writeErr: (text) =>
        process.stderr.write(/^Usage: itasim [a-z]/.test(text) ? `itasim: ${missingCommand(text)}\n` : text),
    })
    .exitOverride()
    .hook('preAction', async () => {
      const opts = program.opts<{ force?: boolean; quiet?: boolean }>();
      outputPolicy.force = opts.force === true;
      // (progress.ts, and the bar library with it, is loaded only by the commands that show progress)
      if (opts.quiet) (await import('./progress.ts')).progressPolicy.quiet = true;
    });

  await registerCommands(program, args);

  try {
    await program.parseAsync(args, { from: 'user' });
    // An output that failed while the run went on, reported after its results were printed.
    const [failed] = takeDeferredOutputErrors();
    if (failed) throw failed;
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
    } else if (e instanceof InputError || e instanceof OutputError) {
      process.stderr.write(`itasim: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      // Anything else is a bug in itasim, and is said to be one (with its stack).
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      process.stderr.write(`itasim: internal error (a bug in itasim):\n${text}\n`);
      process.exitCode = 1;
    }
  }
}
