import { JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureStreamsOptions, loadConfig } from '../../src/config/index.ts';
import { NatsError, StreamMismatchError } from '../../src/errors.ts';
import {
  defaultEnsureStreamsOptions,
  type EnsureStreamsOptions,
  ensureStreams,
  PUBLISHED_STREAMS,
  subjectCovers,
  subjectMatcher,
} from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';

describe('ensureStreams', () => {
  const nats = useNats();
  afterEach(async () => {
    for (const name of ['WFM_IN', 'WFM_OUT', 'WFM_DLQ', 'SOMEONE_ELSE', 'OTHER'])
      await nats.jsm.streams.delete(name).catch(() => false);
  });

  /** What `ensureStreams` rejected with. */
  async function failure(options: Partial<EnsureStreamsOptions> = {}): Promise<unknown> {
    return ensureStreams(nats.jsm, options).then(
      () => expect.unreachable('expected ensureStreams to fail'),
      (e: unknown) => e,
    );
  }

  async function streamNames(): Promise<string[]> {
    const names: string[] = [];
    for await (const n of nats.jsm.streams.names()) names.push(n);
    return names.sort();
  }

  it('creates the three streams with the contract subjects and duplicate windows', async () => {
    const result = await ensureStreams(nats.jsm, { outDuplicateWindowMs: 300_000 });
    expect(result).toEqual([
      {
        name: 'WFM_IN',
        action: 'created',
        subjects: ['wfm.stat.>', 'wfm.schedule.>', 'wfm.clock.>', 'wfm.command.>'],
        missingSubjects: [],
        addedSubjects: [],
        duplicateWindowMs: 120_000,
      },
      {
        name: 'WFM_OUT',
        action: 'created',
        subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>', 'wfm.transfer.>'],
        missingSubjects: [],
        addedSubjects: [],
        duplicateWindowMs: 300_000,
      },
      {
        name: 'WFM_DLQ',
        action: 'created',
        subjects: ['wfm.dlq.>'],
        missingSubjects: [],
        addedSubjects: [],
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

  /** The three WFM_IN subjects of the contract before `wfm.command.>` joined it. */
  const OLD_IN = ['wfm.stat.>', 'wfm.schedule.>', 'wfm.clock.>'];
  /** WFM_OUT's subjects before `wfm.transfer.>` joined the contract. */
  const OLD_OUT = ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>'];

  it('adds to a stream made by someone else exactly the subjects it lacks, keeping the rest of its config', async () => {
    await nats.jsm.streams.add({
      name: 'WFM_IN',
      subjects: ['wfm.stat.>', 'wfm.clock.*'],
      duplicate_window: nanos(10_000),
      max_msgs: 12345,
    });
    const before = await nats.jsm.streams.info('WFM_IN');
    const result = await ensureStreams(nats.jsm);
    expect(result.find((s) => s.name === 'WFM_IN')).toEqual({
      name: 'WFM_IN',
      action: 'updated',
      // wfm.clock.* gives way to wfm.clock.>, which covers it: a stream's subjects must not overlap.
      subjects: ['wfm.stat.>', 'wfm.schedule.>', 'wfm.clock.>', 'wfm.command.>'],
      missingSubjects: [],
      addedSubjects: ['wfm.schedule.>', 'wfm.clock.>', 'wfm.command.>'],
      duplicateWindowMs: 10_000,
    });
    const after = await nats.jsm.streams.info('WFM_IN');
    expect(after.config).toEqual({ ...before.config, subjects: result[0]!.subjects });
    expect(after.created).toEqual(before.created);
  });

  it('adds wfm.command.> to a WFM_IN made before it joined the contract: commands are then stored', async () => {
    await nats.jsm.streams.add({ name: 'WFM_IN', subjects: OLD_IN });
    const result = await ensureStreams(nats.jsm);
    expect(result.map((s) => [s.name, s.action, s.addedSubjects, s.missingSubjects])).toEqual([
      ['WFM_IN', 'updated', ['wfm.command.>'], []],
      ['WFM_OUT', 'created', [], []],
      ['WFM_DLQ', 'created', [], []],
    ]);
    expect((await nats.jsm.streams.info('WFM_IN')).config.subjects).toEqual([...OLD_IN, 'wfm.command.>']);
    const ack = await nats.js.publish('wfm.command.T.S', '{}');
    expect(ack.stream).toBe('WFM_IN');
    const stored = await nats.jsm.streams.getMessage('WFM_IN', { seq: ack.seq });
    expect(stored?.subject).toBe('wfm.command.T.S');
  });

  it('adds wfm.transfer.> to a WFM_OUT made before it joined the contract', async () => {
    await nats.jsm.streams.add({ name: 'WFM_OUT', subjects: OLD_OUT, duplicate_window: nanos(300_000) });
    const result = await ensureStreams(nats.jsm);
    expect(result.find((s) => s.name === 'WFM_OUT')).toEqual({
      name: 'WFM_OUT',
      action: 'updated',
      subjects: [...OLD_OUT, 'wfm.transfer.>'],
      missingSubjects: [],
      addedSubjects: ['wfm.transfer.>'],
      duplicateWindowMs: 300_000,
    });
    expect((await nats.js.publish('wfm.transfer.T.S', '{}')).stream).toBe('WFM_OUT');
    // A second run finds nothing to add.
    const again = await ensureStreams(nats.jsm);
    expect(again.map((s) => s.action)).toEqual(['existing', 'existing', 'existing']);
  });

  it('adds every missing subject of WFM_OUT and WFM_DLQ, in place of the narrower ones they cover', async () => {
    await nats.jsm.streams.add({ name: 'WFM_DLQ', subjects: ['wfm.dlq.T1'] });
    await nats.jsm.streams.add({ name: 'WFM_OUT', subjects: ['wfm.gc.>', 'wfm.interval.T1.>'] });
    const result = await ensureStreams(nats.jsm);
    expect(result.map((s) => [s.name, s.action, s.subjects, s.missingSubjects])).toEqual([
      ['WFM_IN', 'created', [...OLD_IN, 'wfm.command.>'], []],
      ['WFM_OUT', 'updated', ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>', 'wfm.transfer.>'], []],
      ['WFM_DLQ', 'updated', ['wfm.dlq.>'], []],
    ]);
  });

  it('is safe when several nodes add the missing subjects at once', async () => {
    await nats.jsm.streams.add({ name: 'WFM_IN', subjects: OLD_IN });
    await nats.jsm.streams.add({ name: 'WFM_OUT', subjects: OLD_OUT });
    // Each node has its own connection.
    const conns = await Promise.all([1, 2, 3, 4].map(() => connect({ servers: [nats.server.url] })));
    try {
      const jsms = await Promise.all(conns.map((nc) => jetstreamManager(nc)));
      const nodes = await Promise.all(jsms.map((jsm) => ensureStreams(jsm)));
      for (const name of ['WFM_IN', 'WFM_OUT'] as const) {
        const found = nodes.map((r) => r.find((s) => s.name === name));
        expect(found.every((s) => s?.action === 'updated' || s?.action === 'existing')).toBe(true);
        expect(found.map((s) => s?.action)).toContain('updated');
        expect(found.every((s) => s?.missingSubjects.length === 0)).toBe(true);
      }
    } finally {
      await Promise.all(conns.map((nc) => nc.close()));
    }
    expect((await nats.jsm.streams.info('WFM_IN')).config.subjects).toEqual([...OLD_IN, 'wfm.command.>']);
    expect((await nats.jsm.streams.info('WFM_OUT')).config.subjects).toEqual([...OLD_OUT, 'wfm.transfer.>']);
  });

  it('says how to add the subject by hand when another stream already captures it', async () => {
    await nats.jsm.streams.add({ name: 'WFM_IN', subjects: OLD_IN });
    await nats.jsm.streams.add({ name: 'OTHER', subjects: ['wfm.command.>'] });
    const e = (await failure()) as NatsError;
    expect(e).toBeInstanceOf(NatsError);
    expect([e.kind, e.apiCode, e.errCode, e.transient]).toEqual(['api', 400, 10065, false]);
    expect(e.message).toBe(
      'cannot add wfm.command.> to stream WFM_IN: subjects overlap with an existing stream ' +
        '(JetStream API error 10065, status 400); stream OTHER already captures them: remove them there, ' +
        "then add them by hand with: nats stream edit WFM_IN --subjects 'wfm.stat.>,wfm.schedule.>,wfm.clock.>,wfm.command.>'",
    );
    expect(e.cause).toBeInstanceOf(JetStreamApiError);
    expect((e.cause as JetStreamApiError).code).toBe(10065);
    // WFM_IN is left as it was.
    expect((await nats.jsm.streams.info('WFM_IN')).config.subjects).toEqual(OLD_IN);
  });

  describe('addMissingSubjects: false', () => {
    const asItIs = { addMissingSubjects: false } as const;

    it('uses a stream made by someone else without modifying it, and reports subjects it lacks', async () => {
      await nats.jsm.streams.add({
        name: 'WFM_IN',
        subjects: ['wfm.stat.>', 'wfm.clock.*', 'wfm.command.>'],
        duplicate_window: nanos(10_000),
        max_msgs: 12345,
      });
      const result = await ensureStreams(nats.jsm, asItIs);
      const wfmIn = result.find((s) => s.name === 'WFM_IN');
      expect(wfmIn).toEqual({
        name: 'WFM_IN',
        action: 'existing',
        subjects: ['wfm.stat.>', 'wfm.clock.*', 'wfm.command.>'],
        missingSubjects: ['wfm.schedule.>', 'wfm.clock.>'],
        addedSubjects: [],
        duplicateWindowMs: 10_000,
      });
      const info = await nats.jsm.streams.info('WFM_IN');
      expect(info.config.max_msgs).toBe(12345);
      expect(info.config.subjects).toEqual(['wfm.stat.>', 'wfm.clock.*', 'wfm.command.>']);
    });

    it('refuses a WFM_IN without wfm.command.>: commands published there would be lost', async () => {
      await nats.jsm.streams.add({ name: 'WFM_IN', subjects: ['wfm.stat.>', 'wfm.clock.>'] });
      const e = (await failure(asItIs)) as StreamMismatchError;
      expect(e).toBeInstanceOf(StreamMismatchError);
      // Only the command gap is fatal; the others are reported.
      expect(e.gaps).toEqual([{ stream: 'WFM_IN', missingSubjects: ['wfm.command.>'] }]);
      expect(e.message).toMatch(/^stream WFM_IN does not capture wfm\.command\.>: /);
      expect(await streamNames()).toEqual(['WFM_DLQ', 'WFM_IN', 'WFM_OUT']);
      expect((await nats.jsm.streams.info('WFM_IN')).config.subjects).toEqual(['wfm.stat.>', 'wfm.clock.>']);
    });

    it("onMissingSubjects: 'report' starts on a WFM_IN made before wfm.command.>, reporting the gap", async () => {
      await nats.jsm.streams.add({ name: 'WFM_IN', subjects: OLD_IN });
      const result = await ensureStreams(nats.jsm, { ...asItIs, onMissingSubjects: 'report' });
      expect(result.map((s) => [s.name, s.action, s.missingSubjects])).toEqual([
        ['WFM_IN', 'existing', ['wfm.command.>']],
        ['WFM_OUT', 'created', []],
        ['WFM_DLQ', 'created', []],
      ]);
      expect((await nats.jsm.streams.info('WFM_IN')).config.subjects).toEqual(OLD_IN);
    });

    it('refuses a WFM_OUT that does not capture every output subject, naming stream and subject', async () => {
      // Made by someone else: publishes on wfm.interval.> would get a 503 and be lost.
      await nats.jsm.streams.add({
        name: 'WFM_OUT',
        subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.transfer.>'],
      });
      const err = await failure(asItIs);
      expect(err).toBeInstanceOf(StreamMismatchError);
      const e = err as StreamMismatchError;
      expect(e.code).toBe('WFM_STREAM_MISMATCH');
      expect(e.name).toBe('StreamMismatchError');
      expect(e.gaps).toEqual([{ stream: 'WFM_OUT', missingSubjects: ['wfm.interval.>'] }]);
      expect(e.message).toBe(
        'stream WFM_OUT does not capture wfm.interval.>: publishes there would be lost; ' +
          'add the subject(s) to the stream, or delete it so the node creates it',
      );
      // The other streams are made all the same; WFM_OUT is left as it was.
      expect(await streamNames()).toEqual(['WFM_DLQ', 'WFM_IN', 'WFM_OUT']);
      expect((await nats.jsm.streams.info('WFM_OUT')).config.subjects).toEqual([
        'wfm.gc.>',
        'wfm.adherence.>',
        'wfm.transfer.>',
      ]);
    });

    it('names every gap at once, in contract order', async () => {
      await nats.jsm.streams.add({ name: 'WFM_DLQ', subjects: ['wfm.dlq.T1'] });
      await nats.jsm.streams.add({ name: 'WFM_OUT', subjects: ['wfm.gc.>'] });
      await nats.jsm.streams.add({ name: 'WFM_IN', subjects: ['wfm.stat.>'] });
      const e = (await failure(asItIs)) as StreamMismatchError;
      expect(e.gaps).toEqual([
        { stream: 'WFM_IN', missingSubjects: ['wfm.command.>'] },
        { stream: 'WFM_OUT', missingSubjects: ['wfm.adherence.>', 'wfm.interval.>', 'wfm.transfer.>'] },
        { stream: 'WFM_DLQ', missingSubjects: ['wfm.dlq.>'] },
      ]);
      expect(e.message).toMatch(
        /^stream WFM_IN does not capture wfm\.command\.>; stream WFM_OUT does not capture wfm\.adherence\.>, wfm\.interval\.>, wfm\.transfer\.>; stream WFM_DLQ does not capture wfm\.dlq\.>: /,
      );
    });

    it('refuses a WFM_OUT whose narrower subjects cover only some tenants', async () => {
      await nats.jsm.streams.add({
        name: 'WFM_OUT',
        subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.T1.>', 'wfm.transfer.>'],
      });
      const e = (await failure(asItIs)) as StreamMismatchError;
      expect(e).toBeInstanceOf(StreamMismatchError);
      expect(e.gaps).toEqual([{ stream: 'WFM_OUT', missingSubjects: ['wfm.interval.>'] }]);
    });

    it("onMissingSubjects: 'report' returns the gaps instead of throwing", async () => {
      await nats.jsm.streams.add({ name: 'WFM_OUT', subjects: ['wfm.gc.>', 'wfm.adherence.>'] });
      const result = await ensureStreams(nats.jsm, { ...asItIs, onMissingSubjects: 'report' });
      expect(result.map((s) => [s.name, s.action, s.missingSubjects])).toEqual([
        ['WFM_IN', 'created', []],
        ['WFM_OUT', 'existing', ['wfm.interval.>', 'wfm.transfer.>']],
        ['WFM_DLQ', 'created', []],
      ]);
    });
  });

  it('only the published streams are fatal', () => {
    expect(PUBLISHED_STREAMS).toEqual(['WFM_OUT', 'WFM_DLQ']);
    expect(defaultEnsureStreamsOptions.onMissingSubjects).toBe('throw');
    expect(defaultEnsureStreamsOptions.addMissingSubjects).toBe(true);
  });

  it('creates streams with the replicas asked for: 3 is refused by a server that is not clustered', async () => {
    const err = await failure({ replicas: 3 });
    expect(err).toBeInstanceOf(NatsError);
    const e = err as NatsError;
    expect([e.kind, e.apiCode, e.errCode, e.transient]).toEqual(['api', 500, 10074, false]);
    expect(e.message).toBe(
      'cannot create stream WFM_IN: replicas > 1 not supported in non-clustered mode (JetStream API error 10074, status 500)',
    );
    expect(await streamNames()).toEqual([]);
  });

  it('takes replicas from the configuration key streams.replicas', async () => {
    const config = (replicas: number) =>
      loadConfig({
        env: {},
        overrides: {
          tenant: { id: 'T1' },
          streams: { replicas },
          businessUnits: [{ id: 'b', name: 'B', sites: [{ id: 's' } as never] }],
        },
      });
    expect(ensureStreamsOptions(config(3))).toEqual({ replicas: 3 });
    const e = (await failure(ensureStreamsOptions(config(3)))) as NatsError;
    expect([e.kind, e.errCode]).toEqual(['api', 10074]);
    await ensureStreams(nats.jsm, ensureStreamsOptions(config(1)));
    expect((await nats.jsm.streams.info('WFM_OUT')).config.num_replicas).toBe(1);
  });

  it('keeps the JetStream API error when another stream already captures the subjects', async () => {
    await nats.jsm.streams.add({ name: 'SOMEONE_ELSE', subjects: ['wfm.gc.>'] });
    const e = (await failure()) as NatsError;
    expect(e).toBeInstanceOf(NatsError);
    expect([e.kind, e.apiCode, e.errCode, e.transient]).toEqual(['api', 400, 10065, false]);
    expect(e.message).toBe(
      'cannot create stream WFM_OUT: subjects overlap with an existing stream (JetStream API error 10065, status 400)',
    );
  });

  it('a closed connection is a transient NatsError naming the stream it was reading', async () => {
    const nc = await connect({ servers: [nats.server.url] });
    const jsm = await jetstreamManager(nc);
    await nc.close();
    const e = await ensureStreams(jsm).then(
      () => expect.unreachable(),
      (err: unknown) => err as NatsError,
    );
    expect(e).toBeInstanceOf(NatsError);
    expect([e.kind, e.transient]).toEqual(['connection_closed', true]);
    expect(e.message).toBe('cannot read stream WFM_IN: closed connection');
  });

  it.each([
    [{ replicas: 0 }, 'replicas must be an integer from 1 to 5, got 0'],
    [{ replicas: 6 }, 'replicas must be an integer from 1 to 5, got 6'],
    [{ replicas: 1.5 }, 'replicas must be an integer from 1 to 5, got 1.5'],
    [{ outDuplicateWindowMs: 0 }, 'outDuplicateWindowMs must be a positive integer (milliseconds), got 0'],
    [{ storage: 'disk' as 'file' }, "storage must be 'file' or 'memory', got disk"],
    [
      { addMissingSubjects: 'yes' as unknown as boolean },
      'addMissingSubjects must be true or false, got yes',
    ],
    [
      { onMissingSubjects: 'ignore' as 'report' },
      "onMissingSubjects must be 'throw' or 'report', got ignore",
    ],
  ])('refuses options %j before asking the server', async (options, message) => {
    await expect(ensureStreams(nats.jsm, options)).rejects.toThrow(new RangeError(message));
    expect(await streamNames()).toEqual([]);
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
