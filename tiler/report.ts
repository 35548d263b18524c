/**
 * The encoder report: a JSON summary of a tiler run (`EncoderRunResult` of tiler/run.ts) and a
 * self-contained HTML page (inline SVG and CSS, no scripts, no external files) with a stacked bar
 * per layer, a timeline of ITA / DMA / cores, tables per layer and per op kind, and the result beside
 * the figures of the paper (arXiv 2408.02473).
 *
 * Units: `cycles` are cluster cycles; GOp/s = ops / (cycles / clock); ops are 2 per
 * multiply-accumulate of the network's own arithmetic (attention projections, QK, AV, output
 * projection, linear layers; elementwise ops count 0), as tiler/run.ts counts them.
 * Per layer, `ita` and `dma` are busy cycles of those units, `cores` is the sum over the 8 compute
 * cores of their busy cycles, `stall` the bank-conflict stall cycles; they overlap in time.
 */
import { writeFileAtomic } from '../golden/atomic.ts';
import {
  addBusy,
  noBusy,
  type BusyStats,
  type EncoderRunResult,
  type TimelineUnit,
  type LayerStats,
  type OpStats,
} from './run.ts';

/** Figures of the paper (arXiv 2408.02473, "Toward Attention-based TinyML", Wiese et al.). */
export const PAPER = {
  peakGops: 154,
  gopsPerJoule: 2960,
  voltage: 0.65,
  technology: '22 nm FD-SOI',
  mobileBert: { inferencesPerSecond: 32.5, milliwatts: 52.0, version: 'first arXiv version (v1)' },
  source: 'arXiv 2408.02473 (Wiese, Islamoglu, Scherer, Macan, Jung, Burrello, Conti, Benini)',
} as const;

export interface ReportInfo {
  model: string;
  description: string;
  clockMHz: number;
  /** Layers the model has (the run may cover fewer). */
  totalLayers: number;
  /** The mode of `result`. */
  clusterOnly: boolean;
}

/** A cluster-only run used as the baseline (possibly on fewer layers). */
export interface Baseline {
  result: EncoderRunResult;
}

export interface SpeedupInfo {
  /** Cluster-only cycles for the layers of the main run (measured or extrapolated). */
  clusterOnlyCycles: number;
  /** Layers the cluster-only run simulated. */
  clusterOnlyLayers: number;
  /** True when the cluster-only cycles of the missing layers are extrapolated. */
  extrapolated: boolean;
  speedup: number;
  note: string;
  /** Every layer of the cluster-only run equal to the functional executor's. */
  clusterOnlyPass: boolean;
}

/** A layer as reported: `pass` (equal to the functional executor) as in every command's report. */
export interface LayerReport extends Omit<LayerStats, 'bitExact'> {
  pass: boolean;
  gops: number;
}

export interface KindReport extends BusyStats {
  kind: string;
  unit: string;
  count: number;
}

export interface EncoderReport {
  model: string;
  description: string;
  mode: 'ita' | 'cluster-only';
  clockMHz: number;
  layersRun: number;
  totalLayers: number;
  /** Every layer run equal, bit for bit, to the functional executor. */
  pass: boolean;
  cycles: number;
  ops: number;
  gops: number;
  /** Time of the layers run at the clock, milliseconds. */
  milliseconds: number;
  /** Inferences per second of the full model, scaling the layers run to all layers. */
  inferencesPerSecond: number;
  itaUtilisation: number;
  itaBusy: number;
  dmaBusy: number;
  layers: LayerReport[];
  opKinds: KindReport[];
  perOp: OpStats[];
  speedup: SpeedupInfo | null;
  simSeconds: number;
  simCyclesPerSecond: number;
  paper: typeof PAPER;
}

const gopsOf = (ops: number, cycles: number, clockMHz: number): number =>
  cycles > 0 ? (ops * clockMHz * 1e6) / cycles / 1e9 : 0;

/**
 * The speed-up of `result` (ITA mode) over a cluster-only run of the same model. When the
 * baseline ran fewer layers, the missing layers take the mean cluster-only cycles of the layers
 * it did run, scaled per layer by each missing layer's ops (the presets' layers are alike).
 */
