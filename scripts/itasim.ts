/**
 * The `itasim` command line. Each sub-command lives in `scripts/commands/` and is loaded only when
 * it runs; this file wires them and turns input and output errors into one line on stderr with
 * exit code 2. Long simulations run on a worker thread, so that an interrupt is handled at once
 * (see `command-thread.ts`).
 */
import { Command, CommanderError, Option } from 'commander';
import { InputError, OutputError } from '../rtl-model/errors.ts';
import { outputPolicy, takeDeferredOutputErrors } from '../golden/atomic.ts';
import { registerCommands } from './commands/index.ts';
import { commandArgs, runOnThread, runsOnThread, setUpCommandThread } from './command-thread.ts';

const args = commandArgs();
if (runsOnThread(args)) await runOnThread(import.meta.url, args);
else await runCommand();

async function runCommand(): Promise<void> {
  setUpCommandThread();

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
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError()
    .exitOverride()
    .hook('preAction', () => {
      outputPolicy.force = program.opts<{ force?: boolean }>().force === true;
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
      throw e;
    }
  }
}
