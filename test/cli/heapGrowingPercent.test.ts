/**
 * `wfm-agg node --heap-growing-percent`: the node applies it at start and logs it (default 50);
 * a value that is not an integer 0..1000 fails at start naming the flag. What it does to memory
 * is measured in bench/memory.bench.ts, not here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '../helpers/NatsServer.ts';
import { NodeHome, NodeProcess } from '../helpers/NodeProcess.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

describe('wfm-agg node --heap-growing-percent', () => {
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
    [[], 50],
    [['--heap-growing-percent', '0'], 0],
    [['--heap-growing-percent', '20'], 20],
  ])(
    '%j: the node starts with it and says so',
    async (extraArgs, expected) => {
      const node = NodeProcess.spawn(home, { extraArgs });
      try {
        await node.ready;
        expect(node.logged('starting node')[0]?.heapGrowingPercent).toBe(expected);
      } finally {
        await node.stop();
      }
    },
    60_000,
  );

  it.each(['abc', '-1', '2.5', '1001'])(
    '%s: refused at start, naming the flag (exit 2)',
    async (value) => {
      const r = await wfmAgg(['node', '--config', home.configFile, '--heap-growing-percent', value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `invalid configuration: --heap-growing-percent: must be an integer 0..1000, got ${JSON.stringify(value)}`,
      );
    },
    30_000,
  );
});
