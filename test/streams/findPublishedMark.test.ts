import { jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import { describe, expect, it } from 'vitest';
import type { Output } from '../../src/domain/types.ts';
import { NatsError } from '../../src/errors.ts';
import {
  connectNats,
  findPublishedMark,
  natsStatusEvents,
  OutputPublisher,
} from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';

function gc(tenant: string, site: string, agentId: string, sourceSeq: number): Output {
  return {
    kind: 'gc',
    tenant,
    site,
    agentId,
    index: 0,
    payload: { agentId, presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: sourceSeq * 1000, sourceSeq },
  };
}

function adherence(tenant: string, site: string, agentId: string, sourceSeq: number): Output {
  return {
    kind: 'adherence',
    tenant,
    site,
    agentId,
    index: 0,
    payload: {
      agentId,
      adherenceState: 'InAdherence',
      scheduledCategory: 'Break',
      actualCategory: 'Break',
      impact: 'Neutral',
      since: 0,
      ts: sourceSeq * 1000,
      sourceSeq,
    },
  };
}

describe('findPublishedMark (nats-server 2.9 last_by_subj with a wildcard)', () => {
  const nats = useNats({ freshStream: 'WFM_OUT' });

  it('is null when the site has published nothing', async () => {
    const p = new OutputPublisher(nats.js);
    p.publish(gc('T1', 'S2', 'a1', 5), 1);
    p.publish(gc('T2', 'S1', 'a1', 6), 1);
    await p.flush();
    expect(await findPublishedMark(nats.jsm, 'T1', 'S1')).toBeNull();
    expect(await findPublishedMark(nats.jsm, 'T9', 'S9')).toBeNull();
  });

  it('returns the last ordinal and sourceSeq of the site, across kinds and agents, ignoring other sites and tenants', async () => {
    const p = new OutputPublisher(nats.js);
    p.publish(gc('T1', 'S1', 'a1', 10), 1);
    p.publish(adherence('T1', 'S1', 'a2', 11), 2);
    p.publish(gc('T1', 'S2', 'a1', 12), 1);
    p.publish(adherence('T1', 'S1', 'a1', 13), 3);
    // Published after the site's last: other site, other tenant, and a site whose id extends S1.
    p.publish(gc('T1', 'S2', 'a9', 14), 2);
    p.publish(gc('T2', 'S1', 'a1', 15), 1);
    p.publish(gc('T1', 'S10', 'a1', 16), 1);
    await p.flush();
    expect(await findPublishedMark(nats.jsm, 'T1', 'S1')).toEqual({ sourceSeq: 13, ordinal: 3 });
    expect(await findPublishedMark(nats.jsm, 'T1', 'S2')).toEqual({ sourceSeq: 14, ordinal: 2 });
    expect(await findPublishedMark(nats.jsm, 'T2', 'S1')).toEqual({ sourceSeq: 15, ordinal: 1 });
  });

  it('finds a mark far back behind many messages of other sites, and after a server restart', async () => {
    const p = new OutputPublisher(nats.js);
    p.publish(gc('T1', 'S1', 'a1', 1), 41);
    for (let i = 0; i < 5000; i++) {
      await p.whenReady();
      p.publish(gc('T1', `X${i % 13}`, `a${i}`, 2 + i), i);
    }
    await p.flush();
    expect(await findPublishedMark(nats.jsm, 'T1', 'S1')).toEqual({ sourceSeq: 1, ordinal: 41 });
    const reconnected = firstValueFrom(
      natsStatusEvents(nats.nc).pipe(filter((e) => e.type === 'reconnected')),
    );
    await nats.server.restart();
    const nc2 = await connectNats({ servers: [nats.server.url] });
    const jsm2 = await jetstreamManager(nc2);
    expect(await findPublishedMark(jsm2, 'T1', 'S1')).toEqual({ sourceSeq: 1, ordinal: 41 });
    await nc2.close();
    await reconnected;
  });

  it('throws NatsError when the last message was not written by an OutputPublisher', async () => {
    const h = headers();
    h.set('Wfm-Source-Seq', '3');
    await nats.js.publish('wfm.gc.T1.S1.a1', '{}', { headers: h });
    await expect(findPublishedMark(nats.jsm, 'T1', 'S1')).rejects.toThrow(NatsError);
    await expect(findPublishedMark(nats.jsm, 'T1', 'S1')).rejects.toThrow(
      'WFM_OUT message 1 on wfm.gc.T1.S1.a1 has no valid Wfm-Source-Seq/Wfm-Ordinal headers',
    );
  });

  it('throws NatsError when the stream is missing', async () => {
    await nats.jsm.streams.delete('WFM_OUT');
    await expect(findPublishedMark(nats.jsm, 'T1', 'S1')).rejects.toThrow(NatsError);
  });
});
