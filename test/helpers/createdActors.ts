/**
 * Records every actor `xstate.createActor` makes, for tests that look at which actors exist and
 * their status. A test file opts in with (vi.mock is hoisted, so the factory imports this lazily):
 *
 *   vi.mock('xstate', async (original) => (await import('../helpers/createdActors.ts')).recordingXstate(original));
 */
import type { AnyActorRef } from 'xstate';

/** Every actor made since the test file started (clear it with `createdActors.length = 0`). */
export const createdActors: AnyActorRef[] = [];

/** xstate with `createActor` wrapped to record what it makes. */
export async function recordingXstate(importOriginal: <T>() => Promise<T>): Promise<typeof import('xstate')> {
  const xstate = await importOriginal<typeof import('xstate')>();
  return {
    ...xstate,
    createActor: ((...args: Parameters<typeof xstate.createActor>) => {
      const actor = xstate.createActor(...args);
      createdActors.push(actor);
      return actor;
    }) as typeof xstate.createActor,
  };
}
