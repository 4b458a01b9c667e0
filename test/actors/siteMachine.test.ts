import { describe, expect, it } from 'vitest';
import { type AnyStateNode, createActor, SimulatedClock } from 'xstate';
import { createSiteMachine, type SiteMachineInput } from '../../src/actors/siteMachine.ts';
import { CheckpointError, PublishError } from '../../src/errors.ts';
import { type AsyncService, FakeSiteServices, flush } from '../helpers/fakeSiteServices.ts';

// Every test runs the real machine on xstate's SimulatedClock with services whose promises the
// test settles by hand: time passes only through clock.increment, and `flush` only lets settled
// promises' reactions run. Nothing sleeps.

const CHECKPOINT_EVERY = 1000;
const RETRY = 100;
const MAX_RETRY = 350; // 100, 200, then 350 where doubling would give 400

const PRIMARY_IDLE = { running: { role: 'primary', checkpoints: 'idle' } };
const PRIMARY_FLUSHING = { running: { role: 'primary', checkpoints: 'flushing' } };
const BACKUP_IDLE = { running: { role: 'backup', checkpoints: 'idle' } };

type Settings = Partial<Omit<SiteMachineInput, 'services'>>;

/** A started site actor (restore called, pending) on a simulated clock. */
function startSite(settings: Settings = {}) {
  const services = new FakeSiteServices();
  const clock = new SimulatedClock();
  const actor = createActor(createSiteMachine(), {
    input: {
      site: 'S1',
      role: 'primary',
      checkpointEveryMs: CHECKPOINT_EVERY,
      retryDelayMs: RETRY,
      maxRetryDelayMs: MAX_RETRY,
      ...settings,
      services,
    },
    clock,
  });
  actor.start();
  return {
    actor,
    clock,
    services,
    value: () => actor.getSnapshot().value,
    context: () => actor.getSnapshot().context,
    status: () => actor.getSnapshot().status,
    /** Lets `ms` of simulated time pass, then the reactions of what that settled. */
    advance: async (ms: number) => {
      clock.increment(ms);
      await flush();
    },
  };
}

type Site = ReturnType<typeof startSite>;

/** A site that restored and runs; the calls up to there are taken. */
async function runningSite(settings: Settings = {}): Promise<Site> {
  const site = startSite(settings);
  site.services.resolve('restore');
  await flush();
  expect(site.value()).toMatchObject({ running: {} });
  site.services.takeCalls();
  return site;
}

/** Settles `service` and lets the machine react. */
async function resolve(site: Site, service: AsyncService): Promise<void> {
  site.services.resolve(service);
  await flush();
}

async function reject(site: Site, service: AsyncService, error: unknown): Promise<void> {
  site.services.reject(service, error);
  await flush();
}

/** Time passes up to 1 ms short of `ms`: nothing may be called; then the last ms. */
async function expectNothingUntil(site: Site, ms: number): Promise<void> {
  await site.advance(ms - 1);
  expect(site.services.takeCalls()).toEqual([]);
  await site.advance(1);
}

/**
 * The statechart as the visualizer draws it: every transition as `source --event--> target`
 * (ids relative to the machine, `[guard]` where one decides), xstate's generated event names
 * shortened to `done` / `error` (of the state's invoked service) and `after <delay>`.
 */
function edges(node: AnyStateNode): string[] {
  const name = (n: AnyStateNode) => (n.id === 'site' ? '(site)' : n.id.replace(/^site\./, ''));
  const event = (type: string) =>
    type
      .replace(/^xstate\.done\.actor\..*/, 'done')
      .replace(/^xstate\.error\.actor\..*/, 'error')
      .replace(/^xstate\.after\.([^.]+)\..*/, 'after $1');
  const out: string[] = [];
  for (const [type, transitions] of node.transitions) {
    for (const t of transitions) {
      const guard = t.guard === undefined ? '' : ` [${typeof t.guard === 'string' ? t.guard : 'guard'}]`;
      const targets = (t.target ?? []).map(name).join(',') || '(stays)';
      out.push(`${name(node)} --${event(type)}${guard}--> ${targets}`);
    }
  }
  for (const t of node.always ?? []) {
    const guard = t.guard === undefined ? '' : ` [${typeof t.guard === 'string' ? t.guard : 'guard'}]`;
    out.push(`${name(node)} --always${guard}--> ${(t.target ?? []).map(name).join(',')}`);
  }
  for (const child of Object.values(node.states)) out.push(...edges(child));
  return out;
}

