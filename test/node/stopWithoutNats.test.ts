/**
 * A node stops whatever its NATS server does meanwhile: gone before the stop (an operator stops
 * a node during a broker outage), or dying with it — the demo's Ctrl-C reaches its nats-server as
 * it reaches the nodes. What needs NATS (handing leases over, flushing outputs, draining the
 * connections) gives up within its bounds, the checkpoint store and the WFM database are closed,
 * and the node ends. Before closeNats, a node whose publishing connection lost the server while
 * its drain waited for a PONG never ended (the first process case failed so every time; the
 * demo's Ctrl-C left a node draining for ever in 1 run of 2 to 6), and a hung server held the
 * stop until the client's ping check. Both are now bounded: closeNats.test.ts pins each way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localNodeConfig } from '../../src/dev/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { WfmNode } from '../../src/node/index.ts';
import { NodeHome, NodeProcess, waitFor } from '../helpers/NodeProcess.ts';
import { livePublisher, standbyNats, standbyTraffic } from '../helpers/standbyTraffic.ts';

const SITES = ['S1', 'S2'];
/** Far more than stop needs with NATS gone (its bounds are a few seconds); a hang never ends. */
const STOP_LIMIT_MS = 30_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('stopping a node whose NATS server is gone or hangs', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  for (const when of ['idle', 'busy'] as const) {
    it(`${when === 'idle' ? 'caught up' : 'with outputs in flight'}: stop() resolves`, async () => {
      const nats = await standbyNats(false);
      cleanups.push(() => nats.close());
      const traffic = standbyTraffic({ sites: SITES, agentsPerSite: 20, hours: 1, seed: 7 });
      const dataDir = await mkdtemp(join(tmpdir(), 'wfm-node-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      const log: string[] = [];
      const logger = createLogger({
        level: 'info',
        pretty: false,
        destination: { write: (line: string) => void log.push(line.trimEnd()) },
      });
      const config = localNodeConfig({ natsUrl: nats.server.url, dataDir, sites: SITES });
      const node = await WfmNode.start({ config, nodeId: 'n1', logger });
      cleanups.push(() => node.stop());
      // Caught up: every input applied. In flight: the server dies while input is still being
      // published and the node is a hundred inputs in.
      const publishing = livePublisher(nats.js, traffic).publish(
        when === 'idle' ? traffic.length : undefined,
      );
      if (when === 'idle') await publishing;
      const reached = (seq: number) => node.status().sites.every((s) => s.processedSeq >= seq);
      await waitFor(() => (reached(when === 'idle' ? traffic.length : 100) ? true : undefined), {
        timeoutMs: 45_000,
        describe: () => JSON.stringify(node.status()),
      });
      await nats.server.kill();
      await publishing.catch(() => undefined);

      const outcome = await Promise.race([
        node.stop().then(
          () => 'stopped',
          (err: unknown) => `stop() rejected: ${String(err)}`,
        ),
        sleep(STOP_LIMIT_MS).then(() => 'still stopping'),
      ]);
      expect(outcome, log.slice(-30).join('\n')).toBe('stopped');
      expect(log.at(-1)).toContain('node stopped');
    }, 120_000);
  }

  /**
   * A node process with half the traffic applied, its server then stopped (SIGSTOP: alive, never
   * answering) and the node told to stop (SIGTERM).
   */
  async function stopWithServerStopped(seed: number) {
    const traffic = standbyTraffic({ sites: SITES, agentsPerSite: 20, hours: 1, seed });
    const nats = await standbyNats(false);
    cleanups.push(() => nats.close());
    const home = await NodeHome.create({ natsUrl: nats.server.url, sites: SITES });
    cleanups.push(() => home.remove());
    const node = NodeProcess.spawn(home, { nodeId: 'n1', logLevel: 'debug' });
    cleanups.push(() => node.kill());
    await node.ready;
    await livePublisher(nats.js, traffic).publish(traffic.length / 2);
    const pid = nats.server.pid!;
    process.kill(pid, 'SIGSTOP');
    cleanups.push(async () => process.kill(pid, 'SIGCONT'));
    node.signal('SIGTERM');
    return { nats, node };
  }

  /** 'exited <code>', or 'still stopping' with the log's tail after `limitMs`. */
  function exitWithin(node: NodeProcess, limitMs: number): Promise<string> {
    return Promise.race([
      node.exited.then((e) => `exited ${e.code}`),
      sleep(limitMs).then(() => `still stopping\n${node.log.split('\n').slice(-20).join('\n')}`),
    ]);
  }

  it('a node process whose server dies while it drains its connections: it exits', async () => {
    const { nats, node } = await stopWithServerStopped(2);
    // The stop gives up on leases and acks within their bounds and comes to drain its
    // connections, whose PINGs go unanswered; then the server dies (SIGKILL), as a server does
    // when Ctrl-C reaches it too.
    await waitFor(() => (node.logged('closing the NATS connections').length > 0 ? true : undefined), {
      timeoutMs: 60_000,
      describe: () => node.log,
    });
    await sleep(300);
    await nats.server.kill();
    expect(await exitWithin(node, STOP_LIMIT_MS)).toBe('exited 0');
  }, 120_000);

  it('a node process whose server hangs through its stop (SIGSTOP, never resumed): it exits', async () => {
    const { node } = await stopWithServerStopped(3);
    // Every wait of the stop is bounded (lease handover, acks, the mark, the drains: seconds each).
    expect(await exitWithin(node, 2 * STOP_LIMIT_MS)).toBe('exited 0');
  }, 120_000);
});
