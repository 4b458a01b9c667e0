/**
 * `wfm-agg node --compact-heap-when-quiet`: the node takes it at start and logs it (default 0:
 * off); a value that is not a number of seconds 0..86400 fails at start naming the flag. The
 * compactor's rules are tested in test/node/HeapCompactor.test.ts; what it gives back is measured
 * in bench/memory.bench.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '../helpers/NatsServer.ts';
import { NodeHome, NodeProcess } from '../helpers/NodeProcess.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

describe('wfm-agg node --compact-heap-when-quiet', () => {
  let server: NatsServer;
  let home: NodeHome;

  beforeAll(async () => {
    server = await NatsServer.start();
    home = await NodeHome.create({ natsUrl: server.url, extraConfig: { standbyReplicas: 0 } });
  });

  afterAll(async () => {
    await home?.remove();
    await server?.stop();
  });

  it.each([
    [[], 0],
    [['--compact-heap-when-quiet', '5'], 5],
    [['--compact-heap-when-quiet', '0.5'], 0.5],
  ])(
    '%j: the node starts with it and says so',
    async (extraArgs, expected) => {
      const node = NodeProcess.spawn(home, { extraArgs });
      try {
        await node.ready;
        expect(node.logged('starting node')[0]?.compactHeapWhenQuiet).toBe(expected);
      } finally {
        await node.stop();
      }
    },
    60_000,
  );

  it.each(['abc', '-1', '', '86401'])(
    '%j: refused at start, naming the flag (exit 2)',
    async (value) => {
      const r = await wfmAgg(['node', '--config', home.configFile, '--compact-heap-when-quiet', value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `invalid configuration: --compact-heap-when-quiet: must be a number of seconds 0..86400, got ${JSON.stringify(value)}`,
      );
    },
    30_000,
  );
});
