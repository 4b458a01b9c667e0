import { nanos } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureStreams, subjectCovers, subjectMatcher } from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';

describe('ensureStreams', () => {
  const nats = useNats();
  afterEach(async () => {
    for (const name of ['WFM_IN', 'WFM_OUT', 'WFM_DLQ'])
      await nats.jsm.streams.delete(name).catch(() => false);
  });

  it('creates the three streams with the contract subjects and duplicate windows', async () => {
    const result = await ensureStreams(nats.jsm, { outDuplicateWindowMs: 300_000 });
    expect(result).toEqual([
      {
        name: 'WFM_IN',
        action: 'created',
        subjects: ['wfm.stat.>', 'wfm.schedule.>', 'wfm.clock.>'],
        missingSubjects: [],
        duplicateWindowMs: 120_000,
      },
      {
        name: 'WFM_OUT',
        action: 'created',
        subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>'],
        missingSubjects: [],
        duplicateWindowMs: 300_000,
      },
      {
        name: 'WFM_DLQ',
        action: 'created',
        subjects: ['wfm.dlq.>'],
        missingSubjects: [],
        duplicateWindowMs: 86_400_000,
      },
    ]);
    const out = await nats.jsm.streams.info('WFM_OUT');
    expect(out.config.storage).toBe('file');
    expect(out.config.num_replicas).toBe(1);
  });

  it('keeps existing streams as they are on a second run', async () => {
    await ensureStreams(nats.jsm);
    const before = await nats.jsm.streams.info('WFM_OUT');
    const again = await ensureStreams(nats.jsm, { outDuplicateWindowMs: 5_000, storage: 'memory' });
    expect(again.map((s) => s.action)).toEqual(['existing', 'existing', 'existing']);
    const after = await nats.jsm.streams.info('WFM_OUT');
    expect(after.config).toEqual(before.config);
    expect(after.created).toEqual(before.created);
  });

  it('uses a stream made by someone else without modifying it, and reports subjects it lacks', async () => {
    await nats.jsm.streams.add({
      name: 'WFM_IN',
      subjects: ['wfm.stat.>', 'wfm.clock.*'],
      duplicate_window: nanos(10_000),
      max_msgs: 12345,
    });
    const result = await ensureStreams(nats.jsm);
    const wfmIn = result.find((s) => s.name === 'WFM_IN');
    expect(wfmIn).toEqual({
      name: 'WFM_IN',
      action: 'existing',
      subjects: ['wfm.stat.>', 'wfm.clock.*'],
      missingSubjects: ['wfm.schedule.>', 'wfm.clock.>'],
      duplicateWindowMs: 10_000,
    });
    const info = await nats.jsm.streams.info('WFM_IN');
    expect(info.config.max_msgs).toBe(12345);
    expect(info.config.subjects).toEqual(['wfm.stat.>', 'wfm.clock.*']);
  });

  it('is safe when several nodes run it at once', async () => {
    const nodes = await Promise.all([1, 2, 3, 4].map(() => ensureStreams(nats.jsm)));
    for (const name of ['WFM_IN', 'WFM_OUT', 'WFM_DLQ'] as const) {
      const actions = nodes.map((r) => r.find((s) => s.name === name)?.action);
      expect(actions.every((a) => a === 'created' || a === 'existing')).toBe(true);
      expect(actions).toContain('created');
    }
    const names: string[] = [];
    for await (const n of nats.jsm.streams.names()) names.push(n);
    expect(names.sort()).toEqual(['WFM_DLQ', 'WFM_IN', 'WFM_OUT']);
  });
});

describe('subjectCovers', () => {
  it.each([
    ['wfm.stat.>', 'wfm.stat.>', true],
    ['wfm.>', 'wfm.stat.>', true],
    ['>', 'wfm.stat.>', true],
    ['wfm.*.>', 'wfm.stat.>', true],
    ['wfm.stat.*', 'wfm.stat.>', false],
    ['wfm.stat.>', 'wfm.>', false],
    ['wfm.stat.>', 'wfm.stat', false],
    ['wfm.stat', 'wfm.stat', true],
    ['wfm.*', 'wfm.stat', true],
    ['wfm.stat', 'wfm.*', false],
    ['wfm.clock.*', 'wfm.clock.>', false],
  ])('%s covers %s: %s', (pattern, subject, expected) => {
    expect(subjectCovers(pattern, subject)).toBe(expected);
  });
});

describe('subjectMatcher', () => {
  const subjects = [
    'wfm.stat.T1.S1.A1',
    'wfm.stat.T2.S1.A1',
    'wfm.clock.T1.S1',
    'wfm.clock.T1',
    'wfm.schedule.T1.S-2.a_b',
    'wfm.stat.T1',
    'wfmXstat.T1.S1',
    'other.stat.T1.S1.A1',
  ];
  it.each([
    [['wfm.*.T1.>'], [true, false, true, false, true, false, false, false]],
    [
      ['wfm.stat.>', 'wfm.clock.*.*'],
      [true, true, true, false, false, true, false, false],
    ],
    [['>'], [true, true, true, true, true, true, true, true]],
    [['wfm.stat.T1.S1.A1'], [true, false, false, false, false, false, false, false]],
  ])('%j matches each literal subject exactly as subjectCovers does', (patterns, expected) => {
    const match = subjectMatcher(patterns);
    expect(subjects.map(match)).toEqual(expected);
    expect(subjects.map((s) => patterns.some((p) => subjectCovers(p, s)))).toEqual(expected);
  });
});
