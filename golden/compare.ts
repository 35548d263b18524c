/**
 * Compares two PyITA folders file by file. Every byte must match, except the command line in the
 * first line of the C header; `mha.npz` is compared by its arrays (names, dtypes, shapes, values),
 * since zip containers written by different tools differ in their headers. A difference names the
 * file, the step that produces it, the first differing element (tensor, head, row, column) and
 * both values.
 */
import { HEADER_PATH, NPZ_PATH, readParams, ROOT_FILES, unpackWords } from './folder.ts';
import type { FileSource } from './folder.ts';
import { readNpz } from './npz.ts';
import type { NpyArray } from './npz.ts';
import { describeElement, headerArrays, hwpeFiles, segmentIndices, standaloneFiles } from './spec.ts';
import type { Segment } from './spec.ts';
import { parseHexWords, parseInts } from './text.ts';
import type { ItaParams } from './types.ts';
import { ATTN_STEPS } from '../rtl-model/ref/ita.ts';

export interface Difference {
  file: string;
  step: string;
  message: string;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** 1-based line of the first differing byte. */
function firstLineDiff(a: Uint8Array, b: Uint8Array): number {
  let line = 1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return line;
    if (a[i] === 10) line++;
  }
  return line;
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Where value k of a list of segments lies: "Qp head 0 row 3 column 17". */
function locate(p: ItaParams, segments: Segment[], k: number): string {
  for (const seg of segments) {
    if (k < seg.length) return describeElement(p, seg.tensor, segmentIndices(p, seg)[k]!);
    k -= seg.length;
  }
  return `value ${k + 1} past the expected end`;
}

function valueDiff(
  p: ItaParams,
  file: string,
  step: string,
  a: Int32Array,
  b: Int32Array,
  segments: Segment[],
  unit = 'value',
): Difference | undefined {
  const i = firstDiff(a, b);
  if (i < 0) return undefined;
  if (i >= a.length || i >= b.length)
    return { file, step, message: `${a.length} vs ${b.length} ${unit}s (one ends at ${unit} ${i + 1})` };
  return {
    file,
    step,
    message: `first difference at ${unit} ${i + 1}: ${locate(p, segments, i)}: ${a[i]} vs ${b[i]}`,
  };
}

/** 1-based line (word) of a hex file holding value k of its parts. */
function hexLine(parts: { seg: Segment; bits: 8 | 24 }[], k: number): number {
  let word = 0;
  for (const { seg, bits } of parts) {
    const n = seg.length;
    if (k < n)
      return (
        word + (bits === 8 ? Math.floor(k / 4) : Math.floor(k / 4) * 3 + Math.floor(((k % 4) * 24) / 32)) + 1
      );
    word += bits === 8 ? n / 4 : (n / 4) * 3;
    k -= n;
  }
  return word + 1;
}

function npzDescribe(a: NpyArray, i: number): string {
  const s = a.shape;
  const idx: number[] = [];
  let rest = i;
  for (let d = s.length - 1; d >= 0; d--) {
    idx.unshift(rest % s[d]!);
    rest = Math.floor(rest / s[d]!);
  }
  const names = s.length === 3 ? ['head', 'row', 'column'] : s.length === 2 ? ['row', 'column'] : ['index'];
  return idx.map((v, d) => `${names[d]} ${v}`).join(' ');
}

const NPZ_STEP: Record<string, string> = {
  o: 'OW',
  o_sum: 'head sum',
  rqs_mult: 'constants',
  rqs_shift: 'constants',
  rqs_add: 'constants',
};

function compareNpz(a: Uint8Array, b: Uint8Array, la: string, lb: string): Difference[] {
  const A = readNpz(a, `${la}/${NPZ_PATH}`);
  const B = readNpz(b, `${lb}/${NPZ_PATH}`);
  const out: Difference[] = [];
  for (const name of new Set([...A.keys(), ...B.keys()])) {
    const x = A.get(name);
    const y = B.get(name);
    const step = NPZ_STEP[name] ?? 'inputs';
    const file = `${NPZ_PATH}:${name}`;
    if (!x || !y) out.push({ file, step, message: `array only in ${x ? la : lb}` });
    else if (x.dtype !== y.dtype) out.push({ file, step, message: `dtype ${x.dtype} vs ${y.dtype}` });
    else if (x.shape.join(',') !== y.shape.join(','))
      out.push({ file, step, message: `shape (${x.shape}) vs (${y.shape})` });
    else {
      const i = firstDiff(x.data, y.data);
      if (i >= 0)
        out.push({
          file,
          step,
          message: `first difference at ${npzDescribe(x, i)}: ${x.data[i]} vs ${y.data[i]}`,
        });
    }
  }
  return out;
}

/** Arrays of a C header: name -> values (all heads, in order). */
function headerValues(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of text.matchAll(/const \w+ (\w+)(?:\[\d+\])+ = \{([^;]*)\};/g))
    out.set(m[1]!, (m[2]!.match(/-?\d+/g) ?? []).map(Number));
  return out;
}