export function speedupOver(result: EncoderRunResult, base: EncoderRunResult): SpeedupInfo {
  const n = base.layers.length;
  const k = result.layers.length;
  let cycles: number;
  let note: string;
  if (n >= k) {
    cycles = base.layers.slice(0, k).reduce((s, l) => s + l.cycles, 0);
    note = `cluster-only run of the same ${k} layer(s)`;
  } else {
    const perOp = base.layers.reduce((s, l) => s + l.cycles, 0) / Math.max(1, base.ops);
    const perLayer = base.layers.reduce((s, l) => s + l.cycles, 0) / n;
    cycles = base.layers.reduce((s, l) => s + l.cycles, 0);
    for (const l of result.layers.slice(n)) cycles += base.ops > 0 ? l.ops * perOp : perLayer;
    note =
      `cluster-only cycles measured on ${n} of ${k} layers; the other ${k - n} layers are ` +
      `extrapolated from the measured cycles per op`;
  }
  return {
    clusterOnlyCycles: Math.round(cycles),
    clusterOnlyLayers: n,
    extrapolated: n < k,
    speedup: result.cycles > 0 ? cycles / result.cycles : 0,
    note,
    clusterOnlyPass: base.bitExact,
  };
}

export function buildReport(result: EncoderRunResult, info: ReportInfo, baseline?: Baseline): EncoderReport {
  const kinds = new Map<string, KindReport>();
  for (const o of result.opStats) {
    const key = `${o.kind}/${o.unit}`;
    const k = kinds.get(key) ?? { kind: o.kind, unit: o.unit, count: 0, ...noBusy() };
    k.count++;
    addBusy(k, o);
    kinds.set(key, k);
  }
  const seconds = result.cycles / (info.clockMHz * 1e6);
  const scale = info.totalLayers / Math.max(1, result.layers.length);
  return {
    model: info.model,
    description: info.description,
    mode: info.clusterOnly ? 'cluster-only' : 'ita',
    clockMHz: info.clockMHz,
    layersRun: result.layers.length,
    totalLayers: info.totalLayers,
    pass: result.bitExact,
    cycles: result.cycles,
    ops: result.ops,
    gops: gopsOf(result.ops, result.cycles, info.clockMHz),
    milliseconds: seconds * 1e3,
    inferencesPerSecond: seconds > 0 ? 1 / (seconds * scale) : 0,
    itaUtilisation: result.itaUtilisation,
    itaBusy: result.itaBusy,
    dmaBusy: result.dmaBusy,
    layers: result.layers.map(({ bitExact, ...l }) => ({
      ...l,
      pass: bitExact,
      gops: gopsOf(l.ops, l.cycles, info.clockMHz),
    })),
    opKinds: [...kinds.values()].sort((a, b) => b.cycles - a.cycles),
    perOp: result.opStats,
    speedup: baseline && !info.clusterOnly ? speedupOver(result, baseline.result) : null,
    simSeconds: result.simSeconds,
    simCyclesPerSecond: result.simCyclesPerSecond,
    paper: PAPER,
  };
}

// ---------------------------------------------------------------------------------------------
// HTML

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const fix = (x: number, d = 2): string => x.toFixed(d);

const COLORS = { ita: '#d95f02', cores: '#1b9e77', dma: '#7570b3', stall: '#e7298a' } as const;

/** Compute cores the per-core figures are averaged over. */
const COMPUTE_CORES = 8;

/**
 * The busy figures of a layer or an op kind, as the CLI's text, the HTML's bars and its tables all
 * show them (one definition, one name): ITA and DMA busy cycles, and per compute core the mean of
 * the 8 cores' busy and bank-conflict stall cycles (JSON keeps the sums, `cores` and `stall`).
 */
export const FIGURES: readonly { label: string; colour: string; of: (b: BusyStats) => number }[] = [
  { label: 'ITA busy', colour: COLORS.ita, of: (b) => b.ita },
  { label: 'cores busy (mean of 8)', colour: COLORS.cores, of: (b) => b.cores / COMPUTE_CORES },
  { label: 'DMA busy', colour: COLORS.dma, of: (b) => b.dma },
  { label: 'stalls (mean of 8)', colour: COLORS.stall, of: (b) => b.stall / COMPUTE_CORES },
];

