/**
 * Builds `golden/data/snitch-rtl.zip`, the Snitch cluster RTL's timing facts that the tests check
 * the cluster model against, from `../shared/snitch-rtl/` and a folder of the riscv-tests programs
 * (built as that folder's README says, e.g. `build/riscv-tests/isa`):
 *   cycles.csv                 the RTL's cycle count and exit code per program (copied as is)
 *   riscv-tests/<name>.bin     each test's loadable image from 0x8000_0000 (the bytes of
 *                              `objcopy -O binary`, checked against riscv-tests.sha256)
 *   riscv-tests.json           per test: the address of `tohost`
 *   issue/<name>/hart<h>.txt   per issued instruction of hart h in the RTL's trace: "cycle pc"
 *                              (hart 0 of every riscv-test; all harts of `attention`)
 * Run: `npx tsx scripts/import-snitch-rtl.ts <riscv-tests-isa-dir> [shared-dir]`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { zipSync, type Zippable } from 'fflate';
import { GOLDEN_DATA_DIR } from '../golden/archive.ts';
import { writeFileAtomic } from '../golden/atomic.ts';
import { parseElf } from '../rtl-model/cluster/elf.ts';
import { issueLines } from '../golden/snitch_rtl.ts';

const isaDir = process.argv[2];
if (!isaDir) {
  console.error('usage: import-snitch-rtl.ts <riscv-tests-isa-dir> [shared-dir]');
  process.exit(2);
}
const shared = resolve(process.argv[3] ?? join(GOLDEN_DATA_DIR, '..', '..', '..', 'shared'));
const rtl = join(shared, 'snitch-rtl');
const opts = { level: 9 as const, mtime: new Date('2024-01-01T00:00:00Z') };

const csv = readFileSync(join(rtl, 'cycles.csv'), 'utf8');
const hashes = new Map<string, string>();
for (const line of readFileSync(join(rtl, 'riscv-tests.sha256'), 'utf8').split('\n')) {
  const m = /^([0-9a-f]{64})\s+(\S+)\.bin$/.exec(line.trim());
  if (m) hashes.set(m[2]!, m[1]!);
}

const files: Zippable = { 'cycles.csv': [new TextEncoder().encode(csv), opts] };
const meta: Record<string, { tohost: number }> = {};
const sums: string[] = [];
for (const row of csv.trim().split('\n').slice(1)) {
  const name = row.split(',')[0]!;
  if (!name.startsWith('rv32')) continue;
  const elf = parseElf(readFileSync(join(isaDir, name)), name);
  // the image objcopy writes: every loadable segment at its offset from the lowest address
  const base = Math.min(...elf.segments.map((s) => s.vaddr));
  const end = Math.max(...elf.segments.map((s) => s.vaddr + s.data.length));
  const img = new Uint8Array(end - base);
  for (const s of elf.segments) img.set(s.data, s.vaddr - base);
  const sum = createHash('sha256').update(img).digest('hex');
  if (base !== 0x8000_0000 || sum !== hashes.get(name))
    throw new Error(`${name}: image differs from riscv-tests.sha256`);
  files[`riscv-tests/${name}.bin`] = [img, opts];
  meta[name] = { tohost: elf.symbols.get('tohost')! };
  sums.push(`${sum}  ${name}.bin`);
  const trace = gunzipSync(readFileSync(join(rtl, 'traces', name, 'trace_hart_00000.dasm.gz'))).toString();
  files[`issue/${name}/hart0.txt`] = [new TextEncoder().encode(issueLines(trace)), opts];
}
for (let h = 0; h < 9; h++) {
  const trace = gunzipSync(
    readFileSync(join(rtl, 'traces', 'attention', `trace_hart_0000${h}.dasm.gz`)),
  ).toString();
  files[`issue/attention/hart${h}.txt`] = [new TextEncoder().encode(issueLines(trace)), opts];
}
files['riscv-tests.json'] = [new TextEncoder().encode(JSON.stringify(meta, null, 1)), opts];
files['riscv-tests.sha256'] = [new TextEncoder().encode(sums.join('\n') + '\n'), opts];
writeFileAtomic(join(GOLDEN_DATA_DIR, 'snitch-rtl.zip'), zipSync(files));
console.log(`${join(GOLDEN_DATA_DIR, 'snitch-rtl.zip')}: ${Object.keys(meta).length} riscv-tests`);
