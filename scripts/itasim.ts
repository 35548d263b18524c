/**
 * The `itasim` command line. Each sub-command lives in `scripts/commands/` and is loaded only when
 * it runs; this file wires them and turns input and output errors into one line on stderr with
 * exit code 2.
 */
import { Command, CommanderError, Option } from 'commander';
import { InputError, OutputError } from '../rtl-model/errors.ts';
import { outputPolicy, takeDeferredOutputErrors } from '../golden/atomic.ts';
import { registerCommands } from './commands/index.ts';

const program = new Command();
program
  .name('itasim')
  .description('Bit-accurate, cycle-level model of the ITA accelerator and its Snitch cluster')
  .addOption(
    new Option('--force', 'replace existing output files (only those the command writes; other files stay)'),
  )
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError()
  .exitOverride()
  .hook('preAction', () => {
    outputPolicy.force = program.opts<{ force?: boolean }>().force === true;
  });

await registerCommands(program, process.argv.slice(2));

try {
  await program.parseAsync(process.argv);
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