describe('site machine: shape (what the visualizer draws)', () => {
  const machine = createSiteMachine();

  it('has the lifecycle states restoring, waiting, running, restarting, rebuilding, stopping and a final stopped', () => {
    const top = Object.entries(machine.root.states).map(([key, node]) => [key, node.type]);
    expect(top).toEqual([
      ['restoring', 'atomic'],
      ['waiting', 'atomic'],
      ['running', 'parallel'],
      ['restarting', 'atomic'],
      ['rebuilding', 'atomic'],
      ['stopping', 'atomic'],
      ['stopped', 'final'],
    ]);
    expect(machine.root.initial.target.map((n) => n.key)).toEqual(['restoring']);
  });

  it('runs two regions in parallel: the role (primary | backup) and the checkpoints (idle | flushing)', () => {
    const running = machine.root.states.running!;
    const regions = Object.fromEntries(
      Object.entries(running.states).map(([key, node]) => [key, Object.keys(node.states)]),
    );
    expect(regions).toEqual({
      role: ['choosing', 'primary', 'backup', 'promoting'],
      checkpoints: ['idle', 'flushing'],
    });
  });

  it('has exactly these transitions', () => {
    expect(edges(machine.root)).toEqual([
      '(site) --promote--> (stays)',
      '(site) --demote--> (stays)',
      '(site) --stop--> stopping',
      // Remembered while a restore runs, which then ends in a rebuild.
      'restoring --restart--> (stays)',
      'restoring --fail--> (stays)',
      'restoring --done [isStale]--> rebuilding',
      'restoring --done--> running',
      'restoring --error--> waiting',
      'waiting --after retryDelay--> restoring',
      'running --fail--> rebuilding',
      'running --restart--> restarting',
      'running.role.choosing --always [isPrimary]--> running.role.primary',
      'running.role.choosing --always--> running.role.backup',
      'running.role.primary --demote--> running.role.backup',
      'running.role.backup --promote--> running.role.promoting',
      'running.role.promoting --demote--> running.role.backup',
      'running.role.promoting --done--> running.role.primary',
      'running.role.promoting --error--> rebuilding',
      'running.checkpoints.idle --checkpoint--> running.checkpoints.flushing',
      'running.checkpoints.idle --after checkpointEvery--> running.checkpoints.flushing',
      'running.checkpoints.flushing --done--> running.checkpoints.idle',
      'running.checkpoints.flushing --error [publishFailed]--> rebuilding',
      'running.checkpoints.flushing --error--> running.checkpoints.idle',
      'restarting --done--> rebuilding',
      'restarting --error--> rebuilding',
      'rebuilding --done [hasFailed]--> waiting',
      'rebuilding --done--> restoring',
      'rebuilding --error--> waiting',
      'stopping --stop--> (stays)',
      'stopping --done--> stopped',
      'stopping --error--> stopped',
    ]);
  });
});

describe('site machine: start', () => {
  it('restores once, then takes input and applies its role: primary', async () => {
    const site = startSite();
    expect(site.value()).toBe('restoring');
    expect(site.services.takeCalls()).toEqual(['restore']);
    await site.advance(10 * CHECKPOINT_EVERY); // restoring takes as long as it takes
    expect(site.services.takeCalls()).toEqual([]);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
    expect(site.context()).toMatchObject({ site: 'S1', role: 'primary', failures: 0, lastError: null });
    expect(site.status()).toBe('active');
  });

  it('starts as a backup when its input says so', async () => {
    const site = startSite({ role: 'backup' });
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['restore', 'accept(true)', 'setRole(backup)']);
    expect(site.value()).toEqual(BACKUP_IDLE);
  });
});

