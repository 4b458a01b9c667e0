import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { createElectionMachine, type ObservedLease, VACANT_LEASE } from '../../src/actors/index.ts';
import { FakeElectionServices } from '../helpers/fakeElectionServices.ts';
import { flush } from '../helpers/fakeSiteServices.ts';

// The real machine on xstate's SimulatedClock; the test settles every KV write by hand, so time
// passes only through clock.increment and nothing sleeps.

const RENEW = 250;
const PERMIT = 500;
const SILENCE = 750;
const RETRY = 50;
const MAX_SUSPECT = 3000;

function start(setup: (s: FakeElectionServices) => void = () => undefined, initial = VACANT_LEASE) {
  const services = new FakeElectionServices();
  setup(services);
  const clock = new SimulatedClock();
  const actor = createActor(createElectionMachine(), {
    input: {
      node: 'me',
      services,
      clock,
      renewEveryMs: RENEW,
      permitMs: PERMIT,
      silenceMs: SILENCE,
      retryMs: RETRY,
      maxSuspectMs: MAX_SUSPECT,
      initial,
    },
    clock,
  });
  actor.start();
  const observe = (lease: ObservedLease) => actor.send({ type: 'observed', lease });
  return {
    actor,
    clock,
    services,
    observe,
    value: () => actor.getSnapshot().value,
    context: () => actor.getSnapshot().context,
    advance: async (ms: number) => {
      clock.increment(ms);
      await flush();
    },
  };
}

const held = (revision: number, holder: string, epoch: number): ObservedLease => ({
  revision,
  holder,
  epoch,
  released: false,
});

/** An election that won epoch 1 at revision 10 at time 0. */
async function leader() {
  const e = start();
  await e.advance(0);
  const claim = e.services.take('claim');
  claim.resolve(10);
  await flush();
  expect(e.value()).toEqual({ leading: 'holding' });
  return e;
}

describe('election: claiming a lease', () => {
  it('claims a key never written at epoch 1 expecting revision 0, and promotes the site', async () => {
    const e = start();
    expect(e.value()).toBe('candidate');
    await e.advance(0);
    const claim = e.services.take('claim');
    expect(claim).toMatchObject({ epoch: 1, expected: 0 });
    claim.resolve(7);
    await flush();
    expect(e.value()).toEqual({ leading: 'holding' });
    expect(e.context()).toMatchObject({ epoch: 1, revision: 7, validUntil: PERMIT });
    expect(e.services.calls).toEqual([`promote 1 until ${PERMIT}`]);
  });

  it('follows a live holder and claims epoch + 1 only after silence on its own clock', async () => {
    const e = start(undefined, held(3, 'other', 4));
    expect(e.value()).toBe('following');
    await e.advance(SILENCE - 1);
    e.observe(held(4, 'other', 4)); // a renewal restarts the silence
    await e.advance(SILENCE - 1);
    expect(e.value()).toBe('following');
    expect(e.services.writes).toEqual([]);
    await e.advance(1);
    await e.advance(0);
    const claim = e.services.take('claim');
    expect(claim).toMatchObject({ epoch: 5, expected: 4 });
  });

  it('staggers by rank, and a replica that sees another win before its turn claims nothing', async () => {
    const e = start(
      (s) => {
        s.rank = 2;
      },
      held(3, 'dead', 1),
    );
    await e.advance(SILENCE);
    expect(e.value()).toBe('candidate');
    await e.advance(199);
    expect(e.services.writes).toEqual([]);
    e.observe(held(4, 'first', 2));
    expect(e.value()).toBe('following');
    await e.advance(SILENCE - 1);
    expect(e.services.writes).toEqual([]);
  });

  it('a released lease is claimed at once, with no silence wait', async () => {
    const e = start(undefined, held(3, 'other', 2));
    e.observe({ revision: 4, holder: 'other', epoch: 2, released: true, to: 'me' });
    await e.advance(0);
    expect(e.services.take('claim')).toMatchObject({ epoch: 3, expected: 4 });
  });

  it('a replica not caught up waits, checking again, and claims once it is', async () => {
    const e = start((s) => {
      s.isReady = false;
    });
    await e.advance(0);
    expect(e.value()).toEqual({ catchingUp: 'waiting' });
    await e.advance(RETRY * 3);
    expect(e.services.writes).toEqual([]);
    e.services.isReady = true;
    await e.advance(RETRY);
    expect(e.services.take('claim')).toMatchObject({ epoch: 1 });
    expect(e.services.calls).toEqual([]);
  });

  it('a replica that cannot lead for a whole lease of a free lease says so once per wait', async () => {
    const lease = SILENCE * 4;
    const e = start((s) => {
      s.isReady = false;
    });
    await e.advance(0);
    // Checked every RETRY meanwhile; said at one lease, not again while it goes on.
    for (let t = RETRY; t < lease; t += RETRY) await e.advance(RETRY);
    expect(e.services.calls).toEqual([]);
    await e.advance(RETRY);
    expect(e.services.calls).toEqual([`cannot lead for ${lease}`]);
    for (let t = 0; t < 2 * lease; t += RETRY) await e.advance(RETRY);
    expect(e.services.calls).toEqual([`cannot lead for ${lease}`]);
    // Another replica claims (heard), then its lease is released: a new wait, said again.
    e.observe(held(5, 'other', 1));
    await e.advance(0);
    expect(e.value()).toBe('following');
    e.observe({ revision: 6, holder: 'other', epoch: 1, released: true });
    for (let t = 0; t < lease + RETRY; t += RETRY) await e.advance(RETRY);
    expect(e.services.calls).toEqual([`cannot lead for ${lease}`, `cannot lead for ${lease}`]);
    expect(e.services.writes).toEqual([]);
  });

  it('a refused claim (another won the compare-and-set) leaves it following until it hears the winner', async () => {
    const e = start();
    await e.advance(0);
    e.services.take('claim').resolve(null);
    await flush();
    expect(e.value()).toBe('following');
    await e.advance(SILENCE - 1);
    expect(e.services.writes).toEqual([]);
    e.observe(held(1, 'other', 1));
    expect(e.value()).toBe('following');
    expect(e.services.calls).toEqual([]);
  });

  it('its own echo arriving before the claim answer does not change the epoch it won', async () => {
    const e = start();
    await e.advance(0);
    const claim = e.services.take('claim');
    e.observe(held(9, 'me', 1));
    claim.resolve(9);
    await flush();
    expect(e.context()).toMatchObject({ epoch: 1, revision: 9 });
  });
});

