/**
 * The system RTL's timing facts (`golden/data/system-rtl.zip`, built by
 * `scripts/import-system-rtl.ts`): the Snitch cluster with ITA's HWPE running
 * `sw/bin/ita_attention.elf` on the PyITA folders. Per folder the RTL's cycles and ITA jobs, the
 * busy interval `[start, end)` of every job, and for the traced folders every hart's issue events.
 * Cycles are numbered as in `snitch_rtl.ts`: the first rising edge after reset is cycle 1; busy is
 * sampled after each edge k, so an interval [k0, k1) holds the edges k0 .. k1 - 1.
 */
import { loadGolden, text, type FileMap } from './archive.ts';
import { parseIssues, type Issue } from './snitch_rtl.ts';

export interface SystemRtlRow {
  folder: string;
  cycles: number;
  bitExact: boolean;
  jobs: number;
  /** Per job: step name and busy interval. */
  busy: { step: string; start: number; end: number }[];
}

let cache: FileMap | null = null;
function archive(): FileMap {
  return (cache ??= loadGolden('system-rtl'));
}

/** The rows of the RTL's `cycles.csv` with their jobs from `busy.csv`. */
export function systemRtlRows(): SystemRtlRow[] {
  const rows = new Map<string, SystemRtlRow>();
  for (const l of text(archive(), 'cycles.csv').trim().split('\n').slice(1)) {
    const [folder, cycles, bitExact, jobs] = l.split(',');
    rows.set(folder!, {
      folder: folder!,
      cycles: Number(cycles),
      bitExact: bitExact === 'yes',
      jobs: Number(jobs),
      busy: [],
    });
  }
  for (const l of text(archive(), 'busy.csv').trim().split('\n').slice(1)) {
    const [folder, job, step, start, end] = l.split(',');
    const r = rows.get(folder!);
    if (!r) throw new Error(`busy.csv: folder ${folder} is not in cycles.csv`);
    if (Number(job) !== r.busy.length) throw new Error(`busy.csv: ${folder} job ${job} out of order`);
    r.busy.push({ step: step!, start: Number(start), end: Number(end) });
  }
  return [...rows.values()];
}

/** The RTL's issue events of hart `hart` on `folder`, or null where no trace is kept. */
export function systemRtlIssues(folder: string, hart: number): Issue[] | null {
  const f = archive().get(`issue/${folder}/hart${hart}.txt`);
  return f ? parseIssues(f) : null;
}

/** An RTL run of a folder written by `itasim golden` (its name gives sizes, activation, seed). */
export interface GeneratedRtlRun {
  folder: string;
  cycles: number;
  busy: [number, number][];
}

/** The RTL runs of generated folders (`generated.json`), empty when none are kept. */
export function systemRtlGenerated(): GeneratedRtlRun[] {
  const f = archive().get('generated.json');
  return f ? (JSON.parse(new TextDecoder().decode(f)) as GeneratedRtlRun[]) : [];
}
