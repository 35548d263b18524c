/**
 * `itasim deploy <network.onnx> --inputs <inputs.npz> [--compare <outputs.npz>] [--cluster-only]
 * [--clock-mhz f] [--report r.html] [--vcd f] [--json]`: a user's integer ONNX graph on the
 * cycle-level cluster with ITA, every op checked against the functional executor (tiler/deploy.ts);
 * the HTML report is the one `encoder run` writes (cycles per layer and op, where each op ran and
 * why, the timeline).
 *
 * Exit code: 0 when bit-exact, 1 when an op or an output differs, 2 on bad input or a node the
 * tiler cannot map (one line naming the node, its op and why).
 */
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { checkFileOutputs } from '../../golden/atomic.ts';
import { InputError } from '../../rtl-model/errors.ts';
import { deploy, deployJson, deployText } from '../../tiler/deploy.ts';
import { buildReport, writeHtmlReport } from '../../tiler/report.ts';
import { progressBar } from '../progress.ts';

interface DeployCliOptions {
  inputs: string;
  compare?: string;
  clusterOnly?: boolean;
  clockMhz: string;
  report?: string;
  vcd?: string;
  json?: boolean;
}

export function register(cmd: Command): void {
  cmd
    .argument('<network.onnx>', "an integer graph in Deeploy's ONNX dialect")
    .requiredOption('--inputs <inputs.npz>', 'the graph inputs')
    .option('--compare <outputs.npz>', 'check the graph outputs against this npz')
    .option('--cluster-only', 'run on the 8 cores without ITA (the baseline)')
    .option('--clock-mhz <f>', 'clock for GOp/s and time', '500')
    .option('--report <out.html>', 'write the HTML report')
    .option('--vcd <file>', 'write a VCD of the run')
    .option('--json', 'print the result as JSON')
    .action((path: string, o: DeployCliOptions) => {
      const clockMHz = Number(o.clockMhz);
      if (!Number.isFinite(clockMHz) || clockMHz <= 0 || clockMHz > 10000)
        throw new InputError(`--clock-mhz must be a number from 0 (excluded) to 10000, got '${o.clockMhz}'`);
      checkFileOutputs({ '--report': o.report, '--vcd': o.vcd });
      let bar: ReturnType<typeof progressBar> | null = null;
      try {
        const r = deploy(path, o.inputs, {
          clusterOnly: !!o.clusterOnly,
          compare: o.compare,
          clockMHz,
          vcd: o.vcd,
          onProgress: (step, steps) => {
            bar ??= progressBar(o.clusterOnly ? 'cluster only' : 'ITA + cores', steps);
            bar.update(step);
          },
        });
        (bar as ReturnType<typeof progressBar> | null)?.stop();
        bar = null;
        process.stdout.write(`${o.json ? deployJson(r) : deployText(r)}\n`);
        if (o.report) {
          const rep = buildReport(r.run, {
            model: basename(dirname(path)) || basename(path),
            description: `${path}: deployed on ${r.mode === 'ita' ? 'ITA + 8 cores' : 'the 8 cores'}`,
            clockMHz,
            totalLayers: r.run.layers.length,
            clusterOnly: r.mode === 'cluster-only',
          });
          writeHtmlReport(o.report, rep, r.run);
          if (!o.json) process.stdout.write(`report written to ${o.report}\n`);
        }
        if (!r.pass) process.exitCode = 1;
      } finally {
        (bar as ReturnType<typeof progressBar> | null)?.stop();
      }
    });
}
