/**
 * The tests mutation testing runs (`npm run mutation`): the datapath units' own tests (the
 * module-level `test/fuzz/mutation-*.test.ts` drive each unit directly against integer or BigInt
 * oracles), the cycle-level ITA's module tests, and the bounded fuzz properties. Slow end-to-end
 * suites (CLI, cluster, encoder, golden folders) are left out; they add no check of the datapath
 * arithmetic. `fuzz/stryker.unit.json` runs the module-level tests alone (much faster per mutant).
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
      'test/fuzz/mutation-*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
