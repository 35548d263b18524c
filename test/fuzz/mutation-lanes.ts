/**
 * A typed array that throws when a lane past its end is read: wraps a module's input port in the
 * mutation tests, so a loop that reads one lane too many (which a typed array would answer with
 * `undefined` and then silently drop) is caught. The RTL's ports are exactly N (or M) lanes wide.
 */
export function strictLanes<T extends Int8Array | Int32Array | Float64Array>(a: T): T {
  return new Proxy(a, {
    get(t, k) {
      if (typeof k === 'string' && /^\d+$/.test(k) && Number(k) >= t.length)
        throw new RangeError(`lane ${k} read from a ${t.length}-lane port`);
      const v: unknown = Reflect.get(t, k, t);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(t) : v;
    },
  });
}
