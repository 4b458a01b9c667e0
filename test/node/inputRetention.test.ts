import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localNodeConfig } from '../../src/dev/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { WfmNode } from '../../src/node/index.ts';
import { ensureStreams } from '../../src/streams/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { WfmWire } from '../helpers/wfmWire.ts';

let server: NatsServer;
let wire: WfmWire;
let dataDir: string;

beforeAll(async () => {
  server = await NatsServer.start();
  wire = await WfmWire.connect(server.url);
  await ensureStreams(wire.jsm);
  dataDir = mkdtempSync(join(tmpdir(), 'wfm-retention-'));
});

afterAll(async () => {
  await wire?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('WfmNode input retention', () => {
  it('counts and reports, per site, input that retention dropped before the site checkpointed it', async () => {
    const ts = Date.UTC(2026, 0, 5, 9, 0, 0);
    const state = (agentId: string, status: string, at: number) =>
      JSON.stringify({ statistic: 'CurrentState', agentId, status, callType: null, ts: at });
    for (let i = 0; i < 5; i++) await wire.publish('wfm.stat.T1.S1.a1', state('a1', 'Ready', ts + i));
    await wire.jsm.streams.purge('WFM_IN');
    await wire.publish('wfm.stat.T1.S1.a2', state('a2', 'Ready', ts + 10));
    const last = await wire.publish('wfm.stat.T1.S1.a2', state('a2', 'NotReady', ts + 20));

    const lines: string[] = [];
    const config = localNodeConfig({ natsUrl: server.url, dataDir, sites: ['S1'] });
    const logger = createLogger({
      level: 'info',
      pretty: false,
      destination: { write: (l: string) => lines.push(l) },
    });
    const node = await WfmNode.start({ config, nodeId: 'n1', logger });
    try {
      await wire.until(() => node.processedSeq === last);
      // Each site counts what it lost (the lane of input no site owns may have lost some too).
      expect(node.sites.get('S1')!.counters.inputGapMessages).toBe(5);
      const report = lines.map((l) => JSON.parse(l)).find((e) => e.missing !== undefined && e.site === 'S1');
      expect(report).toMatchObject({ level: 50, startSeq: 1, firstSeq: 6, missing: 5 });
      expect(await node.metrics()).toContain('wfm_input_gap_messages_total{node="n1",site="S1"} 5');
    } finally {
      await node.stop();
    }
  });
});