describe('site machine: checkpoints', () => {
  it('checkpoints every checkpointEveryMs of its clock, not before, counted from the end of the last one', async () => {
    const site = await runningSite();
    await expectNothingUntil(site, CHECKPOINT_EVERY);
    expect(site.services.takeCalls()).toEqual(['checkpoint']);
    expect(site.value()).toEqual(PRIMARY_FLUSHING);
    // A slow checkpoint: no second one starts while it runs.
    await site.advance(5 * CHECKPOINT_EVERY);
    expect(site.services.takeCalls()).toEqual([]);
    await resolve(site, 'checkpoint');
    expect(site.value()).toEqual(PRIMARY_IDLE);
    await expectNothingUntil(site, CHECKPOINT_EVERY);
    expect(site.services.takeCalls()).toEqual(['checkpoint']);
    await resolve(site, 'checkpoint');
    expect(site.services.takeCalls()).toEqual([]);
  });

  it("checkpoints at once on a 'checkpoint' event, ignores one while flushing, and restarts the cadence", async () => {
    const site = await runningSite();
    await site.advance(CHECKPOINT_EVERY - 1);
    site.actor.send({ type: 'checkpoint' });
    expect(site.services.takeCalls()).toEqual(['checkpoint']);
    expect(site.value()).toEqual(PRIMARY_FLUSHING);
    site.actor.send({ type: 'checkpoint' });
    await site.advance(1); // the old cadence's timer went with `idle`
    expect(site.services.takeCalls()).toEqual([]);
    await resolve(site, 'checkpoint');
    await expectNothingUntil(site, CHECKPOINT_EVERY);
    expect(site.services.takeCalls()).toEqual(['checkpoint']);
  });

  it('checkpoints as a backup too', async () => {
    const site = await runningSite({ role: 'backup' });
    await expectNothingUntil(site, CHECKPOINT_EVERY);
    expect(site.services.takeCalls()).toEqual(['checkpoint']);
    expect(site.value()).toEqual({ running: { role: 'backup', checkpoints: 'flushing' } });
  });

  it('a commit failure (CheckpointError) is reported and counted; the site keeps running; a good checkpoint resets the count', async () => {
    const site = await runningSite();
    const first = new CheckpointError('disk full');
    site.actor.send({ type: 'checkpoint' });
    await reject(site, 'checkpoint', first);
    expect(site.services.takeCalls()).toEqual(['checkpoint', 'failed(checkpoint)']);
    expect(site.services.errors).toEqual([{ stage: 'checkpoint', error: first }]);
    expect(site.services.errors[0]!.error).toBe(first);
    expect(site.value()).toEqual(PRIMARY_IDLE);
    expect(site.context()).toMatchObject({ failures: 1, lastError: 'disk full' });

    // The next try comes at the normal cadence (no backoff, no rebuild).
    await expectNothingUntil(site, CHECKPOINT_EVERY);
    await reject(site, 'checkpoint', new Error('I/O error'));
    expect(site.services.takeCalls()).toEqual(['checkpoint', 'failed(checkpoint)']);
    expect(site.context()).toMatchObject({ failures: 2, lastError: 'I/O error' });
    expect(site.value()).toEqual(PRIMARY_IDLE);

    await expectNothingUntil(site, CHECKPOINT_EVERY);
    await resolve(site, 'checkpoint');
    expect(site.services.takeCalls()).toEqual(['checkpoint']);
    expect(site.context()).toMatchObject({ failures: 0, lastError: null });
    expect(site.value()).toEqual(PRIMARY_IDLE);
  });

  it('a publish failure (PublishError) stops input, tears down, waits retryDelayMs and restores', async () => {
    const site = await runningSite();
    const error = new PublishError('no ack for wfm.gc.T.S1.A1');
    await site.advance(CHECKPOINT_EVERY);
    await reject(site, 'checkpoint', error);
    // Leaving `running` turns input off first (its exit), then the failure is reported.
    expect(site.services.takeCalls()).toEqual([
      'checkpoint',
      'accept(false)',
      'failed(checkpoint)',
      'teardown',
    ]);
    expect(site.services.errors).toEqual([{ stage: 'checkpoint', error }]);
    expect(site.value()).toBe('rebuilding');
    expect(site.context()).toMatchObject({ failures: 1, lastError: 'no ack for wfm.gc.T.S1.A1' });
    await resolve(site, 'teardown');
    expect(site.value()).toBe('waiting');
    await expectNothingUntil(site, RETRY);
    expect(site.services.takeCalls()).toEqual(['restore']);
    expect(site.value()).toBe('restoring');
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
  });

  it('publish failures in a row wait twice as long each time, up to maxRetryDelayMs; a good checkpoint resets it', async () => {
    const site = await runningSite();
    const failOnce = async (expectedWait: number) => {
      site.actor.send({ type: 'checkpoint' });
      await reject(site, 'checkpoint', new PublishError('lost'));
      await resolve(site, 'teardown');
      expect(site.services.takeCalls()).toEqual([
        'checkpoint',
        'accept(false)',
        'failed(checkpoint)',
        'teardown',
      ]);
      await expectNothingUntil(site, expectedWait);
      expect(site.services.takeCalls()).toEqual(['restore']);
      await resolve(site, 'restore');
      expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
    };
    await failOnce(RETRY);
    await failOnce(2 * RETRY);
    await failOnce(MAX_RETRY); // 4 × RETRY would be 400
    await failOnce(MAX_RETRY);
    expect(site.context().failures).toBe(4);
    // A restore alone does not make the site healthy; a checkpoint that lands does.
    site.actor.send({ type: 'checkpoint' });
    await resolve(site, 'checkpoint');
    expect(site.context()).toMatchObject({ failures: 0, lastError: null });
    site.services.takeCalls();
    await failOnce(RETRY);
  });
});

