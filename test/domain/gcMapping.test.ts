import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AGENT_STATUSES,
  CALL_TYPES,
  type CallType,
  MAPPABLE_REASONS,
  mapGcState,
  PRESENCES,
  type Presence,
  ROUTING_STATUSES,
} from '../../src/domain/index.ts';

const ALL = new Set(['Break', 'Meal', 'Meeting', 'Training']);

describe('mapGcState: every row of the DESIGN.md table', () => {
  it('LoggedOff → OFFLINE / OFF_QUEUE', () => {
    expect(mapGcState('LoggedOff', null, null, null, ALL)).toEqual({
      presence: 'OFFLINE',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it('LoggedOff ignores a reason and a call', () => {
    expect(mapGcState('LoggedOff', 'Inbound', 'Meal', 'ON_QUEUE', ALL)).toEqual({
      presence: 'OFFLINE',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it('NotReady, no reason, no call → BUSY / OFF_QUEUE', () => {
    expect(mapGcState('NotReady', null, null, null, ALL)).toEqual({
      presence: 'BUSY',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it('NotReady, a reason not in the mapped set ("Personal") → BUSY / OFF_QUEUE', () => {
    expect(mapGcState('NotReady', null, 'Personal', null, ALL)).toEqual({
      presence: 'BUSY',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it.each([
    ['Break', 'BREAK'],
    ['Meal', 'MEAL'],
    ['Meeting', 'MEETING'],
    ['Training', 'TRAINING'],
  ] as const)('NotReady, reason %s, no call → %s / OFF_QUEUE', (reason, presence) => {
    expect(mapGcState('NotReady', null, reason, null, ALL)).toEqual({ presence, routingStatus: 'OFF_QUEUE' });
  });

  it.each([null, 'Personal', 'Break', 'Meal'])(
    'NotReady, reason %s, Internal call → BUSY / COMMUNICATING',
    (r) => {
      expect(mapGcState('NotReady', 'Internal', r, null, ALL)).toEqual({
        presence: 'BUSY',
        routingStatus: 'COMMUNICATING',
      });
    },
  );

  it.each([
    ['Inbound', null],
    ['Outbound', 'Break'],
    ['Consult', 'Meal'],
  ] as const)('NotReady, %s call (reason %s) → BUSY / INTERACTING', (callType, reason) => {
    expect(mapGcState('NotReady', callType, reason, null, ALL)).toEqual({
      presence: 'BUSY',
      routingStatus: 'INTERACTING',
    });
  });

  it('Ready, no call → ON_QUEUE / IDLE', () => {
    expect(mapGcState('Ready', null, null, null, ALL)).toEqual({
      presence: 'ON_QUEUE',
      routingStatus: 'IDLE',
    });
  });

  it('Ready, Internal call → ON_QUEUE / COMMUNICATING', () => {
    expect(mapGcState('Ready', 'Internal', null, null, ALL)).toEqual({
      presence: 'ON_QUEUE',
      routingStatus: 'COMMUNICATING',
    });
  });

  it.each(['Inbound', 'Outbound', 'Consult'] as const)(
    'Ready, %s call → ON_QUEUE / INTERACTING',
    (callType) => {
      expect(mapGcState('Ready', callType, null, null, ALL)).toEqual({
        presence: 'ON_QUEUE',
        routingStatus: 'INTERACTING',
      });
    },
  );

  it('Ready ignores a reason (Meal) → ON_QUEUE / IDLE', () => {
    expect(mapGcState('Ready', null, 'Meal', null, ALL)).toEqual({
      presence: 'ON_QUEUE',
      routingStatus: 'IDLE',
    });
  });

  it.each(['ON_QUEUE', 'BUSY', 'MEAL', 'OFFLINE'] as const)(
    'AfterCallWork, no call, presence before ACW %s → unchanged / INTERACTING',
    (before) => {
      expect(mapGcState('AfterCallWork', null, null, before, ALL)).toEqual({
        presence: before,
        routingStatus: 'INTERACTING',
      });
    },
  );

  it('AfterCallWork with an Internal call: presence unchanged, COMMUNICATING', () => {
    expect(mapGcState('AfterCallWork', 'Internal', null, 'ON_QUEUE', ALL)).toEqual({
      presence: 'ON_QUEUE',
      routingStatus: 'COMMUNICATING',
    });
  });

  it.each(['Inbound', 'Outbound', 'Consult'] as const)(
    'AfterCallWork with an %s call: presence unchanged, INTERACTING',
    (callType) => {
      expect(mapGcState('AfterCallWork', callType, null, 'BREAK', ALL)).toEqual({
        presence: 'BREAK',
        routingStatus: 'INTERACTING',
      });
    },
  );

  it('AfterCallWork as the first state ever (no presence before) → BUSY / INTERACTING', () => {
    expect(mapGcState('AfterCallWork', null, null, null, ALL)).toEqual({
      presence: 'BUSY',
      routingStatus: 'INTERACTING',
    });
  });

  it('AfterCallWork keeps presence even with a mapped reason', () => {
    expect(mapGcState('AfterCallWork', null, 'Meal', 'ON_QUEUE', ALL)).toEqual({
      presence: 'ON_QUEUE',
      routingStatus: 'INTERACTING',
    });
  });
});

describe('mapGcState: the mapped reason set', () => {
  it('with mappedReasons [Break], Break → BREAK', () => {
    expect(mapGcState('NotReady', null, 'Break', null, new Set(['Break']))).toEqual({
      presence: 'BREAK',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it('with mappedReasons [Break], Meal → BUSY', () => {
    expect(mapGcState('NotReady', null, 'Meal', null, new Set(['Break']))).toEqual({
      presence: 'BUSY',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it('with an empty mapped set every reason → BUSY', () => {
    expect(mapGcState('NotReady', null, 'Training', null, new Set())).toEqual({
      presence: 'BUSY',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it.each(['break', 'BREAK', ' Break', 'Break ', 'Meals'])('matching is exact: %j → BUSY', (reason) => {
    expect(mapGcState('NotReady', null, reason, null, ALL)).toEqual({
      presence: 'BUSY',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it('a name in the set that has no presence of its own (toString, Personal) → BUSY', () => {
    const set = new Set(['toString', 'Personal']);
    expect(mapGcState('NotReady', null, 'toString', null, set)).toEqual({
      presence: 'BUSY',
      routingStatus: 'OFF_QUEUE',
    });
    expect(mapGcState('NotReady', null, 'Personal', null, set)).toEqual({
      presence: 'BUSY',
      routingStatus: 'OFF_QUEUE',
    });
  });

  it('MAPPABLE_REASONS is exactly the four reasons with their presences', () => {
    expect(MAPPABLE_REASONS).toEqual({
      Break: 'BREAK',
      Meal: 'MEAL',
      Meeting: 'MEETING',
      Training: 'TRAINING',
    });
  });
});

describe('mapGcState: properties', () => {
  const presenceOrNull = fc.option(fc.constantFrom<Presence>(...PRESENCES), { nil: null });
  const callType = fc.option(fc.constantFrom<CallType>(...CALL_TYPES), { nil: null });
  const reason = fc.option(
    fc.oneof(fc.constantFrom('Break', 'Meal', 'Meeting', 'Training', 'Personal', '', 'break'), fc.string()),
    { nil: null },
  );
  const mapped = fc.subarray(['Break', 'Meal', 'Meeting', 'Training']).map((r) => new Set(r));

  it('presence is never AVAILABLE and both values are in their enumerations, for every input', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...AGENT_STATUSES),
        callType,
        reason,
        presenceOrNull,
        mapped,
        (status, call, r, before, set) => {
          const gc = mapGcState(status, call, r, before, set);
          expect(gc.presence).not.toBe('AVAILABLE');
          expect(PRESENCES).toContain(gc.presence);
          expect(ROUTING_STATUSES).toContain(gc.routingStatus);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('routing is OFF_QUEUE exactly when not on a call and not Ready/ACW', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...AGENT_STATUSES),
        callType,
        reason,
        presenceOrNull,
        mapped,
        (status, call, r, before, set) => {
          const gc = mapGcState(status, call, r, before, set);
          const expectedOffQueue = status === 'LoggedOff' || (status === 'NotReady' && call === null);
          expect(gc.routingStatus === 'OFF_QUEUE').toBe(expectedOffQueue);
        },
      ),
    );
  });
});
