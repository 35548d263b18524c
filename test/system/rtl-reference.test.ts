/**
 * The system model (Snitch cluster + ITA's HWPE) against the Verilated system RTL
 * (`golden/data/system-rtl.zip`): on every PyITA folder the RTL ran, the same total cycles and
 * every ITA job's busy interval [start, end) on the same cycles; on the traced folder every hart
 * issues every instruction on the RTL's cycle (a failure names the first one that differs).
 */
import { describe, expect, it } from 'vitest';
import { loadGolden } from '../../golden/archive.ts';
import { describeDifference, firstDifference, type Issue } from '../../golden/snitch_rtl.ts';
import { systemRtlGenerated, systemRtlIssues, systemRtlRows } from '../../golden/system_rtl.ts';
import { buildFolder } from '../../golden/folder.ts';
import { generateInputs } from '../../golden/generate.ts';
import type { Activation } from '../../golden/types.ts';
import { computeOutputs } from '../../rtl-model/ref/ita.ts';
import { runItaSystem } from '../../rtl-model/cluster/ita_system.ts';

const rows = systemRtlRows();

function run(
  folder: string,
  files = loadGolden(`pyita/${folder}`),
): { r: ReturnType<typeof runItaSystem>; issues: Issue[][] } {
  const issues: Issue[][] = [];
  const r = runItaSystem(files, folder, {
    maxCycles: 200_000,
    waitMode: 0,
    onBuild: (cluster) => {
      const sim = cluster.simulator();
      cluster.cores.forEach((core, h) => {
        issues[h] = [];
        core.onRetire = (pc) => issues[h]!.push({ cycle: sim.cycle + 1, pc });
      });
    },
  });
  return { r, issues };
}

function difference(rtl: Issue[], model: Issue[]): string {
  const d = firstDifference(rtl, model);
  return d ? `first difference at instruction ${describeDifference(d)}` : 'equal';
}

describe('the ITA system against its RTL', () => {
  it('keeps the 7 folders of the RTL reference', () => {
    expect(rows.length).toBe(7);
    for (const row of rows) {
      expect(row.bitExact).toBe(true);
      expect(row.busy.length).toBe(row.jobs);
    }
  });

  for (const row of rows) {
    it(`${row.folder}: ${row.cycles} cycles, ${row.jobs} ITA jobs on the RTL's cycles`, () => {
      const { r, issues } = run(row.folder);
      expect(r.pass).toBe(true);
      const traced = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((h) => systemRtlIssues(row.folder, h));
      traced.forEach((rtl, h) => {
        if (rtl) expect(`hart ${h}: ${difference(rtl, issues[h]!)}`).toBe(`hart ${h}: equal`);
      });
      expect(r.busyIntervals).toEqual(row.busy.map((b) => [b.start, b.end]));
      expect(r.cycles).toBe(row.cycles);
    });
  }

  // folders no reference shipped: written by `itasim golden` with the sizes, activation and seed of
  // their names, then run on the system RTL (its harness, outside the repository)
  for (const g of systemRtlGenerated()) {
    it(`${g.folder} (generated): ${g.cycles} cycles, ${g.busy.length} ITA jobs on the RTL's cycles`, () => {
      const m = /^S(\d+)_E(\d+)_P(\d+)_F(\d+)_H(\d+)_(\w+?)_seed(\d+)(_nobias)?$/.exec(g.folder)!;
      const [S, E, P, F, H] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
      const params = { S, E, P, F, H, activation: m[6] as Activation, bias: !m[8] };
      const inputs = generateInputs(params, Number(m[7]));
      const files = buildFolder(
        { inputs, outputs: computeOutputs(inputs) },
        { commandLine: 'itasim golden', exportSnitchCluster: false },
      );
      const { r } = run(g.folder, files);
      expect(r.pass).toBe(true);
      expect(r.busyIntervals).toEqual(g.busy);
      expect(r.cycles).toBe(g.cycles);
    });
  }
});