describe('election: a silent holder that is alive (busy)', () => {
  it('is not taken over while its process is alive; once it is not, the lease is claimed', async () => {
    const e = start((s) => s.aliveHolders.add('busy'), held(3, 'busy', 1));
    await e.advance(SILENCE);
    expect(e.value()).toBe('suspecting');
    await e.advance(RETRY * 5);
    expect(e.services.writes).toEqual([]);
    e.services.aliveHolders.delete('busy');
    await e.advance(RETRY);
    await e.advance(0);
    expect(e.services.take('claim')).toMatchObject({ epoch: 2, expected: 3 });
  });

  it('is waited for only up to maxSuspectMs: a lane that cannot lead on a live node is claimed', async () => {
    const e = start((s) => s.aliveHolders.add('stuck'), held(3, 'stuck', 1));
    await e.advance(SILENCE);
    expect(e.value()).toBe('suspecting');
    await e.advance(MAX_SUSPECT - RETRY);
    expect(e.value()).toBe('suspecting');
    expect(e.services.writes).toEqual([]);
    await e.advance(RETRY);
    await e.advance(0);
    expect(e.services.take('claim')).toMatchObject({ epoch: 2, expected: 3 });
  });

  it('each renewal heard starts the wait for a live holder anew', async () => {
    const e = start((s) => s.aliveHolders.add('busy'), held(3, 'busy', 1));
    await e.advance(SILENCE);
    await e.advance(MAX_SUSPECT - RETRY * 2);
    e.observe(held(4, 'busy', 1)); // it renewed: busy, not stuck
    expect(e.value()).toBe('following');
    await e.advance(SILENCE);
    await e.advance(MAX_SUSPECT - RETRY);
    expect(e.value()).toBe('suspecting');
    expect(e.services.writes).toEqual([]);
  });

  it('a holder re-claiming its own lease at new epochs, renewing none, is waited for only maxSuspectMs', async () => {
    // A node whose answers come back after its permit ran out wins claims it cannot use, again
    // and again: each is a new value but no renewal, so the wait keeps counting through them (the
    // model check in leaseRules.test.ts found the site leaderless for as long as that lasted).
    const e = start((s) => s.aliveHolders.add('slow'), held(3, 'slow', 1));
    await e.advance(SILENCE);
    expect(e.value()).toBe('suspecting');
    for (let i = 0; i < 5; i++) {
      await e.advance(MAX_SUSPECT / 5);
      e.observe(held(4 + i, 'slow', 2 + i));
      expect(e.value()).toBe('following');
    }
    expect(e.services.writes).toEqual([]);
    // Claimed only after a silence since its last claim, as always: its permit has run out.
    await e.advance(SILENCE);
    expect(e.value()).toBe('suspecting');
    await e.advance(RETRY);
    await e.advance(0);
    expect(e.services.take('claim')).toMatchObject({ epoch: 7, expected: 8 });
  });

  it('a renewal heard while suspecting makes it follow again', async () => {
    const e = start((s) => s.aliveHolders.add('busy'), held(3, 'busy', 1));
    await e.advance(SILENCE);
    e.observe(held(4, 'busy', 1));
    expect(e.value()).toBe('following');
  });
});

