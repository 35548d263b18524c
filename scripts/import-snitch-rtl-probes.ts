/**
 * Builds `golden/data/snitch-rtl-probes.zip` from RTL runs of the programs of `sw/probes/`: a
 * folder holding `<name>.elf` and the run's output `out_<name>/` (`result.json` and the per-hart
 * traces `logs/trace_hart_0000<h>.dasm`, as `run.sh <elf> out_<name>` of the RTL harness writes
 * them). The archive holds:
 *   probes.csv                 program, the RTL's cycle count and exit code
 *   elf/<name>.elf             the ELF the RTL ran
 *   issue/<name>/hart<h>.txt   every instruction hart h issued, delta-coded (see `golden/snitch_rtl.ts`)
 * Run: `npx tsx scripts/import-snitch-rtl-probes.ts [--force] <folder> <name>...` (`--force`
 * replaces an existing archive).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { GOLDEN_DATA_DIR } from '../golden/archive.ts';
import { outputPolicy, writeFileAtomic } from '../golden/atomic.ts';
import { encodeIssues, issueLines } from '../golden/snitch_rtl.ts';

const args = process.argv.slice(2).filter((a) => a !== '--force');
outputPolicy.force = args.length < process.argv.length - 2;
const [dir, ...names] = args;
if (!dir || names.length === 0) {
  console.error('usage: import-snitch-rtl-probes.ts <folder> <name>...');
  process.exit(2);
}
const opts = { level: 9 as const, mtime: new Date('2024-01-01T00:00:00Z') };
const enc = new TextEncoder();
const files: Zippable = {};
const rows = ['program,cycles,exit_code'];
for (const name of names) {
  const out = join(dir, `out_${name}`);
  const res = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as {
    cycles: number;
    exitCode: number;
  };
  rows.push(`${name},${res.cycles},${res.exitCode}`);
  files[`elf/${name}.elf`] = [readFileSync(join(dir, `${name}.elf`)), opts];
  for (let h = 0; h < 9; h++) {
    const dasm = readFileSync(join(out, 'logs', `trace_hart_0000${h}.dasm`), 'utf8');
    files[`issue/${name}/hart${h}.txt`] = [enc.encode(encodeIssues(issueLines(dasm))), opts];
  }
}
files['probes.csv'] = [enc.encode(rows.join('\n') + '\n'), opts];
const path = join(GOLDEN_DATA_DIR, 'snitch-rtl-probes.zip');
writeFileAtomic(path, zipSync(files));
console.log(`${path}: ${names.length} programs`);
