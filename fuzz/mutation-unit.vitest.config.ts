/**
 * The fast test set for mutation testing of single datapath units (`fuzz/stryker.unit.json`): the
 * module-level tests that drive one unit directly against integer or BigInt oracles. Every test
 * here runs in well under a second, so a mutant costs little; the whole-accelerator properties
 * (`fuzz/mutation.vitest.config.ts`) are left to the units only they reach (the softmax control).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: [
      'test/fuzz/mutation-*.test.ts',
      'test/fuzz/datapath-registers.test.ts',
      'test/ita/modules.test.ts',
      'test/ref/softmax.test.ts',
      'test/ref/gelu.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