describe('site machine: restore failures', () => {
  it('a failed restore is reported, waits with backoff and restores again', async () => {
    const site = startSite();
    const first = new CheckpointError('checkpoint unreadable');
    await reject(site, 'restore', first);
    expect(site.services.takeCalls()).toEqual(['restore', 'failed(restore)']);
    expect(site.services.errors).toEqual([{ stage: 'restore', error: first }]);
    expect(site.value()).toBe('waiting');
    expect(site.context()).toMatchObject({ failures: 1, lastError: 'checkpoint unreadable' });

    await expectNothingUntil(site, RETRY);
    expect(site.services.takeCalls()).toEqual(['restore']);
    await reject(site, 'restore', new Error('nats down'));
    expect(site.services.takeCalls()).toEqual(['failed(restore)']);
    expect(site.context().failures).toBe(2);
    await expectNothingUntil(site, 2 * RETRY);
    expect(site.services.takeCalls()).toEqual(['restore']);
    await reject(site, 'restore', new Error('nats down'));
    expect(site.services.takeCalls()).toEqual(['failed(restore)']);
    await expectNothingUntil(site, MAX_RETRY); // 4 × RETRY would be 400
    expect(site.services.takeCalls()).toEqual(['restore']);

    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
    expect(site.context()).toMatchObject({ failures: 3, lastError: 'nats down' });
  });
});

