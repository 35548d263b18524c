/** Parameters and seed encoded in a reference folder's name, e.g. `S64_E64_P64_F64_H1_relu_seed2_nobias`. */
import type { Activation, ItaParams } from '../../golden/types.ts';

export function folderParams(name: string): { params: ItaParams; seed: number } {
  const m = /^S(\d+)_E(\d+)_P(\d+)_F(\d+)_H(\d+)_(identity|relu|gelu)_seed(\d+)(_nobias)?$/.exec(name);
  if (!m) throw new Error(`not a reference folder name: ${name}`);
  return {
    params: {
      S: Number(m[1]),
      E: Number(m[2]),
      P: Number(m[3]),
      F: Number(m[4]),
      H: Number(m[5]),
      activation: m[6] as Activation,
      bias: !m[8],
    },
    seed: Number(m[7]),
  };
}

/** testGenerator.py's command line for a folder, as PyITA prints it in the C header. */
export function folderArgs(name: string): string[] {
  const { params: p, seed } = folderParams(name);
  return [
    '-H',
    String(p.H),
    '-S',
    String(p.S),
    '-E',
    String(p.E),
    '-P',
    String(p.P),
    '-F',
    String(p.F),
    '--activation',
    p.activation,
    '--seed',
    String(seed),
    ...(p.bias ? [] : ['--no-bias']),
    '--export-snitch-cluster',
  ];
}
