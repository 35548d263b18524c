/**
 * Comparing executor tensors with reference arrays, and finding which graph tensor a reference
 * activation belongs to. QuantLib exports activations keyed by the PyTorch module path
 * (`transformer.layers.0.0._QL_REPLACED__..._PASS_0` written with `_` for `.`, lower case),
 * while the ONNX node is named after the last part of that path (`__QL_REPLACED__..._PASS_0_Conv`);
 * a key belongs to the node whose name, without the op suffix, ends it.
 */
import type { RunResult } from './executor.ts';
import type { GraphNode } from './model.ts';
import type { NpyArray } from './npz.ts';
import { readNpz } from './npz.ts';
import type { Tensor } from './tensor.ts';
import { sameShape, shapeStr } from './tensor.ts';

export interface TensorMatch {
  name: string;
  reference: string;
  elements: number;
  mismatches: number;
  /** Empty when every element matches; otherwise where and how the first mismatch differs. */
  detail: string;
  /**
   * How a reference activation was tied to a graph tensor: by tensor name, by module name, or
   * only by position (graphs whose names carry no module path; such a link may be wrong).
   */
  link?: 'name' | 'module' | 'order' | 'none';
}

/** Compares every element (shapes must hold the same number of elements; size-1 axes may differ). */
export function compareTensor(name: string, got: Tensor, reference: string, want: NpyArray): TensorMatch {
  const n = got.data.length;
  if (n !== want.data.length) {
    return {
      name,
      reference,
      elements: Math.max(n, want.data.length),
      mismatches: Math.max(n, want.data.length),
      detail: `shape ${shapeStr(got.shape)} vs reference ${shapeStr(want.shape)}`,
    };
  }
  let bad = 0;
  let first = -1;
  for (let i = 0; i < n; i++) {
    if (got.data[i] !== want.data[i]) {
      if (first < 0) first = i;
      bad++;
    }
  }
  const squeezed = (s: number[]): number[] => s.filter((d) => d !== 1);
  let detail = '';
  if (first >= 0)
    detail = `first at flat index ${first}: ${got.data[first]} vs reference ${want.data[first]}`;
  else if (!sameShape(squeezed(got.shape), squeezed(want.shape)))
    detail = `values equal but shape ${shapeStr(got.shape)} vs ${shapeStr(want.shape)}`;
  return { name, reference, elements: n, mismatches: first < 0 && detail !== '' ? n : bad, detail };
}

/** The module path a node name carries, normalised like QuantLib's activation keys. */
export function moduleKeyOf(node: GraphNode): string {
  let s = node.name;
  const suffix = `_${node.opType}`;
  if (s.endsWith(suffix)) s = s.slice(0, -suffix.length);
  if (s.startsWith('_')) s = s.slice(1);
  return s.replace(/[./:]+/g, '_').toLowerCase();
}

export interface ActivationMatch {
  tensor: string | undefined;
  how: 'name' | 'module' | 'order' | 'none';
}

/**
 * For each activation key, the graph tensor it names: the tensor of that exact name; else the
 * first output of the node whose module key ends the activation key (the longest such key wins;
 * among equals, the node that runs last, i.e. the module's final result); else, for graphs whose
 * nodes carry no module names, the next node output (in run order, after the previous match) with
 * as many elements as the activation (activations are exported in execution order).
 */
export function matchActivations(
  order: GraphNode[],
  tensors: Map<string, { data: ArrayLike<number> }>,
  keys: string[],
  sizes: Map<string, number>,
): Map<string, ActivationMatch> {
  const out = new Map<string, ActivationMatch>();
  const mods = order.map((n, i) => ({ key: moduleKeyOf(n), node: n, i })).filter((m) => m.key !== '');
  const position = new Map<string, number>();
  order.forEach((n, i) => n.outputs.forEach((o) => position.set(o, i)));
  let cursor = -1;
  for (const key of keys) {
    if (tensors.has(key)) {
      out.set(key, { tensor: key, how: 'name' });
      cursor = position.get(key) ?? cursor;
      continue;
    }
    const k = key.toLowerCase();
    let best: (typeof mods)[number] | undefined;
    for (const m of mods) {
      if (k !== m.key && !k.endsWith(`_${m.key}`)) continue;
      if (!best || m.key.length > best.key.length || (m.key.length === best.key.length && m.i > best.i))
        best = m;
    }
    if (best) {
      out.set(key, { tensor: best.node.outputs[0], how: 'module' });
      cursor = best.i;
      continue;
    }
    const size = sizes.get(key);
    const next = order.findIndex(
      (n, i) => i > cursor && n.outputs[0] !== undefined && tensors.get(n.outputs[0])?.data.length === size,
    );
    if (next >= 0) {
      out.set(key, { tensor: order[next]!.outputs[0], how: 'order' });
      cursor = next;
    } else {
      out.set(key, { tensor: undefined, how: 'none' });
    }
  }
  return out;
}

/** Renders match rows as an aligned text table with a total line. */
export function formatMatches(rows: TensorMatch[]): string {
  const w = Math.max(6, ...rows.map((r) => r.name.length));
  const lines = rows.map((r) => {
    const status = r.mismatches === 0 ? 'match' : r.link === 'order' ? 'DIFF?' : 'DIFF';
    return `${r.name.padEnd(w)}  ${status.padEnd(5)}  ${String(r.elements - r.mismatches).padStart(8)}/${String(r.elements).padEnd(8)}  ${r.detail}`.trimEnd();
  });
  const ok = rows.filter((r) => r.mismatches === 0).length;
  const byOrder = rows.filter((r) => r.link === 'order');
  if (byOrder.length > 0) {
    lines.push(
      `(${byOrder.length} reference keys name no graph tensor or module and were paired by position: DIFF? there may be a wrong pairing)`,
    );
  }
  lines.push(
    `${ok}/${rows.length} tensors bit-exact, ${rows.reduce((n, r) => n + r.elements - r.mismatches, 0)}/${rows.reduce((n, r) => n + r.elements, 0)} elements`,
  );
  return lines.join('\n');
}

/** Compares graph outputs with a reference npz: by name, or by position when names differ. */
export function compareOutputs(result: Pick<RunResult, 'outputs'>, path: string): TensorMatch[] {
  const want = readNpz(path);
  const list = [...want.entries()];
  return [...result.outputs.entries()].map(([name, t], i) => {
    const entry = want.has(name) ? ([name, want.get(name)!] as const) : list[i];
    if (!entry)
      return {
        name,
        reference: '-',
        elements: t.data.length,
        mismatches: t.data.length,
        detail: `no array in ${path}`,
      };
    return compareTensor(name, t, entry[0], entry[1]);
  });
}

/** Compares every activation of a reference npz with the graph tensor it belongs to. */
export function compareActivations(result: RunResult, path: string): TensorMatch[] {
  const want = readNpz(path);
  const sizes = new Map([...want.entries()].map(([k, a]) => [k, a.data.length]));
  const match = matchActivations(result.order, result.tensors, [...want.keys()], sizes);
  return [...want.entries()].map(([key, a]) => {
    const m = match.get(key)!;
    if (!m.tensor)
      return {
        name: key,
        reference: '-',
        elements: a.data.length,
        mismatches: a.data.length,
        detail: 'no graph tensor found for this key',
        link: 'none',
      };
    const r = compareTensor(key, result.tensors.get(m.tensor)!, m.tensor, a);
    r.link = m.how;
    if (m.how === 'order') r.detail = `${r.detail} (paired by position with ${m.tensor})`.trim();
    return r;
  });
}
