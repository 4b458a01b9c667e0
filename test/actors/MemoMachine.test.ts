import { describe, expect, it } from 'vitest';
import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  createMachine,
  type InspectionEvent,
  setup,
} from 'xstate';
import {
  ADHERENCE_STATES,
  createAgentMachine,
  memoizeMoves,
  PRESENCE_STATES,
} from '../../src/actors/index.ts';
import { InternalError } from '../../src/errors.ts';

const PAIRS = PRESENCE_STATES.flatMap((p) => ADHERENCE_STATES.map((a) => [p, a] as const));

/** Every move event of the agent machine. */
const MOVES = [
  ...PRESENCE_STATES.map((p) => `presence.${p}`),
  ...ADHERENCE_STATES.map((a) => `adherence.${a}`),
  ...PAIRS.map(([p, a]) => `both.${p}.${a}`),
];

/**
 * What a snapshot says, as XState computes it: its state nodes as a set of ids (XState keeps them
 * in the order its last transition entered them, which differs between two snapshots in one
 * configuration; it reads them only as a set).
 */
function facts(s: AnyMachineSnapshot) {
  return {
    status: s.status,
    value: s.value,
    nodes: s._nodes.map((n) => n.id).sort(),
    tags: [...s.tags],
    children: s.children,
    historyValue: s.historyValue,
    output: s.output,
    error: s.error,
    keys: Object.keys(s),
  };
}

/** An agent actor of `machine` in `[presence, adherence]`, moved there by one `both` event. */
function actorIn(
  machine: AnyStateMachine,
  [p, a]: readonly [string, string],
  inspect?: (e: InspectionEvent) => void,
) {
  const actor = createActor(machine, { input: { agentId: 'A1' }, ...(inspect ? { inspect } : {}) }).start();
  if (p !== 'unknown' || a !== 'unknown') actor.send({ type: `both.${p}.${a}` });
  return actor;
}