/** Stacked bar per layer: the FIGURES side by side; a tick marks the layer's cycles. */
function layerBars(r: EncoderReport): string {
  const rowH = 18;
  const labelW = 70;
  const W = 720;
  const segs = r.layers.map((l) => FIGURES.map((f) => f.of(l)));
  const max = Math.max(
    1,
    ...r.layers.map((l, i) =>
      Math.max(
        l.cycles,
        segs[i]!.reduce((a, b) => a + b, 0),
      ),
    ),
  );
  const sx = (v: number): number => (v / max) * (W - labelW - 10);
  const rows = r.layers.map((l, i) => {
    const y = 22 + i * rowH;
    let x = labelW;
    const parts = segs[i]!.map((v, j) => {
      const w = sx(v);
      const c = FIGURES[j]!.colour;
      const name = FIGURES[j]!.label;
      const rect = `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(0, w).toFixed(1)}" height="${rowH - 4}" fill="${c}"><title>layer ${l.layer}: ${name} ${int(v)} cycles</title></rect>`;
      x += w;
      return rect;
    });
    const tick = labelW + sx(l.cycles);
    return (
      `<text x="${labelW - 6}" y="${y + rowH - 7}" text-anchor="end">layer ${l.layer}</text>` +
      parts.join('') +
      `<line x1="${tick.toFixed(1)}" x2="${tick.toFixed(1)}" y1="${y - 2}" y2="${y + rowH - 2}" stroke="#000" stroke-width="2"><title>layer ${l.layer}: ${int(l.cycles)} cycles</title></line>`
    );
  });
  const H = 30 + r.layers.length * rowH;
  const legend = legendSvg(
    [...FIGURES.map((f): [string, string] => [f.label, f.colour]), ['| = layer cycles', '#000']],
    labelW,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-size="11" font-family="sans-serif">${legend}${rows.join('')}</svg>`;
}

function legendSvg(items: [string, string][], x0: number): string {
  let x = x0;
  return items
    .map(([name, c]) => {
      const s = `<rect x="${x}" y="4" width="10" height="10" fill="${c}"/><text x="${x + 14}" y="13">${esc(name)}</text>`;
      x += 24 + name.length * 6;
      return s;
    })
    .join('');
}

/**
 * Timeline: one lane per unit, drawn from that unit's activity (ITA busy, a DMA transfer in
 * flight, each compute core active); intervals closer than a pixel are merged.
 */
function timeline(r: EncoderReport, result: EncoderRunResult): string {
  const W = 960;
  const labelW = 60;
  const lanes: TimelineUnit[] = [
    'ita',
    'dma',
    ...Array.from({ length: COMPUTE_CORES }, (_, i) => `core${i}` as const),
  ];
  const colour = (u: TimelineUnit): string =>
    u === 'ita' ? COLORS.ita : u === 'dma' ? COLORS.dma : COLORS.cores;
  const name = (u: TimelineUnit): string =>
    u === 'ita' ? 'ITA' : u === 'dma' ? 'DMA' : `core ${u.slice(4)}`;
  const total = Math.max(1, result.cycles);
  const sx = (c: number): number => labelW + (c / total) * (W - labelW - 10);
  const laneH = 22;
  let out = '';
  lanes.forEach((u, i) => {
    const y = 24 + i * laneH;
    out += `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${name(u)}</text>`;
    out += `<rect x="${labelW}" y="${y}" width="${W - labelW - 10}" height="${laneH - 4}" fill="#f2f2f2"/>`;
    const iv = result.timeline.filter((t) => t.unit === u).sort((a, b) => a.start - b.start);
    let cur: { s: number; e: number; labels: string[] } | null = null;
    const flush = (): void => {
      if (!cur) return;
      const x = sx(cur.s);
      const w = Math.max(0.5, sx(cur.e) - x);
      const label =
        cur.labels.length > 3
          ? `${cur.labels.slice(0, 3).join(', ')}, ... (${cur.labels.length} steps)`
          : cur.labels.join(', ');
      out += `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${laneH - 4}" fill="${colour(u)}"><title>${esc(label)}: cycles ${int(cur.s)}-${int(cur.e)}</title></rect>`;
    };
    const px = total / (W - labelW - 10);
    for (const t of iv) {
      if (cur && t.start - cur.e <= px) {
        cur.e = Math.max(cur.e, t.end);
        if (cur.labels[cur.labels.length - 1] !== t.label) cur.labels.push(t.label);
      } else {
        flush();
        cur = { s: t.start, e: t.end, labels: [t.label] };
      }
    }
    flush();
  });
  // layer boundaries
  let c = 0;
  const yEnd = 24 + lanes.length * laneH;
  r.layers.forEach((l) => {
    const x = sx(c);
    out += `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="18" y2="${yEnd}" stroke="#444" stroke-dasharray="2,2"/>`;
    if (r.layers.length <= 24)
      out += `<text x="${(x + 2).toFixed(1)}" y="14" font-size="9">L${l.layer}</text>`;
    c += l.cycles;
  });
  const axis = `<text x="${labelW}" y="${yEnd + 14}">0</text><text x="${W - 10}" y="${yEnd + 14}" text-anchor="end">${int(total)} cycles</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${yEnd + 22}" font-size="11" font-family="sans-serif">${out}${axis}</svg>`;
}

