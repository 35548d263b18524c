/**
 * The files the testbenches stream, checked before a run against the sizes of the folder: each
 * `standalone/` stream holds exactly the values its tensors give (a truncated file would make the
 * model wait for data forever) within its type's range (an int8 file holding 300 would give a
 * failing run that looks like a model bug), and each `hwpe/` image exactly its words. A bad file is
 * an InputError naming the file, the line and what was expected.
 */
import { InputError } from '../rtl-model/errors.ts';
import type { ItaParams } from './types.ts';
import { hwpeFiles, standaloneFiles } from './spec.ts';
import type { HexFile, StreamFile } from './spec.ts';
import { parseInts } from './text.ts';

/** Files by path within the folder (`standalone/Q.txt`). */
export type FolderFileMap = Pick<Map<string, Uint8Array>, 'get'>;

/** The range of a stream's values by the tensor it holds: biases 24-bit, softmax uint8, else int8. */
function rangeOf(f: StreamFile): [number, number, string] {
  const t = f.segments[0]!.tensor;
  if (/^B/.test(t)) return [-(2 ** 23), 2 ** 23 - 1, '24-bit signed'];
  if (t === 'A_soft') return [0, 255, 'uint8'];
  return [-128, 127, 'int8'];
}

/** The line (from 1) holding the `k`-th value (from 0) of a text of integers. */
function lineOf(data: Uint8Array, k: number): number {
  const lines = new TextDecoder().decode(data).split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    seen += lines[i]!.split(/\s+/).filter((x) => x.length > 0).length;
    if (seen > k) return i + 1;
  }
  return lines.length;
}

/** Lines of a text that hold something (the last, empty one after a final newline not counted). */
function filledLines(data: Uint8Array): number {
  const text = new TextDecoder().decode(data).trimEnd();
  return text.length === 0 ? 0 : text.split('\n').length;
}

function sizes(p: ItaParams): string {
  return `S=${p.S} E=${p.E} P=${p.P} F=${p.F} H=${p.H}`;
}

/** Checks one stream file (if the folder has it): its count of values and their range. */
function checkStream(files: FolderFileMap, f: StreamFile, p: ItaParams, where: string): void {
  const data = files.get(f.path);
  if (!data) return;
  const file = `${where}/${f.path}`;
  const v = parseInts(data, file);
  const expected = f.segments.reduce((n, s) => n + s.length, 0);
  if (v.length < expected)
    throw new InputError(
      `${file}: ends at line ${filledLines(data)} after ${v.length} values; expected ${expected} for ${sizes(p)} (a truncated file?)`,
    );
  if (v.length > expected)
    throw new InputError(
      `${file}: line ${lineOf(data, expected)}: more values than the ${expected} expected for ${sizes(p)}`,
    );
  const [lo, hi, what] = rangeOf(f);
  for (let i = 0; i < v.length; i++)
    if (v[i]! < lo || v[i]! > hi)
      throw new InputError(`${file}: line ${lineOf(data, i)}: ${v[i]} is outside ${what} (${lo} to ${hi})`);
}

/** The 32-bit words of a hex image (8-bit values 4 per word, 24-bit values 4 per 3 words). */
function wordsOf(f: HexFile): number {
  return f.parts.reduce((n, { seg, bits }) => n + (seg.length * bits) / 32, 0);
}

/** Checks one hex image (if the folder has it): one word per line, as many as the sizes give. */
function checkHex(files: FolderFileMap, f: HexFile, p: ItaParams, where: string): void {
  const data = files.get(f.path);
  if (!data) return;
  const file = `${where}/${f.path}`;
  const lines = filledLines(data);
  const expected = wordsOf(f);
  if (lines < expected)
    throw new InputError(
      `${file}: ends at line ${lines}; expected ${expected} words for ${sizes(p)} (a truncated file?)`,
    );
  if (lines > expected)
    throw new InputError(
      `${file}: line ${expected + 1}: more than the ${expected} words expected for ${sizes(p)}`,
    );
}

/** Checks every `standalone/` stream the folder has against the sizes `p`. */
export function checkStandaloneStreams(files: FolderFileMap, p: ItaParams, where: string): void {
  for (const f of standaloneFiles(p)) checkStream(files, f, p, where);
}

/** Checks every `hwpe/` image the folder has against the sizes `p`. */
export function checkHwpeImages(files: FolderFileMap, p: ItaParams, where: string): void {
  for (const f of hwpeFiles(p)) checkHex(files, f, p, where);
}