describe('site machine: fail and restart', () => {
  it("a 'fail' event while running rebuilds: input off, teardown, wait, restore", async () => {
    const site = await runningSite();
    const error = new PublishError('publishing connection closed');
    site.actor.send({ type: 'fail', error });
    expect(site.services.takeCalls()).toEqual(['accept(false)', 'failed(run)', 'teardown']);
    expect(site.services.errors).toEqual([{ stage: 'run', error }]);
    expect(site.value()).toBe('rebuilding');
    await resolve(site, 'teardown');
    expect(site.value()).toBe('waiting');
    await expectNothingUntil(site, RETRY);
    expect(site.services.takeCalls()).toEqual(['restore']);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
  });

  it("a 'fail' event while flushing rebuilds too; the abandoned checkpoint's result is ignored", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'checkpoint' });
    site.actor.send({ type: 'fail', error: new PublishError('lost') });
    expect(site.services.takeCalls()).toEqual(['checkpoint', 'accept(false)', 'failed(run)', 'teardown']);
    await resolve(site, 'checkpoint');
    expect(site.value()).toBe('rebuilding');
    expect(site.context().failures).toBe(1); // not reset by the checkpoint of the site's old life
    expect(site.services.takeCalls()).toEqual([]);
  });

  it("'restart' stops input, checkpoints, tears down and restores at once (no failure, no backoff)", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'restart' });
    expect(site.services.takeCalls()).toEqual(['accept(false)', 'checkpoint']);
    expect(site.value()).toBe('restarting');
    await site.advance(10 * CHECKPOINT_EVERY); // no cadence and no backoff while restarting
    expect(site.services.takeCalls()).toEqual([]);
    await resolve(site, 'checkpoint');
    expect(site.services.takeCalls()).toEqual(['teardown']);
    expect(site.value()).toBe('rebuilding');
    await resolve(site, 'teardown');
    expect(site.services.takeCalls()).toEqual(['restore']);
    expect(site.value()).toBe('restoring');
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
    expect(site.services.errors).toEqual([]);
    expect(site.context().failures).toBe(0);
  });

  it("'restart' while flushing abandons that checkpoint and takes its own", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'checkpoint' });
    site.actor.send({ type: 'restart' });
    expect(site.services.takeCalls()).toEqual(['checkpoint', 'accept(false)', 'checkpoint']);
    await reject(site, 'checkpoint', new PublishError('lost')); // the abandoned one
    expect(site.value()).toBe('restarting');
    expect(site.services.takeCalls()).toEqual([]);
    await resolve(site, 'checkpoint');
    expect(site.services.takeCalls()).toEqual(['teardown']);
  });

  it("a failed checkpoint of 'restart' is reported, and the restart goes on from the previous checkpoint", async () => {
    const site = await runningSite();
    const error = new CheckpointError('disk full');
    site.actor.send({ type: 'restart' });
    await reject(site, 'checkpoint', error);
    expect(site.services.takeCalls()).toEqual([
      'accept(false)',
      'checkpoint',
      'failed(checkpoint)',
      'teardown',
    ]);
    expect(site.services.errors).toEqual([{ stage: 'checkpoint', error }]);
    expect(site.context().failures).toBe(0);
    await resolve(site, 'teardown');
    expect(site.services.takeCalls()).toEqual(['restore']);
  });

  it("'restart' while restoring: the restore under way ends, then the site rebuilds under the new settings", async () => {
    // The restore may already have made the site's processor from the old settings: it cannot be
    // stopped halfway, so the site lets it end, tears it down and restores again, never running
    // on what it restored first.
    const site = startSite();
    site.actor.send({ type: 'restart' });
    expect(site.value()).toBe('restoring');
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['restore', 'teardown']);
    expect(site.value()).toBe('rebuilding');
    await resolve(site, 'teardown');
    expect(site.services.takeCalls()).toEqual(['restore']);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
    expect(site.services.errors).toEqual([]);
  });

  it("'fail' while restoring (e.g. the publishing connection): reported, then the site rebuilds once the restore ends", async () => {
    const site = startSite();
    const error = new PublishError('publishing connection closed');
    site.actor.send({ type: 'fail', error });
    expect(site.services.takeCalls()).toEqual(['restore', 'failed(run)']);
    expect(site.services.errors).toEqual([{ stage: 'run', error }]);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['teardown']);
    await resolve(site, 'teardown');
    expect(site.services.takeCalls()).toEqual(['restore']);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
  });

  it("a 'restart' while restoring is forgotten when that restore fails (the next one reads the new settings)", async () => {
    const site = startSite();
    site.actor.send({ type: 'restart' });
    await reject(site, 'restore', new Error('nats down'));
    expect(site.services.takeCalls()).toEqual(['restore', 'failed(restore)']);
    await expectNothingUntil(site, RETRY);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['restore', 'accept(true)', 'setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
  });

  it("'restart' or 'fail' while waiting changes nothing: the next restore reads the new settings", async () => {
    const site = startSite();
    await reject(site, 'restore', new Error('nats down'));
    site.actor.send({ type: 'restart' });
    site.actor.send({ type: 'fail', error: new Error('again') });
    expect(site.services.takeCalls()).toEqual(['restore', 'failed(restore)']);
    expect(site.value()).toBe('waiting');
    await expectNothingUntil(site, RETRY);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['restore', 'accept(true)', 'setRole(primary)']);
  });

  it("'restart' after failures not yet healed by a checkpoint waits the backoff", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'checkpoint' });
    await reject(site, 'checkpoint', new CheckpointError('disk full'));
    site.services.takeCalls();
    site.actor.send({ type: 'restart' });
    await reject(site, 'checkpoint', new CheckpointError('disk still full'));
    await resolve(site, 'teardown');
    expect(site.services.takeCalls()).toEqual([
      'accept(false)',
      'checkpoint',
      'failed(checkpoint)',
      'teardown',
    ]);
    expect(site.value()).toBe('waiting');
    await expectNothingUntil(site, RETRY);
    expect(site.services.takeCalls()).toEqual(['restore']);
  });

  it('a failed teardown waits retryDelayMs before restoring', async () => {
    const site = await runningSite();
    site.actor.send({ type: 'restart' });
    await resolve(site, 'checkpoint');
    await reject(site, 'teardown', new Error('stop failed'));
    expect(site.services.takeCalls()).toEqual(['accept(false)', 'checkpoint', 'teardown']);
    expect(site.value()).toBe('waiting');
    await expectNothingUntil(site, RETRY);
    expect(site.services.takeCalls()).toEqual(['restore']);
  });
});

