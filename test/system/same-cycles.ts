/** Comparison of two runs' per-cycle traces (one line per cycle), for the clock-gate tests. */
import { expect } from 'vitest';

/** Expects the gated run's lines equal to the clocked run's, naming the first cycle they differ in. */
export function expectSameCycles(gated: string[], clocked: string[]): void {
  expect(gated.length).toBe(clocked.length);
  const first = gated.findIndex((l, i) => l !== clocked[i]);
  expect(
    first === -1 ? 'none' : `cycle ${first}:\n gated   ${gated[first]}\n clocked ${clocked[first]}`,
  ).toBe('none');
}
