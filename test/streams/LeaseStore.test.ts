import { describe, expect, it } from 'vitest';
import { type LeaseRecord, LeaseStore } from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';

const record = (node: string, epoch: number): LeaseRecord => ({
  node,
  epoch,
  startedAt: 0,
  mark: null,
  released: false,
});

describe('LeaseStore', () => {
  const nats = useNats();

  it('writes by compare-and-set; a refusal carries the value the stream leader holds', async () => {
    const leases = await LeaseStore.open(nats.nc, 'T1', 1);
    const first = await leases.write('S1', record('a', 1), 0);
    expect(first).toEqual({ ok: true, revision: expect.any(Number) });
    const revision = (first as { revision: number }).revision;
    // Another writer that also saw no lease loses, and learns who holds it.
    expect(await leases.write('S1', record('b', 1), 0)).toEqual({
      ok: false,
      current: { revision, record: record('a', 1) },
    });
    // A revision the leader never had (a diverged replica's) is refused the same way.
    expect(await leases.write('S1', record('b', 2), revision + 100)).toEqual({
      ok: false,
      current: { revision, record: record('a', 1) },
    });
    // A key never written: revision 0, no record.
    expect(await leases.write('S2', record('b', 1), 7)).toEqual({
      ok: false,
      current: { revision: 0, record: null },
    });
    expect(await leases.get('S1')).toEqual({ revision, record: record('a', 1) });
  });
});
