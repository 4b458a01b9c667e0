import { describe, expect, it } from 'vitest';
import { PublishLane } from '../../src/streams/index.ts';

const SEND = (...ids: number[]) => ({ send: ids, fail: [] });
const HOLD = { send: [], fail: [] };

describe('PublishLane', () => {
  it('chains a subject: the next goes when the one before is stored; other subjects go at once', () => {
    const lane = new PublishLane('A');
    expect(lane.admit(0, 'wfm.gc.T.S.a1', 'chained')).toEqual(SEND(0));
    expect(lane.admit(1, 'wfm.gc.T.S.a1', 'chained')).toEqual(HOLD);
    expect(lane.admit(2, 'wfm.gc.T.S.a2', 'chained')).toEqual(SEND(2));
    expect(lane.admit(3, 'wfm.gc.T.S.a1', 'chained')).toEqual(HOLD);
    expect(lane.settle(0, 'wfm.gc.T.S.a1', 'chained', true)).toEqual(SEND(1));
    expect(lane.settle(1, 'wfm.gc.T.S.a1', 'chained', true)).toEqual(SEND(3));
    expect(lane.settle(3, 'wfm.gc.T.S.a1', 'chained', true)).toEqual(HOLD);
    expect(lane.settledBelow(4)).toBe(false); // 2 is still out
    expect(lane.settle(2, 'wfm.gc.T.S.a2', 'chained', true)).toEqual(HOLD);
    expect(lane.settledBelow(4)).toBe(true);
  });

  it('fails unsent what a subject held behind one that was not stored', () => {
    const lane = new PublishLane('A');
    lane.admit(0, 'x', 'chained');
    lane.admit(1, 'x', 'chained');
    lane.admit(2, 'x', 'chained');
    lane.noteFailure(0, 'm0', new Error('lost'));
    expect(lane.settle(0, 'x', 'chained', false)).toEqual({
      send: [],
      fail: [{ ids: [1, 2], reason: 'the publish before it on x was not stored' }],
    });
    expect(lane.failure).toMatchObject({ msgId: 'm0', count: 1 });
  });

  it('fails every later publish on a subject with a gap until the rebuilt site reopens the lane', () => {
    const lane = new PublishLane('A');
    lane.admit(0, 'x', 'chained');
    lane.noteFailure(0, 'm0', new Error('lost'));
    expect(lane.settle(0, 'x', 'chained', false)).toEqual(HOLD);
    // A flush reported the failure; the site has not rebuilt yet and goes on applying input.
    lane.failure = undefined;
    expect(lane.admit(1, 'x', 'chained')).toEqual({
      send: [],
      fail: [{ ids: [1], reason: 'an earlier publish on x was not stored' }],
    });
    expect(lane.admit(2, 'y', 'chained')).toEqual(SEND(2));
    expect(lane.admit(3, 'dlq', 'free')).toEqual(SEND(3));
    // A transfer record may not pass a gap either.
    expect(lane.admit(4, 'fence', 'fence')).toEqual({
      send: [],
      fail: [{ ids: [4], reason: 'a publish before it was not stored' }],
    });
    lane.reopen();
    expect(lane.admit(5, 'x', 'chained')).toEqual(SEND(5));
  });

  it('after a transfer record that was not stored, only dead letters go until the lane reopens', () => {
    const lane = new PublishLane('A');
    expect(lane.admit(0, 'fence', 'fence')).toEqual(SEND(0));
    lane.noteFailure(0, 'm0', new Error('lost'));
    lane.settle(0, 'fence', 'fence', false);
    lane.failure = undefined;
    const refused = { send: [], fail: [{ ids: [1], reason: 'a transfer record before it was not stored' }] };
    expect(lane.admit(1, 'a', 'chained')).toEqual(refused);
    expect(lane.admit(2, 'dlq', 'free')).toEqual(SEND(2));
    lane.reopen();
    expect(lane.admit(3, 'a', 'chained')).toEqual(SEND(3));
  });

  it('keeps free publishes pipelined whatever failed', () => {
    const lane = new PublishLane('A');
    expect(lane.admit(0, 'dlq', 'free')).toEqual(SEND(0));
    lane.noteFailure(0, 'm0', new Error('refused'));
    expect(lane.settle(0, 'dlq', 'free', false)).toEqual(HOLD);
    expect(lane.admit(1, 'dlq', 'free')).toEqual(SEND(1));
  });

  it('sends a fence once all before it settled, and all after it once it is stored', () => {
    const lane = new PublishLane('A');
    lane.admit(0, 'a', 'chained');
    lane.admit(1, 'b', 'free');
    expect(lane.admit(2, 'fence', 'fence')).toEqual(HOLD);
    expect(lane.admit(3, 'a', 'chained')).toEqual(HOLD);
    expect(lane.admit(4, 'c', 'free')).toEqual(HOLD);
    expect(lane.settle(0, 'a', 'chained', true)).toEqual(HOLD);
    expect(lane.settle(1, 'b', 'free', true)).toEqual(SEND(2));
    expect(lane.settle(2, 'fence', 'fence', true)).toEqual(SEND(3, 4));
  });

  it('a fence alone goes at once; after a failure it fails, and what waits behind it', () => {
    const lane = new PublishLane('A');
    expect(lane.admit(0, 'fence', 'fence')).toEqual(SEND(0));
    lane.settle(0, 'fence', 'fence', true);
    lane.admit(1, 'a', 'chained');
    lane.admit(2, 'fence', 'fence');
    lane.admit(3, 'b', 'chained');
    lane.noteFailure(1, 'm1', new Error('lost'));
    expect(lane.settle(1, 'a', 'chained', false)).toEqual({
      send: [],
      fail: [{ ids: [2], reason: 'a publish before it was not stored' }],
    });
    expect(lane.settle(2, 'fence', 'fence', false)).toEqual({
      send: [],
      fail: [{ ids: [3], reason: 'the transfer record before it was not stored' }],
    });
  });

  it('wakes the flushes whose publishes all settled, and only those', () => {
    const lane = new PublishLane('A');
    const woken: number[] = [];
    lane.admit(0, 'a', 'free');
    lane.admit(1, 'b', 'free');
    lane.waiters.push({ upto: 1, resolve: () => woken.push(1) }, { upto: 2, resolve: () => woken.push(2) });
    lane.settle(0, 'a', 'free', true);
    lane.wakeWaiters();
    expect(woken).toEqual([1]);
    lane.settle(1, 'b', 'free', true);
    lane.wakeWaiters();
    expect(woken).toEqual([1, 2]);
    expect(lane.waiters).toEqual([]);
  });
});
