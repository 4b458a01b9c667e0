import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { AuthorizationError, connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { NatsError, type NatsErrorKind, TRANSIENT_JETSTREAM_ERR_CODES } from '../../src/errors.ts';
import { natsErrorFrom } from '../../src/streams/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { useNats } from '../helpers/natsFixture.ts';

/** What nats.js rejected `promise` with. */
async function thrown(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
}

/** The classification without the message, for exact comparison. */
function shape(e: NatsError): {
  kind: NatsErrorKind;
  transient: boolean;
  apiCode: number | undefined;
  errCode: number | undefined;
} {
  return { kind: e.kind, transient: e.transient, apiCode: e.apiCode, errCode: e.errCode };
}

describe('natsErrorFrom, on what a real server makes nats.js throw', () => {
  const nats = useNats();

  it('a request nobody answers in time: timeout, transient', async () => {
    const sub = nats.nc.subscribe('wfm.test.slow', { callback: () => {} });
    const err = await thrown(nats.nc.request('wfm.test.slow', '', { timeout: 100 }));
    sub.unsubscribe();
    const e = natsErrorFrom(err, 'asking the slow one');
    expect(e).toBeInstanceOf(NatsError);
    expect(shape(e)).toEqual({ kind: 'timeout', transient: true, apiCode: undefined, errCode: undefined });
    expect(e.message).toBe('asking the slow one: timeout');
    expect(e.cause).toBe(err);
    expect(e.code).toBe('WFM_NATS_UNAVAILABLE');
  });

  it('a request to a subject nobody subscribes to: no_responders, transient', async () => {
    const err = await thrown(nats.nc.request('wfm.test.nobody', '', { timeout: 2000 }));
    const e = natsErrorFrom(err, 'asking nobody');
    expect(shape(e)).toEqual({
      kind: 'no_responders',
      transient: true,
      apiCode: undefined,
      errCode: undefined,
    });
    expect(e.message).toBe("asking nobody: no responders: 'wfm.test.nobody'");
    expect(e.cause).toBe(err);
  });

  it('a JetStream publish no stream captures: no_responders, not the "jetstream is not enabled" wrapper', async () => {
    const err = await thrown(jetstream(nats.nc).publish('wfm.test.uncaptured', ''));
    expect((err as Error).message).toBe('jetstream is not enabled');
    const e = natsErrorFrom(err, 'publishing');
    expect(e.kind).toBe('no_responders');
    expect(e.transient).toBe(true);
    expect(e.message).toBe("publishing: no responders: 'wfm.test.uncaptured'");
    expect(e.cause).toBe(err);
  });

  it('streams.info of a missing stream: api 404 / 10059, permanent, the library error kept', async () => {
    const err = await thrown(nats.jsm.streams.info('WFM_NOPE'));
    const e = natsErrorFrom(err, 'cannot read stream WFM_NOPE');
    expect(shape(e)).toEqual({ kind: 'api', transient: false, apiCode: 404, errCode: 10059 });
    expect(e.message).toBe(
      'cannot read stream WFM_NOPE: stream not found (JetStream API error 10059, status 404)',
    );
    expect(e.cause).toBeInstanceOf(JetStreamApiError);
    expect((e.cause as JetStreamApiError).code).toBe(10059);
  });

  it('streams.add with subjects another stream has: api 400 / 10065, permanent', async () => {
    await nats.jsm.streams.add({ name: 'OVERLAP_A', subjects: ['ovl.>'] });
    try {
      const err = await thrown(nats.jsm.streams.add({ name: 'OVERLAP_B', subjects: ['ovl.x.>'] }));
      const e = natsErrorFrom(err, 'cannot create stream OVERLAP_B');
      expect(shape(e)).toEqual({ kind: 'api', transient: false, apiCode: 400, errCode: 10065 });
      expect(e.message).toBe(
        'cannot create stream OVERLAP_B: subjects overlap with an existing stream (JetStream API error 10065, status 400)',
      );
    } finally {
      await nats.jsm.streams.delete('OVERLAP_A');
    }
  });

  it('a call on a closed connection: connection_closed, transient', async () => {
    const nc = await connect({ servers: [nats.server.url] });
    const jsm = await jetstreamManager(nc);
    await nc.close();
    for (const err of [await thrown(nc.request('x', '')), await thrown(jsm.streams.info('WFM_IN'))]) {
      const e = natsErrorFrom(err, 'reading');
      expect(shape(e)).toEqual({
        kind: 'connection_closed',
        transient: true,
        apiCode: undefined,
        errCode: undefined,
      });
      expect(e.message).toBe('reading: closed connection');
    }
  });

  it('a connection refused: connection_closed, transient', async () => {
    const dead = await NatsServer.start();
    const url = dead.url;
    await dead.stop();
    const err = await thrown(connect({ servers: [url], timeout: 1000 }));
    const e = natsErrorFrom(err, 'connecting');
    expect(e.kind).toBe('connection_closed');
    expect(e.transient).toBe(true);
    expect(e.message).toBe('connecting: connection refused');
  });

  it('a wrong password: other, permanent', async () => {
    const server = await NatsServer.start({ args: ['--user', 'T1', '--pass', 'right'] });
    try {
      const err = await thrown(connect({ servers: [server.url], user: 'T1', pass: 'wrong', timeout: 2000 }));
      expect(err).toBeInstanceOf(AuthorizationError);
      const e = natsErrorFrom(err, 'connecting');
      expect(shape(e)).toEqual({ kind: 'other', transient: false, apiCode: undefined, errCode: undefined });
      expect(e.message).toBe('connecting: Authorization Violation');
    } finally {
      await server.stop();
    }
  });
});

describe('natsErrorFrom, on errors made here', () => {
  it('returns a NatsError as it is', () => {
    const original = new NatsError('already classified', { kind: 'timeout' });
    expect(natsErrorFrom(original, 'again')).toBe(original);
  });

  it('JetStream API errors that say "temporarily unavailable" are transient', () => {
    const err = new JetStreamApiError({
      code: 503,
      err_code: 10008,
      description: 'JetStream system temporarily unavailable',
    });
    const e = natsErrorFrom(err, 'creating');
    expect(shape(e)).toEqual({ kind: 'api', transient: true, apiCode: 503, errCode: 10008 });
  });

  it('anything else is other and permanent; a non-Error is put into words', () => {
    expect(shape(natsErrorFrom(new Error('boom'), 'x'))).toEqual({
      kind: 'other',
      transient: false,
      apiCode: undefined,
      errCode: undefined,
    });
    const e = natsErrorFrom('just a string', 'doing it');
    expect(e.message).toBe('doing it: just a string');
    expect(e.cause).toBe('just a string');
  });

  it('finds the decisive error down a cause chain and redacts the text it quotes', () => {
    const inner = new JetStreamApiError({
      code: 400,
      err_code: 10003,
      description: 'bad request pw=hunter2',
    });
    const outer = new Error('wrapped', { cause: new Error('twice', { cause: inner }) });
    const e = natsErrorFrom(outer, 'calling', { redact: (t) => t.replaceAll('hunter2', '***') });
    expect(shape(e)).toEqual({ kind: 'api', transient: false, apiCode: 400, errCode: 10003 });
    expect(e.message).toBe('calling: bad request pw=*** (JetStream API error 10003, status 400)');
    expect(e.cause).toBe(outer);
  });
});

describe('NatsError', () => {
  it.each([
    ['timeout', undefined, true],
    ['no_responders', undefined, true],
    ['connection_closed', undefined, true],
    ['api', 10059, false],
    ['api', undefined, false],
    ['other', undefined, false],
  ] as const)('kind %s (errCode %s): transient %s', (kind, errCode, transient) => {
    const e = new NatsError('m', { kind, ...(errCode !== undefined ? { errCode } : {}) });
    expect(e.transient).toBe(transient);
  });

  it.each([...TRANSIENT_JETSTREAM_ERR_CODES])('api errCode %i is transient', (errCode) => {
    expect(new NatsError('m', { kind: 'api', errCode }).transient).toBe(true);
  });

  it('defaults to other, permanent, with no cause property when none is given', () => {
    const e = new NatsError('m');
    expect(e.kind).toBe('other');
    expect(e.transient).toBe(false);
    expect('cause' in e).toBe(false);
    expect(e.name).toBe('NatsError');
  });
});
