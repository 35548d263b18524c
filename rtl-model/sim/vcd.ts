/**
 * Value change dump (IEEE 1364 VCD) of a set of probes, one sample per clock cycle, viewable in
 * GTKWave or Surfer. Hierarchical probe names (`ita.i_controller.step_q`) become nested scopes,
 * so a waveform of the model lines up with one of the RTL. Writes to a temporary file that is
 * renamed on `close()`, so an interrupted run leaves no half-written dump. A write that fails
 * during the run (a full disk) drops the dump and is recorded (`deferOutputError`), so the run
 * goes on and its results are printed before the failure is reported.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Probe } from './kernel.ts';
import {
  checkFileOutput,
  deferOutputError,
  outputError,
  trackTemporary,
  untrackTemporary,
} from '../../golden/atomic.ts';
import { OutputError } from '../errors.ts';

interface Var {
  probe: Probe;
  id: string;
  last: string;
}

function idFor(n: number): string {
  // Printable ASCII 33..126, base 94.
  let s = '';
  do {
    s += String.fromCharCode(33 + (n % 94));
    n = Math.floor(n / 94);
  } while (n > 0);
  return s;
}

function binary(v: number | bigint, width: number): string {
  let b: bigint = typeof v === 'bigint' ? v : BigInt(v);
  if (b < 0n) b = (1n << BigInt(width)) + b;
  return b.toString(2);
}

export class VcdWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private readonly vars: Var[];
  private buf: string[] = [];
  private closed = false;

  constructor(
    private readonly path: string,
    probes: readonly Probe[],
    periodPs = 2000,
    private readonly param = '--vcd',
  ) {
    checkFileOutput(param, path);
    this.tmp = `${path}.tmp-${process.pid}`;
    trackTemporary(this.tmp);
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      untrackTemporary(this.tmp);
      throw outputError(param, path, e);
    }
    this.vars = probes.map((probe, i) => ({ probe, id: idFor(i), last: '' }));
    this.periodPs = periodPs;
    try {
      this.writeHeader();
    } catch (e) {
      this.abort();
      throw outputError(param, path, e);
    }
  }
  private readonly periodPs: number;

  private writeHeader(): void {
    const out: string[] = [];
    out.push('$date itasim $end', '$version itasim cycle-level model $end', '$timescale 1ps $end');
    // Build the scope tree.
    interface Node {
      scopes: Map<string, Node>;
      vars: Var[];
    }
    const root: Node = { scopes: new Map(), vars: [] };
    for (const v of this.vars) {
      const parts = v.probe.name.split('.');
      let n = root;
      for (const p of parts.slice(0, -1)) {
        let c = n.scopes.get(p);
        if (!c) {
          c = { scopes: new Map(), vars: [] };
          n.scopes.set(p, c);
        }
        n = c;
      }
      n.vars.push(v);
    }
    const emit = (n: Node): void => {
      for (const v of n.vars) {
        const leaf = v.probe.name.split('.').pop()!;
        out.push(`$var wire ${v.probe.width} ${v.id} ${leaf} $end`);
      }
      for (const [name, c] of n.scopes) {
        out.push(`$scope module ${name} $end`);
        emit(c);
        out.push('$upscope $end');
      }
    };
    emit(root);
    out.push('$enddefinitions $end');
    writeSync(this.fd, out.join('\n') + '\n');
  }

  /** Samples every probe at the given cycle; only changed values are written. */
  sample(cycle: number): void {
    if (this.closed) return;
    let stamped = false;
    for (const v of this.vars) {
      const val = v.probe.read();
      const s = v.probe.width === 1 ? (val ? '1' : '0') : binary(val, v.probe.width);
      if (s !== v.last) {
        if (!stamped) {
          this.buf.push(`#${cycle * this.periodPs}`);
          stamped = true;
        }
        this.buf.push(v.probe.width === 1 ? `${s}${v.id}` : `b${s} ${v.id}`);
        v.last = s;
      }
    }
    if (this.buf.length > 4096) this.flush();
  }

  private flush(): void {
    try {
      if (this.buf.length) writeSync(this.fd, this.buf.join('\n') + '\n');
    } catch (e) {
      this.fail(e);
    }
    this.buf = [];
  }

  /** Drops the dump after a failed write and records the failure (or throws a bug). */
  private fail(e: unknown): void {
    this.abort();
    const err = outputError(this.param, this.path, e);
    if (!(err instanceof OutputError)) throw err;
    deferOutputError(err);
  }

  /** Finishes the dump and moves it into place. */
  close(finalCycle?: number): void {
    if (this.closed) return;
    if (finalCycle !== undefined) this.buf.push(`#${finalCycle * this.periodPs}`);
    this.flush();
    if (this.closed) return; // the dump failed and was dropped
    try {
      this.closed = true;
      closeSync(this.fd);
      renameSync(this.tmp, this.path);
    } catch (e) {
      rmSync(this.tmp, { force: true });
      const err = outputError(this.param, this.path, e);
      if (!(err instanceof OutputError)) throw err;
      deferOutputError(err);
    } finally {
      untrackTemporary(this.tmp);
    }
  }

  /** Drops the dump (on error). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
    } finally {
      rmSync(this.tmp, { force: true });
      untrackTemporary(this.tmp);
    }
  }
}
