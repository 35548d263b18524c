/**
 * `itasim deploy <network.onnx> --inputs <inputs.npz> [--compare <outputs.npz>] [--cluster-only]
 * [--json]`: a user's integer ONNX graph on the cycle-level cluster with ITA, every op checked
 * against the functional executor (tiler/deploy.ts).
 *
 * Exit code: 0 when bit-exact, 1 when an op or an output differs, 2 on bad input or a node the
 * tiler cannot map (one line naming the node, its op and why).
 */
import type { Command } from 'commander';
import { deploy, deployJson, deployText } from '../../tiler/deploy.ts';
import { progressBar } from '../progress.ts';

interface DeployCliOptions {
  inputs: string;
  compare?: string;
  clusterOnly?: boolean;
  json?: boolean;
}

export function register(cmd: Command): void {
  cmd
    .argument('<network.onnx>', "an integer graph in Deeploy's ONNX dialect")
    .requiredOption('--inputs <inputs.npz>', 'the graph inputs')
    .option('--compare <outputs.npz>', 'check the graph outputs against this npz')
    .option('--cluster-only', 'run on the 8 cores without ITA (the baseline)')
    .option('--json', 'print the result as JSON')
    .action((path: string, o: DeployCliOptions) => {
      let bar: ReturnType<typeof progressBar> | null = null;
      try {
        const r = deploy(path, o.inputs, {
          clusterOnly: !!o.clusterOnly,
          compare: o.compare,
          onProgress: (step, steps) => {
            bar ??= progressBar(o.clusterOnly ? 'cluster only' : 'ITA + cores', steps);
            bar.update(step);
          },
        });
        (bar as ReturnType<typeof progressBar> | null)?.stop();
        bar = null;
        process.stdout.write(`${o.json ? deployJson(r) : deployText(r)}\n`);
        if (!r.pass) process.exitCode = 1;
      } finally {
        (bar as ReturnType<typeof progressBar> | null)?.stop();
      }
    });
}