describe('election: holding a lease', () => {
  it('renews every tick on its own revision and extends the permit from when it sent', async () => {
    const e = await leader();
    await e.advance(RENEW);
    const renew = e.services.take('renew');
    expect(renew).toMatchObject({ epoch: 1, expected: 10 });
    await e.advance(20);
    renew.resolve(11);
    await flush();
    expect(e.context()).toMatchObject({ revision: 11, validUntil: RENEW + PERMIT });
    expect(e.services.calls.at(-1)).toBe(`renewed until ${RENEW + PERMIT}`);
  });

  it('demotes when its permit runs out with renewals unanswered (cut off from NATS)', async () => {
    const e = await leader();
    await e.advance(RENEW);
    e.services.take('renew').resolve(11); // sent at 250: the permit lasts to 750
    await flush();
    await e.advance(RENEW); // t = 500
    e.services.take('renew').reject(new Error('timeout'));
    await flush();
    await e.advance(RENEW - 1); // t = 749: still writing, the retry due at the next tick
    expect(e.value()).toEqual({ leading: 'holding' });
    expect(e.services.calls.at(-1)).toBe(`renewed until ${RENEW + PERMIT}`);
    await e.advance(1); // t = 750 = the permit
    // Its own lease, out of permit: it claims it again (epoch 2) by compare-and-set, at once.
    expect(e.value()).toBe('candidate');
    expect(e.services.calls.at(-1)).toBe('demote lost');
    await e.advance(0);
    // (A renewal started at the same tick is abandoned with its state.)
    expect(e.services.writes.find((w) => w.kind === 'claim')).toMatchObject({ epoch: 2, expected: 11 });
  });

  it('re-taking its own lease straight after it promotes resuming from the epoch it held; after another holder, not', async () => {
    const e = await leader();
    await e.advance(PERMIT); // no renewal answered: the permit ran out
    expect(e.services.calls.at(-1)).toBe('demote lost');
    await e.advance(0);
    const again = e.services.writes.find((w) => w.kind === 'claim')!;
    expect(again).toMatchObject({ epoch: 2, expected: 10 });
    e.services.writes.length = 0;
    again.resolve(20);
    await flush();
    expect(e.services.calls.at(-1)).toBe(`promote 2 until ${2 * PERMIT} resuming 1`);
    // Lost again; meanwhile another node led (epoch 3): its claim names that lease, no resume.
    await e.advance(PERMIT);
    e.observe(held(21, 'other', 3));
    await e.advance(SILENCE);
    await e.advance(0);
    const third = e.services.writes.find((w) => w.kind === 'claim')!;
    expect(third).toMatchObject({ epoch: 4, expected: 21 });
    third.resolve(22);
    await flush();
    expect(e.services.calls.at(-1)).toBe(`promote 4 until ${3 * PERMIT + SILENCE}`);
  });

  it('demotes when a renewal is refused: another holds the lease', async () => {
    const e = await leader();
    await e.advance(RENEW);
    e.services.take('renew').resolve(null);
    await flush();
    expect(e.value()).toBe('following');
    expect(e.services.calls.at(-1)).toBe('demote superseded');
  });

  it('demotes at once when it sees a later epoch, and ignores its own renewals', async () => {
    const e = await leader();
    e.observe(held(10, 'me', 1));
    expect(e.value()).toEqual({ leading: 'holding' });
    e.observe(held(12, 'other', 2));
    expect(e.value()).toBe('following');
    expect(e.services.calls.at(-1)).toBe('demote superseded');
  });

  it('a fenced write demotes it', async () => {
    const e = await leader();
    e.actor.send({ type: 'fenced' });
    expect(e.value()).toBe('candidate');
    expect(e.services.calls.at(-1)).toBe('demote fenced');
  });

  it('release: stops the site writing, writes the released lease on its revision, then follows', async () => {
    const e = await leader();
    e.actor.send({ type: 'release' });
    const release = e.services.take('release');
    expect(release).toMatchObject({ epoch: 1, expected: 10 });
    release.resolve(11);
    await flush();
    // Released: vacant, but it waits its (long) turn, giving the lease to the others first.
    expect(e.value()).toBe('candidate');
    expect(e.context().observed).toEqual({ revision: 11, holder: 'me', epoch: 1, released: true });
  });

  it('stop while leading hands over first, then stops', async () => {
    const e = await leader();
    e.actor.send({ type: 'stop' });
    expect(e.value()).toBe('releasing');
    e.services.take('release').resolve(11);
    await flush();
    expect(e.actor.getSnapshot().status).toBe('done');
  });

  it('stop while following stops at once, writing nothing', async () => {
    const e = start(undefined, held(3, 'other', 1));
    e.actor.send({ type: 'stop' });
    expect(e.actor.getSnapshot().status).toBe('done');
    expect(e.services.writes).toEqual([]);
  });
});
