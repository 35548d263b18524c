/**
 * The `itasim` command line. Each sub-command lives in `scripts/commands/` and is loaded only when
 * it runs; this file wires them and turns input errors into one line on stderr with exit code 2.
 */
import { Command, CommanderError } from 'commander';
import { InputError } from '../rtl-model/errors.ts';
import { registerCommands } from './commands/index.ts';

const program = new Command();
program
  .name('itasim')
  .description('Bit-accurate, cycle-level model of the ITA accelerator and its Snitch cluster')
  .showHelpAfterError()
  .exitOverride();

await registerCommands(program, process.argv.slice(2));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof InputError) {
    process.stderr.write(`itasim: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
