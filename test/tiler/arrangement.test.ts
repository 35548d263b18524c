/**
 * A schedule replayed from an earlier schedule's arrangement (merging limit and sync steps) is the
 * schedule a fresh search gives: the run sizes the machine with a first schedule at provisional
 * DRAM addresses and reuses its arrangement for the real one.
 */
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../onnx/executor.ts';
import { lowerGraph } from '../../onnx/lower.ts';
import { mapGraph } from '../../tiler/map.ts';
import { place } from '../../tiler/place.ts';
import { buildPreset } from '../../tiler/presets.ts';
import { firstLayers } from '../../tiler/run.ts';
import { schedule, type ScheduleOptions } from '../../tiler/schedule.ts';

const bump = (base: number): ((b: number) => number) => {
  let next = base;
  return (b) => {
    const a = next;
    next += Math.ceil(b / 64) * 64;
    return a;
  };
};

describe('schedule arrangement', () => {
  it.each([
    ['mobilebert', 2, false],
    ['mobilebert', 1, true],
    ['dinov2', 1, false],
  ] as const)(
    '%s, %i layers, cluster only %s: the replay equals a fresh schedule',
    (preset, layers, clusterOnly) => {
      const model = buildPreset(preset, { layers, seq: preset === 'mobilebert' ? 128 : undefined });
      const graph = firstLayers(model, layers);
      const ref = runGraph(graph, model.inputs, { softmax: 'ita' });
      const mapped = mapGraph(lowerGraph(graph), ref.tensors, { layerOf: new Map() });
      const opts = (base: number): ScheduleOptions => ({
        placed: place(mapped.ops, { clusterOnly }),
        l1Base: 0x10000000,
        l1Size: 119 * 1024,
        dramAlloc: bump(base),
      });
      const dry = schedule(mapped, opts(0x90000000));
      const fresh = schedule(mapped, opts(0x80100000));
      const replay = schedule(mapped, { ...opts(0x80100000), arrangement: dry.arrangement });
      expect(fresh.arrangement).toEqual(dry.arrangement);
      expect(replay.arrangement).toEqual(fresh.arrangement);
      expect(replay.program.labels).toEqual(fresh.program.labels);
      expect(replay.program.streams).toEqual(fresh.program.streams);
      expect(replay.placements).toEqual(fresh.placements);
    },
  );
});
