import type { Command } from 'commander';

/**
 * A sub-command as the top-level help lists it (name, what follows the name, one line), and the
 * module that defines it: its flags, its action and everything they import.
 */
export interface CommandEntry {
  name: string;
  /** Arguments and `[options]` as the top-level help shows them after the name. */
  usage: string;
  description: string;
  load(): Promise<{ register(cmd: Command): void }>;
}

/** Every sub-command, in the order the help lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'golden',
    usage: '[options]',
    description:
      'generate a PyITA test-vector folder (drop-in for testGenerator.py: same files for the same seed)',
    load: () => import('./golden.ts'),
  },
  {
    name: 'recompute',
    usage: '[options]',
    description:
      'recompute every output of a PyITA folder with the integer reference and write the complete file set',
    load: () => import('./recompute.ts'),
  },
  {
    name: 'compare',
    usage: '<a> <b>',
    description: 'compare two PyITA folders file by file (exit 0 identical, 1 different, 2 bad input)',
    load: () => import('./compare.ts'),
  },
  {
    name: 'sim',
    usage: '[options]',
    description: 'run the cycle-level ITA model on a reference folder (checked) or on random data',
    load: () => import('./sim.ts'),
  },
  {
    name: 'hwpe',
    usage: '[options]',
    description:
      'run the HWPE wrapper testbench on a PyITA folder (hwpe/mem.txt), check every image, print the job table',
    load: () => import('./hwpe.ts'),
  },
  {
    name: 'fuzz',
    usage: '[options]',
    description: 'run the property-based tests at scale; a failure is shrunk and written as a reproducer',
    load: () => import('./fuzz.ts'),
  },
  {
    name: 'cluster',
    usage: '',
    description: 'Run programs on the cycle-level Snitch cluster',
    load: () => import('./cluster.ts'),
  },
  {
    name: 'onnx',
    usage: '',
    description: "run integer ONNX graphs in Deeploy's dialect bit-exactly",
    load: () => import('./onnx.ts'),
  },
  {
    name: 'encoder',
    usage: '',
    description: 'run whole Transformer encoders on the cluster with ITA (the tiler)',
    load: () => import('./encoder.ts'),
  },
  {
    name: 'deploy',
    usage: '[options] <network.onnx>',
    description:
      'run an integer ONNX graph on the cycle-level cluster with ITA, every op checked (exit 2 names a node without a mapping)',
    load: () => import('./deploy.ts'),
  },
];

/**
 * The sub-command the arguments after `itasim` run or ask help for: the first operand, or the one
 * after `help`.
 */
export function commandNamed(args: readonly string[]): string | undefined {
  const operands = args.filter((a) => !a.startsWith('-'));
  return operands[0] === 'help' ? operands[1] : operands[0];
}

/**
 * Adds every sub-command to the program: the one the arguments name in full, with its module
 * (`load`); the others by name and description only, enough for the top-level help. So `itasim
 * --help` loads no command module and a command loads only its own.
 */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const named = commandNamed(args);
  for (const c of COMMANDS) {
    const cmd = program.command(c.name).description(c.description);
    if (c.name === named) (await c.load()).register(cmd);
  }
  const usage = new Map(COMMANDS.map((c) => [c.name, c.usage]));
  const { Help } = await import('commander');
  const help = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => {
      const u = usage.get(cmd.name());
      return u === undefined ? help.subcommandTerm(cmd) : u ? `${cmd.name()} ${u}` : cmd.name();
    },
  });
}
