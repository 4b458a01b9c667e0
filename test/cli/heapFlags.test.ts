/**
 * The node's heap flags (src/cli/heapGrowth.ts, src/cli/heapCompaction.ts): the node takes each at
 * start and logs it, with its default; a value out of range fails at start naming the flag (exit
 * 2). What they do to memory is measured in bench/memory.bench.ts, and the compactor's rules in
 * test/node/HeapCompactor.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '../helpers/NatsServer.ts';
import { NodeHome, NodeProcess } from '../helpers/NodeProcess.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

const FLAGS = [
  {
    flag: '--heap-growing-percent',
    logged: 'heapGrowingPercent',
    started: [
      [[], 50],
      [['--heap-growing-percent', '0'], 0],
      [['--heap-growing-percent', '20'], 20],
    ] as [string[], number][],
    refused: ['abc', '-1', '2.5', '1001', ''],
    rule: 'must be an integer 0..1000',
  },
  {
    flag: '--heap-growing-above',
    logged: 'heapGrowingAbove',
    started: [
      [[], 0],
      [['--heap-growing-above', '128'], 128],
      [['--heap-growing-above', '512'], 512],
    ] as [string[], number][],
    refused: ['abc', '-1', '2.5', '65537', ''],
    rule: 'must be an integer number of MiB 0..65536',
  },
  {
    flag: '--compact-heap-when-quiet',
    logged: 'compactHeapWhenQuiet',
    started: [
      [[], 0],
      [['--compact-heap-when-quiet', '5'], 5],
      [['--compact-heap-when-quiet', '0.5'], 0.5],
    ] as [string[], number][],
    refused: ['abc', '-1', '', '86401'],
    rule: 'must be a number of seconds 0..86400',
  },
];

describe.each(FLAGS)('wfm-agg node $flag', ({ flag, logged, started, refused, rule }) => {
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

  it.each(started)(
    '%j: the node starts with it and says so',
    async (extraArgs, expected) => {
      const node = NodeProcess.spawn(home, { extraArgs });
      try {
        await node.ready;
        expect(node.logged('starting node')[0]?.[logged]).toBe(expected);
        // Started as `node bin/wfm-agg.js`, it runs with the V8 flags the shebang names.
        expect(node.logged('starting node')[0]?.nodeFlags).toEqual(['--max-semi-space-size=64']);
      } finally {
        await node.stop();
      }
    },
    60_000,
  );

  it.each(refused)(
    '%j: refused at start, naming the flag (exit 2)',
    async (value) => {
      const r = await wfmAgg(['node', '--config', home.configFile, flag, value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`invalid configuration: ${flag}: ${rule}, got ${JSON.stringify(value)}`);
    },
    30_000,
  );
});
