/**
 * The sizes of a PyITA folder (S, E, P, F, H, activation) come from its contents: the shapes of
 * `mha.npz` and the activation whose F1 result matches `standalone/` (`readInputs`). The folder's
 * name is only a cross-check: PyITA's own naming (`S64_E128_..._H1_gelu`,
 * `simvectors/data_S64_E128_P64_F256_H1_B1_Gelu`) may state some of them, and a name that says
 * otherwise than the files is refused. Any other name (`itasim golden --out case`, a fuzzer's
 * reproducer `folder/`) is fine. A folder without `mha.npz`, holding only the text files the RTL
 * testbenches read, has no other record of its sizes: its name must state them.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../rtl-model/errors.ts';
import { readInputs } from '../golden/folder.ts';
import type { Activation } from '../golden/types.ts';
import { dimsFromName } from '../rtl-model/ita/standalone.ts';

/** What a folder holds, as the model's runs name it. */
export interface FolderSizes {
  S: number;
  E: number;
  P: number;
  F: number;
  H: number;
  bias: boolean;
  activation: Activation;
}

/** The sizes a folder name states (each only if it does). */
function sizesInName(name: string): Partial<FolderSizes> {
  const out: Partial<FolderSizes> = {};
  const dims = /(?:^|_)S(\d+)_E(\d+)_P(\d+)_F(\d+)_H(\d+)(?=_|$)/i.exec(name);
  if (!dims) return out;
  [out.S, out.E, out.P, out.F, out.H] = dims.slice(1, 6).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const rest = name.slice(dims.index + dims[0].length);
  const b = /^_B([01])(?=_|$)/i.exec(rest);
  if (b) out.bias = b[1] === '1';
  const act = /_(identity|gelu|relu)(?=_|$)/i.exec(rest);
  if (act) out.activation = act[1]!.toLowerCase() as Activation;
  return out;
}

/**
 * The sizes of the folder `dir` (`param` names it in errors) and the name the model's runs get:
 * the folder's own when it has the form the models read (`S64_E64_P64_F64_H1_gelu...`; checked-in
 * RTL traces are found by it), otherwise one of that form made of the sizes.
 */
export function folderSizes(dir: string, param = '--from'): { sizes: FolderSizes; name: string } {
  const name = basename(resolve(dir));
  if (!existsSync(join(dir, 'mha.npz'))) {
    // Only the text files the RTL testbenches read: their sizes are those the name states.
    const d = dimsFromName(name);
    return { sizes: { ...d, bias: !/_nobias|_B0(?=_|$)/i.test(name) }, name };
  }
  const p = readInputs(dir).params;
  const sizes: FolderSizes = {
    S: p.S,
    E: p.E,
    P: p.P,
    F: p.F,
    H: p.H,
    bias: p.bias,
    activation: p.activation,
  };
  const said = sizesInName(name);
  for (const k of ['S', 'E', 'P', 'F', 'H', 'bias', 'activation'] as const) {
    const v = said[k];
    if (v !== undefined && v !== sizes[k]) {
      const show = (x: unknown): string => (k === 'bias' ? (x ? 'B1' : 'B0') : `${k}=${String(x)}`);
      throw new InputError(
        `${param}: ${dir}: the folder's name says ${show(v)}, but its files hold ${show(sizes[k])}`,
      );
    }
  }
  // The models read sizes from a name of exactly this form; checked-in RTL traces are keyed by it.
  const own = /S\d+_E\d+_P\d+_F\d+_H\d+_(identity|gelu|relu)/.test(name);
  return { sizes, name: own ? name : `S${p.S}_E${p.E}_P${p.P}_F${p.F}_H${p.H}_${p.activation}` };
}
