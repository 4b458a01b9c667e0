/**
 * The admin side of a transfer (`answerTransfer`) against a real nats-server: it answers only for
 * a led site that knows both agents, refuses a transfer of an agent whose earlier transfer the
 * site has not applied yet (read back from `WFM_IN`), publishes exactly one command otherwise,
 * and a dry run publishes nothing.
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteSupervisor } from '../../src/actors/index.ts';
import { decodeInput, defaultDecodeOptions } from '../../src/domain/index.ts';
import { answerTransfer, type LedSite, type TransferContext } from '../../src/node/index.ts';
import { connectNats, ensureStreams } from '../../src/streams/index.ts';
import { stateMsg, utc } from '../helpers/agentScenario.ts';
import { NatsServer } from '../helpers/NatsServer.ts';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('answerTransfer', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let site: LedSite;

  const ctx = (led: LedSite[] = [site]): TransferContext => ({
    nodeId: 'n1',
    tenant: 'T1',
    js,
    jsm,
    led,
    sink: null,
  });

  async function commandsStored(): Promise<number> {
    const info = await jsm.streams.info('WFM_IN', { subjects_filter: 'wfm.command.>' });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  }

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connectNats({ servers: [server.url], name: 'transferRequest test' });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
    const supervisor = new SiteSupervisor({ tenant: 'T1', site: 'S1' });
    let seq = 0;
    for (const agent of ['A1', 'B1', 'C1', 'D1']) {
      const m = stateMsg(agent, 'Ready', null, utc(10, 0));
      supervisor.process(++seq, m.subject, decodeInput(m.subject, m.data, defaultDecodeOptions));
    }
    site = { site: 'S1', processedSeq: 0, supervisor };
  });

  afterAll(async () => {
    site?.supervisor?.stop();
    await nc?.close();
    await server?.stop();
  });

  it('says which agents each led site knows, and leaves the answer to the node that knows both', async () => {
    const reply = await answerTransfer(
      ctx(),
      encode({ from: 'A1', to: 'X9', dryRun: false, requestedBy: 'u@h' }),
    );
    expect(reply).toEqual({
      nodeId: 'n1',
      led: ['S1'],
      found: [{ site: 'S1', from: true, to: false }],
      answer: null,
    });
    expect(await commandsStored()).toBe(0);
  });

  it('refuses a bad request and one agent twice without looking further', async () => {
    const bad = await answerTransfer(
      ctx(),
      encode({ from: 'A1', to: 'B1', dryRun: 'yes', requestedBy: 'u@h' }),
    );
    expect(bad.answer).toEqual({
      ok: false,
      code: 'bad_request',
      error: 'bad transfer request: dryRun must be true or false',
    });
    const same = await answerTransfer(
      ctx(),
      encode({ from: 'A1', to: 'A1', dryRun: false, requestedBy: 'u@h' }),
    );
    expect(same.answer).toEqual({
      ok: false,
      code: 'same_agent',
      error: 'an agent cannot be transferred to itself (A1)',
    });
    expect(await commandsStored()).toBe(0);
  });

  it('a dry run plans and publishes nothing', async () => {
    const reply = await answerTransfer(
      ctx(),
      encode({ from: 'A1', to: 'B1', dryRun: true, requestedBy: 'u@h' }),
    );
    expect(reply.answer).toMatchObject({
      ok: true,
      site: 'S1',
      dryRun: true,
      id: null,
      commandSeq: null,
      rows: null,
    });
    expect(await commandsStored()).toBe(0);
  });

  it('publishes one command; while the site has not applied it, a transfer of either agent is refused and one of two others is not', async () => {
    const first = await answerTransfer(
      ctx(),
      encode({ from: 'A1', to: 'B1', dryRun: false, requestedBy: 'u@h' }),
    );
    expect(first.answer).toMatchObject({ ok: true, site: 'S1', dryRun: false });
    const answer = first.answer as { id: string; commandSeq: number };
    const stored = await jsm.streams.getMessage('WFM_IN', { seq: answer.commandSeq });
    expect(stored?.subject).toBe('wfm.command.T1.S1');
    expect(stored?.json()).toMatchObject({
      command: 'transfer',
      id: answer.id,
      from: 'A1',
      to: 'B1',
      requestedBy: 'u@h',
    });
    // The site has applied nothing past seq 0: the command is pending.
    for (const [from, to] of [
      ['B1', 'C1'],
      ['C1', 'A1'],
    ]) {
      const refused = await answerTransfer(ctx(), encode({ from, to, dryRun: false, requestedBy: 'u@h' }));
      expect(refused.answer).toEqual({
        ok: false,
        code: 'pending',
        error: `transfer ${answer.id} (A1 → B1) is not applied yet; try again when it is`,
      });
    }
    const other = await answerTransfer(
      ctx(),
      encode({ from: 'C1', to: 'D1', dryRun: false, requestedBy: 'u@h' }),
    );
    expect(other.answer).toMatchObject({ ok: true });
    expect(await commandsStored()).toBe(2);
    // Once the site has applied both, A1 and B1 are free again.
    const applied = { ...site, processedSeq: (other.answer as { commandSeq: number }).commandSeq };
    const again = await answerTransfer(
      ctx([applied]),
      encode({ from: 'B1', to: 'A1', dryRun: true, requestedBy: 'u@h' }),
    );
    expect(again.answer).toMatchObject({ ok: true, dryRun: true });
  });

  it('a site still restoring (no supervisor) knows nobody', async () => {
    const reply = await answerTransfer(
      ctx([{ site: 'S1', processedSeq: 0, supervisor: null }]),
      encode({ from: 'A1', to: 'B1', dryRun: false, requestedBy: 'u@h' }),
    );
    expect(reply.found).toEqual([{ site: 'S1', from: false, to: false }]);
    expect(reply.answer).toBeNull();
  });
});
