/**
 * The tests mutation testing runs (`npm run mutation`): the datapath units' own tests, the
 * cycle-level ITA's module and golden tests, and the bounded fuzz properties. Slow end-to-end
 * suites (CLI, cluster, encoder) are left out; they add no check of the datapath arithmetic.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: [
      'test/ref/requant.test.ts',
      'test/ref/softmax.test.ts',
      'test/ref/gelu.test.ts',
      'test/ita/modules.test.ts',
      'test/fuzz/properties.test.ts',
      'test/fuzz/datapath-registers.test.ts',
      'test/fuzz/mutation-gaps.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
