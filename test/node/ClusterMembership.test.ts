import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createLogger } from '../../src/logging/index.ts';
import { ClusterMembership } from '../../src/node/ClusterMembership.ts';
import type { NodeAnnouncement, NodeRegistry } from '../../src/streams/index.ts';

// Membership and liveness as judged on this node's clock (xstate's SimulatedClock), from
// announcements a fake registry delivers by hand.

function membership() {
  const clock = new SimulatedClock();
  let deliver: (a: NodeAnnouncement) => void = () => undefined;
  const registry = {
    watch: async (cb: (a: NodeAnnouncement) => void) => {
      deliver = cb;
      return () => undefined;
    },
  } as unknown as NodeRegistry;
  const changes: string[][] = [];
  const m = new ClusterMembership({
    node: 'me',
    registry,
    clock,
    logger: createLogger({ level: 'silent' }),
    announceEveryMs: 250,
    timeoutMs: 3000,
    onChange: (nodes) => changes.push([...nodes]),
  });
  const hear = (node: string, stalledMs = 0, leaving = false) => deliver({ node, leaving, stalledMs });
  return { m, clock, hear, changes };
}

describe('ClusterMembership', () => {
  it('counts a node live while heard within the timeout, out after it, and out at once when leaving', async () => {
    const { m, clock, hear, changes } = membership();
    const started = m.start();
    await Promise.resolve();
    hear('b');
    clock.increment(500);
    await started;
    expect(m.nodes).toEqual(['b', 'me']);
    clock.increment(2750); // 3250 after b was heard
    expect(m.nodes).toEqual(['me']);
    hear('c');
    expect(m.nodes).toEqual(['c', 'me']);
    hear('c', 0, true);
    expect(m.nodes).toEqual(['me']);
    expect(changes).toEqual([['b', 'me'], ['me'], ['c', 'me'], ['me']]);
    m.stop();
  });

  it('alive: a process heard within the window whose main thread stalled less than the bound', async () => {
    const { m, clock, hear } = membership();
    void m.start();
    await Promise.resolve();
    hear('busy', 1200); // its main thread silent 1.2 s: a long checkpoint, an interval close
    expect(m.alive('busy', 750, 9000)).toBe(true);
    clock.increment(749);
    expect(m.alive('busy', 750, 9000)).toBe(true);
    clock.increment(1); // its beacon silent 750 ms: the process is gone (or paused)
    expect(m.alive('busy', 750, 9000)).toBe(false);
    hear('stuck', 8900);
    clock.increment(100); // 8.9 s stalled when sent, 100 ms ago: the bound is reached
    expect(m.alive('stuck', 750, 9000)).toBe(false);
    expect(m.alive('never-heard', 750, 9000)).toBe(false);
    expect(m.alive('me', 750, 9000)).toBe(true);
    m.stop();
  });
});