describe('memoizeMoves', () => {
  it('the agent machine: from every configuration, every move event gives XState’s own snapshot (learnt and reused)', () => {
    // The plain statechart: createAgentMachine's config without the memo.
    const memo = createAgentMachine();
    const plain = createMachine(memo.config, memo.implementations);
    for (const round of ['learning', 'learnt']) {
      for (const from of PAIRS) {
        for (const type of MOVES) {
          const a = actorIn(plain, from);
          const b = actorIn(memo, from);
          const contextBefore = b.getSnapshot().context;
          a.send({ type });
          b.send({ type });
          const [sa, sb] = [a.getSnapshot(), b.getSnapshot()];
          expect(facts(sb), `${round}: ${from.join('/')} on ${type}`).toEqual(facts(sa));
          expect(sb.context).toBe(contextBefore);
          expect(JSON.stringify(memo.getPersistedSnapshot(sb))).toBe(
            JSON.stringify(plain.getPersistedSnapshot(sa)),
          );
        }
      }
    }
  });

  it('snapshots in one configuration share its frozen value, state nodes and tags', () => {
    const machine = createAgentMachine();
    const a = actorIn(machine, ['busy', 'inAdherence']);
    const b = actorIn(machine, ['meal', 'unscheduled']);
    a.send({ type: 'both.onQueue.outOfAdherence' });
    b.send({ type: 'both.onQueue.outOfAdherence' });
    const [sa, sb] = [a.getSnapshot(), b.getSnapshot()];
    expect(sb.value).toBe(sa.value);
    expect(sb._nodes).toBe(sa._nodes);
    expect(sb.tags).toBe(sa.tags);
    expect(sa.context).not.toBe(sb.context);
    expect(() => {
      (sa.value as Record<string, string>).presence = 'busy';
    }).toThrow(TypeError);
    expect(() => (sa._nodes as unknown[]).push(null)).toThrow(TypeError);
    expect(() => (sa.tags as Set<string>).add('x')).toThrow(InternalError);
    expect(sa.matches({ presence: 'onQueue' })).toBe(true);
    expect(sa.hasTag('x')).toBe(false);
  });

  it('an inspector sees the same events, snapshots and transitions as from XState’s own machine', () => {
    const memo = createAgentMachine();
    const plain = createMachine(memo.config, memo.implementations);
    const seen = (machine: AnyStateMachine) => {
      const events: unknown[] = [];
      const actor = actorIn(machine, ['unknown', 'unknown'], (e) => {
        if (e.type === '@xstate.actor') return events.push(e.type);
        if (e.type === '@xstate.microstep')
          return events.push([
            e.type,
            e.event.type,
            (e.snapshot as AnyMachineSnapshot).value,
            (e as { _transitions: { source: { id: string }; eventType: string }[] })._transitions.map((t) => [
              t.source.id,
              t.eventType,
            ]),
          ]);
        if (e.type === '@xstate.snapshot')
          return events.push([e.type, (e.snapshot as AnyMachineSnapshot).value]);
        if (e.type === '@xstate.event') return events.push([e.type, e.event.type]);
        return events.push(e.type);
      });
      // Each move twice: the second time from a learnt move.
      for (const type of ['both.onQueue.inAdherence', 'presence.busy', 'adherence.outOfAdherence'])
        for (const again of [type, 'both.onQueue.inAdherence', type]) actor.send({ type: again });
      return events;
    };
    const plainEvents = seen(plain);
    expect(seen(memo)).toEqual(plainEvents);
    expect(plainEvents.filter((e) => Array.isArray(e) && e[0] === '@xstate.microstep')).toHaveLength(9);
  });

  it('any other event goes to XState as is: guards and actions run as written', () => {
    const machine = memoizeMoves(
      setup({
        types: { context: {} as { n: number }, events: {} as { type: 'go' } | { type: 'count' } },
      }).createMachine({
        context: { n: 0 },
        initial: 'a',
        states: {
          a: {
            on: {
              go: 'b',
              count: { guard: ({ context }) => context.n < 2, actions: ({ context }) => context.n++ },
            },
          },
          b: { on: { go: 'a' } },
        },
      }),
      ['go'],
    );
    const actor = createActor(machine).start();
    for (const type of ['count', 'count', 'count', 'go', 'go', 'go'] as const) actor.send({ type });
    expect(actor.getSnapshot().value).toBe('b');
    expect(actor.getSnapshot().context.n).toBe(2);
  });

  it('refuses a machine whose memoized transitions could depend on more than where they start', () => {
    const cases: [string, AnyStateMachine][] = [
      [
        'entry actions',
        createMachine({ initial: 'a', states: { a: { entry: () => {}, on: { go: 'b' } }, b: {} } }),
      ],
      [
        'exit actions',
        createMachine({ initial: 'a', states: { a: { exit: () => {}, on: { go: 'b' } }, b: {} } }),
      ],
      ['eventless transitions', createMachine({ initial: 'a', states: { a: { always: 'b' }, b: {} } })],
      ['delayed transitions', createMachine({ initial: 'a', states: { a: { after: { 10: 'b' } }, b: {} } })],
      ['tags', createMachine({ initial: 'a', states: { a: { tags: ['t'], on: { go: 'b' } }, b: {} } })],
      [
        'invoked actors',
        createMachine({
          initial: 'a',
          states: { a: { invoke: { src: createMachine({}) }, on: { go: 'b' } }, b: {} },
        }),
      ],
      [
        'a history state',
        createMachine({ initial: 'a', states: { a: { on: { go: 'h' } }, h: { type: 'history' } } }),
      ],
      [
        'a final state',
        createMachine({ initial: 'a', states: { a: { on: { go: 'b' } }, b: { type: 'final' } } }),
      ],
      [
        'a guard on go',
        createMachine({
          initial: 'a',
          states: { a: { on: { go: { guard: () => true, target: 'b' } } }, b: {} },
        }),
      ],
      [
        'actions on go',
        createMachine({
          initial: 'a',
          states: { a: { on: { go: { actions: () => {}, target: 'b' } } }, b: {} },
        }),
      ],
    ];
    for (const [what, machine] of cases) {
      expect(() => memoizeMoves(machine, ['go']), what).toThrow(InternalError);
      expect(() => memoizeMoves(machine, ['go']), what).toThrow(what);
    }
    // Guards and actions on events it does not memoize are XState's own business.
    const guarded = createMachine({
      initial: 'a',
      states: { a: { on: { go: 'b', other: { guard: () => true, actions: () => {}, target: 'b' } } }, b: {} },
    });
    expect(() => memoizeMoves(guarded, ['go'])).not.toThrow();
  });
});