function table(head: string[], rows: (string | number)[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows
    .map((r) => `<tr>${r.map((c) => `<td>${typeof c === 'number' ? int(c) : esc(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

/** The paragraph that puts the run beside the paper. */
export function comparisonText(r: EncoderReport): string {
  const parts: string[] = [];
  parts.push(
    `This run reaches ${fix(r.gops, 1)} GOp/s at ${r.clockMHz} MHz (${r.mode === 'ita' ? 'with ITA' : 'cores only, no ITA'}), ` +
      `${fix((100 * r.gops) / PAPER.peakGops, 0)} % of the paper's ${PAPER.peakGops} GOp/s peak.`,
  );
  if (r.model === 'mobilebert')
    parts.push(
      `At this clock the full ${r.totalLayers}-layer MobileBERT takes ${fix(1e3 / Math.max(1e-9, r.inferencesPerSecond), 2)} ms, ` +
        `${fix(r.inferencesPerSecond, 1)} inferences/s, against the paper's ${PAPER.mobileBert.inferencesPerSecond} inferences/s ` +
        `(${PAPER.mobileBert.milliwatts} mW, ${PAPER.voltage} V, ${PAPER.technology}, ${PAPER.mobileBert.version}).`,
    );
  const share = (unit: string): number =>
    r.opKinds.filter((k) => k.unit === unit).reduce((n, k) => n + k.cycles, 0) / Math.max(1, r.cycles);
  const top = r.opKinds.find((k) => k.unit === 'cores');
  if (r.mode === 'ita' && top)
    parts.push(
      `Of this run's cycles, ${pct(share('cores'))} are steps of core kernels (the largest: ${top.kind}, ` +
        `${pct(top.cycles / Math.max(1, r.cycles))}) and ${pct(share('ita'))} steps of ITA jobs; ITA is busy ` +
        `${pct(r.itaUtilisation)} of the time.`,
    );
  parts.push(
    `The numbers differ for known reasons. The clock is a parameter here (--clock-mhz); the paper's ` +
      `figures come from its own operating point at ${PAPER.voltage} V. itasim does not model power, so ` +
      `the paper's ${PAPER.gopsPerJoule} GOp/J and mW figures have no counterpart here. The tiler is a thin ` +
      `static one: it runs ITA head by head with double-buffered DMA, but it does not fuse or reorder ` +
      `operators across layers as Deeploy does, and every element-wise op (head sum, residual add, ` +
      `normalisation) runs on the 8 cores between ITA jobs, which shows as time with ITA idle in the ` +
      `timeline. The 8 cores share one multiplier (one M-extension unit per hive of the Snitch ` +
      `cluster): the kernels read the residual add's requantisation from a table and premultiply ` +
      `iNoNorm's weights, but iNoNorm still takes a multiply per element. Ops are counted as 2 per multiply-accumulate of the graph; MobileBERT's 32-wide heads ` +
      `are padded to ITA's 64, and the padded half is counted as work. Weights are synthetic (timing ` +
      `does not depend on their values), the sequence length is the preset's default unless --seq ` +
      `changed it, and ops before the first layer (embeddings) are not part of the presets.`,
  );
  if (r.speedup)
    parts.push(
      `Against the same graph on the 8 cores alone, ITA gives a speed-up of ${fix(r.speedup.speedup, 1)}x ` +
        `(${r.speedup.note}).`,
    );
  return parts.join(' ');
}

const CSS = `body{font-family:sans-serif;max-width:1000px;margin:20px auto;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:8px 0 16px;font-size:12px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}.ok{color:#1a7f37;font-weight:bold}.bad{color:#c00;font-weight:bold}
.kpi{display:inline-block;margin:4px 14px 4px 0;padding:6px 10px;background:#f6f6f6;border-radius:4px}
.kpi b{display:block;font-size:18px}p.note{font-size:12px;color:#555}`;

/** The self-contained HTML report. */
export function reportHtml(r: EncoderReport, result: EncoderRunResult): string {
  const kpi = (label: string, value: string): string =>
    `<span class="kpi">${esc(label)}<b>${esc(value)}</b></span>`;
  const exact = r.pass
    ? '<span class="ok">bit-exact</span>: every byte of every layer equals the functional executor'
    : `<span class="bad">NOT bit-exact</span>: ${esc(r.layers.find((l) => !l.pass)?.mismatch ?? 'a layer differs')}`;
  const figures = (b: BusyStats): number[] => FIGURES.map((f) => Math.round(f.of(b)));
  const layerRows = r.layers.map((l) => [
    `layer ${l.layer}`,
    l.cycles,
    ...figures(l),
    l.ops,
    fix(l.gops, 1),
    l.pass ? 'yes' : `no: ${l.mismatch ?? ''}`,
  ]);
  const kindRows = r.opKinds.map((k) => [
    k.kind,
    k.unit,
    k.count,
    k.cycles,
    ...figures(k),
    k.ops,
    pct(k.cycles / Math.max(1, r.cycles)),
  ]);
  const paperRows: (string | number)[][] = [
    ['throughput', `${fix(r.gops, 1)} GOp/s`, `${PAPER.peakGops} GOp/s (peak)`],
    ['energy efficiency', 'not modelled', `${PAPER.gopsPerJoule} GOp/J`],
    ['operating point', `${r.clockMHz} MHz (set by --clock-mhz)`, `${PAPER.voltage} V, ${PAPER.technology}`],
  ];
  if (r.model === 'mobilebert')
    paperRows.push([
      'MobileBERT inferences/s',
      `${fix(r.inferencesPerSecond, 1)}${r.layersRun < r.totalLayers ? ` (scaled from ${r.layersRun} of ${r.totalLayers} layers)` : ''}`,
      `${PAPER.mobileBert.inferencesPerSecond} at ${PAPER.mobileBert.milliwatts} mW`,
    ]);
  if (r.speedup)
    paperRows.push([
      'speed-up over the 8 cores alone',
      `${fix(r.speedup.speedup, 1)}x`,
      'reported as large; the exact factor is not quoted here',
    ]);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>itasim encoder report: ${esc(r.model)}</title><style>${CSS}</style></head>
<body>
<h1>Encoder run: ${esc(r.model)}</h1>
<p>${esc(r.description)}</p>
<p>${exact}. Mode: <b>${r.mode === 'ita' ? 'ITA + 8 cores' : 'cluster only (8 cores, no ITA)'}</b>; ${r.layersRun} of ${r.totalLayers} layers simulated cycle by cycle.</p>
<div>${kpi('cycles', int(r.cycles))}${kpi(`time at ${r.clockMHz} MHz`, `${fix(r.milliseconds, 3)} ms`)}${kpi('throughput', `${fix(r.gops, 1)} GOp/s`)}${kpi('ITA utilisation', pct(r.itaUtilisation))}${r.speedup ? kpi('speed-up vs cores only', `${fix(r.speedup.speedup, 1)}x`) : ''}</div>
<h2>Where the cycles go, per layer</h2>
<p>Each bar is one layer. Its coloured parts are the cycles each unit was busy within the layer: ITA, the compute cores (the sum over the 8 cores divided by 8), the DMA, and bank-conflict stalls (also divided by 8). Units work at the same time, so the parts can add up to more than the layer's length, which the black tick marks. A long green part with a short orange one means the layer waits on the cores.</p>
${layerBars(r)}
<h2>Timeline</h2>
<p>When each unit was busy over the whole run: ITA busy, the DMA with a transfer in flight, each compute core active (not waiting at a barrier or for ITA or the DMA). Hover for the program steps; dashed lines separate layers. Gaps in the ITA lane are cycles where ITA waits for the cores or the DMA.</p>
${timeline(r, result)}
<h2>Per layer</h2>
${table(['layer', 'cycles', ...FIGURES.map((f) => f.label), 'ops', 'GOp/s', 'bit-exact'], layerRows)}
<h2>Per op kind</h2>
${table(['op', 'unit', 'count', 'cycles', ...FIGURES.map((f) => f.label), 'ops', 'share of cycles'], kindRows)}
<h2>Beside the paper</h2>
${table(['', 'this run', `paper (${PAPER.source})`], paperRows)}
<p>${esc(comparisonText(r))}</p>
<p class="note">Cycles are those of itasim's cycle-level model of the Snitch cluster with ITA over shared L1; GOp/s = ops / (cycles / clock). Simulated in ${fix(r.simSeconds, 1)} s (${int(r.simCyclesPerSecond)} cycles/s).</p>
</body></html>
`;
}

/** Writes the HTML report atomically. */
export function writeHtmlReport(path: string, r: EncoderReport, result: EncoderRunResult): void {
  writeFileAtomic(path, reportHtml(r, result), '--report');
}

/** The JSON form (`--json`): the report without the per-op list's bulk when asked. */
export function reportJson(r: EncoderReport): string {
  return JSON.stringify(r, null, 2);
}
