/**
 * Builds the checked-in reference archives in `golden/data/` from `../shared/`:
 * one zip per PyITA folder (`pyita/<name>.zip`), the RTL handshake traces (`rtl-traces.zip`) and
 * the RTL cycle facts (`rtl-cycles.csv`, copied as is). Run: `npx tsx scripts/import-golden.ts`.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { GOLDEN_DATA_DIR, PYITA_FOLDERS } from '../golden/archive.ts';
import { writeFileAtomic } from '../golden/atomic.ts';

const shared = resolve(process.argv[2] ?? join(GOLDEN_DATA_DIR, '..', '..', '..', 'shared'));

function zipFolder(dir: string): Uint8Array {
  const files: Zippable = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      // A fixed date keeps the archive identical when nothing changed.
      else files[relative(dir, p)] = [readFileSync(p), { level: 9, mtime: new Date('2024-01-01T00:00:00Z') }];
    }
  };
  walk(dir);
  return zipSync(files);
}

mkdirSync(join(GOLDEN_DATA_DIR, 'pyita'), { recursive: true });
for (const name of PYITA_FOLDERS) {
  writeFileAtomic(
    join(GOLDEN_DATA_DIR, 'pyita', `${name}.zip`),
    zipFolder(join(shared, 'pyita-golden', name)),
  );
}
writeFileAtomic(join(GOLDEN_DATA_DIR, 'rtl-traces.zip'), zipFolder(join(shared, 'rtl-traces')));
writeFileAtomic(join(GOLDEN_DATA_DIR, 'rtl-cycles.csv'), readFileSync(join(shared, 'rtl-cycles.csv')));
console.log(`golden archives written to ${GOLDEN_DATA_DIR}`);