describe('site machine: role', () => {
  it("'demote' while primary: setRole(backup) only, no rebuild, input keeps flowing", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'demote' });
    expect(site.services.takeCalls()).toEqual(['setRole(backup)']);
    expect(site.value()).toEqual(BACKUP_IDLE);
    expect(site.context().role).toBe('backup');
    site.actor.send({ type: 'demote' });
    expect(site.services.takeCalls()).toEqual([]);
  });

  it("'demote' while flushing keeps the checkpoint going", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'checkpoint' });
    site.actor.send({ type: 'demote' });
    expect(site.value()).toEqual({ running: { role: 'backup', checkpoints: 'flushing' } });
    await resolve(site, 'checkpoint');
    expect(site.services.takeCalls()).toEqual(['checkpoint', 'setRole(backup)']);
    expect(site.value()).toEqual(BACKUP_IDLE);
  });

  it("'promote' while primary changes nothing", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'promote' });
    expect(site.services.takeCalls()).toEqual([]);
    expect(site.value()).toEqual(PRIMARY_IDLE);
  });

  it("'promote' while backup takes over hot: no rebuild, input keeps flowing, then writes", async () => {
    const site = await runningSite({ role: 'backup' });
    site.actor.send({ type: 'promote' });
    expect(site.services.takeCalls()).toEqual(['takeOver']);
    expect(site.value()).toEqual({ running: { role: 'promoting', checkpoints: 'idle' } });
    await resolve(site, 'takeOver');
    expect(site.services.takeCalls()).toEqual(['setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
  });

  it("'demote' during a hot takeover goes back to backup without writing", async () => {
    const site = await runningSite({ role: 'backup' });
    site.actor.send({ type: 'promote' });
    site.actor.send({ type: 'demote' });
    expect(site.services.takeCalls()).toEqual(['takeOver', 'setRole(backup)']);
    expect(site.value()).toEqual(BACKUP_IDLE);
  });

  it('a hot takeover that cannot be exact rebuilds (no backoff) and runs as primary', async () => {
    const site = await runningSite({ role: 'backup' });
    site.actor.send({ type: 'promote' });
    await reject(site, 'takeOver', new Error('the outbox overflowed since the last mark'));
    expect(site.services.takeCalls()).toEqual(['takeOver', 'accept(false)', 'failed(takeover)', 'teardown']);
    expect(site.value()).toBe('rebuilding');
    expect(site.context().role).toBe('primary');
    await resolve(site, 'teardown');
    expect(site.services.takeCalls()).toEqual(['restore']);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual(['accept(true)', 'setRole(primary)']);
    expect(site.value()).toEqual(PRIMARY_IDLE);
  });

  it('promote / demote while restoring are remembered and applied when running', async () => {
    const demoted = startSite({ role: 'primary' });
    demoted.actor.send({ type: 'demote' });
    expect(demoted.value()).toBe('restoring');
    await resolve(demoted, 'restore');
    expect(demoted.services.takeCalls()).toEqual(['restore', 'accept(true)', 'setRole(backup)']);
    expect(demoted.value()).toEqual(BACKUP_IDLE);

    const promoted = startSite({ role: 'backup' });
    promoted.actor.send({ type: 'promote' });
    await resolve(promoted, 'restore');
    // Not yet running, nothing to rebuild: it restores once and runs as primary.
    expect(promoted.services.takeCalls()).toEqual(['restore', 'accept(true)', 'setRole(primary)']);
    expect(promoted.value()).toEqual(PRIMARY_IDLE);

    const both = startSite({ role: 'backup' });
    both.actor.send({ type: 'promote' });
    both.actor.send({ type: 'demote' });
    await resolve(both, 'restore');
    expect(both.services.takeCalls()).toEqual(['restore', 'accept(true)', 'setRole(backup)']);
  });

  it('promote / demote while waiting or rebuilding are remembered too', async () => {
    const site = await runningSite({ role: 'backup' });
    site.actor.send({ type: 'fail', error: new Error('x') });
    site.actor.send({ type: 'promote' });
    expect(site.value()).toBe('rebuilding');
    await resolve(site, 'teardown');
    expect(site.value()).toBe('waiting');
    site.actor.send({ type: 'demote' });
    site.actor.send({ type: 'promote' });
    await site.advance(RETRY);
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual([
      'accept(false)',
      'failed(run)',
      'teardown',
      'restore',
      'accept(true)',
      'setRole(primary)',
    ]);
    expect(site.value()).toEqual(PRIMARY_IDLE);
  });
});

