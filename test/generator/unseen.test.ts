/**
 * `itasim golden` against PyITA on parameters no checked-in folder covers: a projection size that
 * is not a power of two (bias width floor(log2 192) + 8), three heads (the head-sum shift of a
 * non-power-of-two head count) and three heads without bias. The fixture holds the digest of every
 * file PyITA wrote (`fixtures/make_pyita_fixtures.py`); each generated file must match its digest.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import type { FileMap } from '../../golden/archive.ts';
import { buildGolden, parseGoldenOptions } from '../../scripts/commands/golden.ts';

interface Fixture {
  cases: { flags: string; files: Record<string, string> }[];
}
const fx = JSON.parse(
  readFileSync(new URL('./fixtures/pyita-unseen.json', import.meta.url), 'utf8'),
) as Fixture;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The same digests as the fixture script computes. */
function digests(files: FileMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rel, data] of files) {
    if (rel === 'mha.npz') {
      for (const [m, bytes] of Object.entries(unzipSync(data))) out[`mha.npz:${m}`] = sha(bytes);
    } else if (rel.endsWith('.h')) {
      out[rel] = sha(data.subarray(data.indexOf(10) + 1));
    } else {
      out[rel] = sha(data);
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** testGenerator.py flags to the options `itasim golden` parses. */
function request(flags: string) {
  const a = flags.split(/\s+/);
  const val = (f: string, d: string): string => (a.includes(f) ? a[a.indexOf(f) + 1]! : d);
  return parseGoldenOptions({
    S: val('-S', '64'),
    E: val('-E', '64'),
    P: val('-P', '64'),
    F: val('-F', '64'),
    H: val('-H', '1'),
    activation: val('--activation', 'identity'),
    bias: !a.includes('--no-bias'),
    seed: val('--seed', '0'),
    seedMode: 'pyita',
    exportSnitchCluster: true,
  });
}

describe('itasim golden on parameters without a reference folder (PyITA digests)', () => {
  it.each(fx.cases.map((c) => [c.flags, c.files] as const))('%s', (flags, want) => {
    const { files } = buildGolden(request(flags));
    expect(digests(files)).toEqual(want);
  });
});