function compareHeader(p: ItaParams, a: Uint8Array, b: Uint8Array): Difference | undefined {
  const dec = new TextDecoder();
  const ta = dec.decode(a);
  const tb = dec.decode(b);
  const bodyA = ta.slice(ta.indexOf('\n') + 1);
  const bodyB = tb.slice(tb.indexOf('\n') + 1);
  if (bodyA === bodyB) return undefined;
  const file = HEADER_PATH;
  const va = headerValues(bodyA);
  const vb = headerValues(bodyB);
  const { before, after } = headerArrays(p);
  for (const arr of [...before, ...after]) {
    const x = va.get(arr.name);
    const y = vb.get(arr.name);
    if (!x || !y) return { file, step: arr.step, message: `array ${arr.name} missing in one folder` };
    const i = firstDiff(x, y);
    if (i < 0) continue;
    if (i >= x.length || i >= y.length)
      return { file, step: arr.step, message: `${arr.name}: ${x.length} vs ${y.length} values` };
    return {
      file,
      step: arr.step,
      message: `${arr.name}: first difference at value ${i + 1}: ${locate(p, arr.segments, i)}: ${x[i]} vs ${y[i]}`,
    };
  }
  for (const name of ['requant_eps_mult', 'requant_right_shift', 'requant_add']) {
    const x = va.get(name) ?? [];
    const y = vb.get(name) ?? [];
    const i = firstDiff(x, y);
    if (i >= 0)
      return {
        file,
        step: 'constants',
        message: `${name}: first difference at head ${Math.floor(i / 2)} word ${i % 2}: ${x[i]} vs ${y[i]}`,
      };
  }
  const la = bodyA.split('\n');
  const lb = bodyB.split('\n');
  const l = firstDiff(
    la.map((s) => hash(s)),
    lb.map((s) => hash(s)),
  );
  return {
    file,
    step: '-',
    message: `text differs at line ${l + 2}: '${(la[l] ?? '').slice(0, 60)}' vs '${(lb[l] ?? '').slice(0, 60)}'`,
  };
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

function parseOrDiff<T>(file: string, step: string, f: () => T): T | Difference {
  try {
    return f();
  } catch (e) {
    return { file, step, message: (e as Error).message };
  }
}

function compareRoot(file: string, a: Int32Array, b: Int32Array): Difference | undefined {
  const i = firstDiff(a, b);
  if (i < 0) return undefined;
  if (i >= a.length || i >= b.length)
    return { file, step: 'constants', message: `${a.length} vs ${b.length} values` };
  let where = `value ${i + 1}`;
  if (file.startsWith('RQS_ATTN')) where = `head ${Math.floor(i / 7)} step ${ATTN_STEPS[i % 7]}`;
  else if (file.startsWith('RQS_FFN')) where = `step ${i === 0 ? 'F1' : 'F2'}`;
  return { file, step: 'constants', message: `first difference at ${where}: ${a[i]} vs ${b[i]}` };
}

/**
 * Every difference between folder `a` and folder `b` (at most one per file). Dimensions come from
 * `a`; an `InputError` is thrown when `a` is not a readable PyITA folder.
 */
export function compareFolders(
  a: FileSource,
  b: FileSource,
  labels: [string, string] = ['a', 'b'],
): Difference[] {
  const p = readParams(a, labels[0]);
  const streams = new Map(standaloneFiles(p).map((f) => [f.path, f]));
  const hex = new Map(hwpeFiles(p).map((f) => [f.path, f]));
  const out: Difference[] = [];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const path of paths) {
    const x = a.get(path);
    const y = b.get(path);
    const s = streams.get(path);
    const h = hex.get(path);
    const step =
      s?.step ??
      h?.step ??
      (path === NPZ_PATH ? 'outputs' : (ROOT_FILES as readonly string[]).includes(path) ? 'constants' : '-');
    if (!x || !y) {
      out.push({ file: path, step, message: `only in ${x ? labels[0] : labels[1]}` });
      continue;
    }
    if (bytesEqual(x, y)) continue;
    let d: Difference | Difference[] | undefined;
    if (path === NPZ_PATH) d = parseOrDiff(path, step, () => compareNpz(x, y, labels[0], labels[1]));
    else if (path === HEADER_PATH) d = parseOrDiff(path, step, () => compareHeader(p, x, y));
    else if (s) {
      const r = parseOrDiff(path, step, () => [
        parseInts(x, `${labels[0]}/${path}`),
        parseInts(y, `${labels[1]}/${path}`),
      ]);
      d = Array.isArray(r) ? valueDiff(p, path, step, r[0]!, r[1]!, s.segments) : r;
    } else if (h) {
      const r = parseOrDiff(path, step, () => [
        parseHexWords(x, `${labels[0]}/${path}`),
        parseHexWords(y, `${labels[1]}/${path}`),
      ]);
      if (!Array.isArray(r)) d = r;
      else {
        const unpack = (w: Uint32Array) => {
          const total = h.parts.reduce((n, q) => n + q.seg.length, 0);
          const vals = new Int32Array(total);
          let k = 0;
          let v = 0;
          for (const { seg, bits } of h.parts) {
            const n = bits === 8 ? seg.length / 4 : (seg.length / 4) * 3;
            const u = unpackWords(w.subarray(k, k + n), bits, seg.tensor === 'A_soft');
            vals.set(u, v);
            v += u.length;
            k += n;
          }
          return { vals: vals.subarray(0, v) };
        };
        const [ua, ub] = [unpack(r[0]!), unpack(r[1]!)];
        const vd = valueDiff(
          p,
          path,
          step,
          ua.vals,
          ub.vals,
          h.parts.map((q) => q.seg),
        );
        if (vd)
          vd.message = vd.message.replace(
            /^first difference at value (\d+)/,
            (m, n: string) => `${m} (line ${hexLine(h.parts, Number(n) - 1)})`,
          );
        d =
          vd ??
          (r[0]!.length !== r[1]!.length
            ? { file: path, step, message: `${r[0]!.length} vs ${r[1]!.length} words` }
            : undefined);
      }
    } else if ((ROOT_FILES as readonly string[]).includes(path)) {
      const r = parseOrDiff(path, step, () => [
        parseInts(x, `${labels[0]}/${path}`),
        parseInts(y, `${labels[1]}/${path}`),
      ]);
      d = Array.isArray(r) ? compareRoot(path, r[0]!, r[1]!) : r;
    }
    if (Array.isArray(d)) out.push(...d);
    else if (d) out.push(d);
    else if (path !== NPZ_PATH && path !== HEADER_PATH)
      out.push({
        file: path,
        step,
        message: `same values, formatting differs at line ${firstLineDiff(x, y)}`,
      });
  }
  return out;
}