describe('site machine: stop', () => {
  it("'stop' while running: input off, drain, then done; no checkpoint after", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'stop' });
    // `running` turns input off as it is left, `stopping` again as it is entered (it does so
    // whatever state the stop came from; accept(false) twice is harmless).
    expect(site.services.takeCalls()).toEqual(['accept(false)', 'accept(false)', 'drain']);
    expect(site.value()).toBe('stopping');
    expect(site.status()).toBe('active');
    await site.advance(10 * CHECKPOINT_EVERY);
    expect(site.services.takeCalls()).toEqual([]);
    await resolve(site, 'drain');
    expect(site.value()).toBe('stopped');
    expect(site.status()).toBe('done');
    await site.advance(10 * CHECKPOINT_EVERY);
    expect(site.services.takeCalls()).toEqual([]);
  });

  it("'stop' while flushing drains; the abandoned checkpoint changes nothing", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'checkpoint' });
    site.actor.send({ type: 'stop' });
    expect(site.services.takeCalls()).toEqual(['checkpoint', 'accept(false)', 'accept(false)', 'drain']);
    await reject(site, 'checkpoint', new PublishError('lost'));
    expect(site.value()).toBe('stopping');
    expect(site.services.takeCalls()).toEqual([]);
    await resolve(site, 'drain');
    expect(site.status()).toBe('done');
  });

  it("'stop' while restoring drains and never turns input on, even when the restore ends after", async () => {
    const site = startSite();
    site.actor.send({ type: 'stop' });
    expect(site.services.takeCalls()).toEqual(['restore', 'accept(false)', 'drain']);
    expect(site.value()).toBe('stopping');
    await resolve(site, 'restore');
    expect(site.services.takeCalls()).toEqual([]);
    expect(site.value()).toBe('stopping');
    await resolve(site, 'drain');
    expect(site.status()).toBe('done');
    expect(site.services.takeCalls()).toEqual([]);
  });

  it("'stop' while waiting drains and never restores again", async () => {
    const site = startSite();
    await reject(site, 'restore', new Error('nats down'));
    expect(site.value()).toBe('waiting');
    site.actor.send({ type: 'stop' });
    expect(site.services.takeCalls()).toEqual(['restore', 'failed(restore)', 'accept(false)', 'drain']);
    await site.advance(10 * MAX_RETRY);
    expect(site.services.takeCalls()).toEqual([]);
    await resolve(site, 'drain');
    expect(site.value()).toBe('stopped');
    expect(site.status()).toBe('done');
  });

  it("'stop' while restarting drains", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'restart' });
    site.actor.send({ type: 'stop' });
    expect(site.services.takeCalls()).toEqual(['accept(false)', 'checkpoint', 'accept(false)', 'drain']);
    await resolve(site, 'checkpoint');
    expect(site.value()).toBe('stopping');
    await resolve(site, 'drain');
    expect(site.status()).toBe('done');
    expect(site.services.takeCalls()).toEqual([]);
  });

  it("'stop' while rebuilding drains", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'fail', error: new PublishError('lost') });
    site.actor.send({ type: 'stop' });
    expect(site.services.takeCalls()).toEqual([
      'accept(false)',
      'failed(run)',
      'teardown',
      'accept(false)',
      'drain',
    ]);
    await resolve(site, 'teardown');
    expect(site.value()).toBe('stopping');
    await resolve(site, 'drain');
    expect(site.status()).toBe('done');
    expect(site.services.takeCalls()).toEqual([]);
  });

  it("a second 'stop' while stopping does not drain twice", async () => {
    const site = await runningSite();
    site.actor.send({ type: 'stop' });
    site.actor.send({ type: 'stop' });
    site.actor.send({ type: 'restart' });
    site.actor.send({ type: 'fail', error: new Error('late') });
    site.actor.send({ type: 'checkpoint' });
    site.actor.send({ type: 'promote' });
    expect(site.services.takeCalls()).toEqual(['accept(false)', 'accept(false)', 'drain']);
    expect(site.services.pending('drain')).toBe(1);
    expect(site.value()).toBe('stopping');
    await resolve(site, 'drain');
    expect(site.status()).toBe('done');
  });

  it('a failed drain still ends the actor', async () => {
    const site = await runningSite();
    site.actor.send({ type: 'stop' });
    await reject(site, 'drain', new CheckpointError('final checkpoint failed'));
    expect(site.value()).toBe('stopped');
    expect(site.status()).toBe('done');
  });
});
