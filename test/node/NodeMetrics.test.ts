import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../src/node/EventLoopMonitor.ts';
import {
  emptyNodeCounters,
  renderDatabaseMetrics,
  renderMetrics,
  type SiteMetrics,
  siteMetrics,
} from '../../src/node/NodeMetrics.ts';
import { emptySiteCounters } from '../../src/node/SiteHost.ts';
import type { SiteRuntime } from '../../src/node/SiteRuntime.ts';

function site(name: string, primary: boolean, counters: Partial<SiteMetrics['counters']> = {}): SiteMetrics {
  return {
    site: name,
    counters: { ...emptySiteCounters(), ...counters },
    processedSeq: 10,
    checkpointSeq: 8,
    steps: { steps: 0, transitions: 0 },
    agents: 3,
    emptyActivitiesDropped: 0,
    primary,
  };
}

const lines = (text: string) => text.split('\n');

describe('renderMetrics', () => {
  const london = site('london', true, {
    leasesWon: 3,
    leasesLost: 1,
    hotTakeovers: 2,
    resumedLeases: 5,
    coldTakeovers: 1,
    fencedWrites: 4,
    checkpointsDeferred: 0,
    renewals: 40,
    renewSecondsSum: 0.25,
    renewSecondsMax: 0.031,
  });
  const paris = site('paris', false, { checkpointsDeferred: 6, leasesLost: 2 });
  const text = renderMetrics('node-a', [london, paris], emptyNodeCounters(), 12, 10, {
    maxSeconds: 0.125,
    p99Seconds: 0.0105,
  });

  it('renders the leadership counters of each site', () => {
    const l = lines(text);
    for (const expected of [
      'wfm_leases_won_total{node="node-a",site="london"} 3',
      'wfm_leases_won_total{node="node-a",site="paris"} 0',
      'wfm_leases_lost_total{node="node-a",site="london"} 1',
      'wfm_leases_lost_total{node="node-a",site="paris"} 2',
      'wfm_takeovers_total{node="node-a",site="london",kind="hot"} 2',
      'wfm_takeovers_total{node="node-a",site="london",kind="cold"} 1',
      'wfm_takeovers_total{node="node-a",site="paris",kind="hot"} 0',
      'wfm_takeovers_total{node="node-a",site="paris",kind="cold"} 0',
      'wfm_takeovers_total{node="node-a",site="london",kind="resumed"} 5',
      'wfm_takeovers_total{node="node-a",site="paris",kind="resumed"} 0',
      'wfm_fenced_writes_total{node="node-a",site="london"} 4',
      'wfm_checkpoints_deferred_total{node="node-a",site="london"} 0',
      'wfm_checkpoints_deferred_total{node="node-a",site="paris"} 6',
      'wfm_lease_renewals_total{node="node-a",site="london"} 40',
      'wfm_lease_renew_seconds_total{node="node-a",site="london"} 0.25',
      'wfm_lease_renew_seconds_max{node="node-a",site="london"} 0.031',
      'wfm_lease_renew_seconds_max{node="node-a",site="paris"} 0',
    ]) {
      expect(l).toContain(expected);
    }
  });

  it('renders which sites this node leads as a 0/1 gauge', () => {
    const l = lines(text);
    expect(l).toContain('# TYPE wfm_site_primary gauge');
    expect(l).toContain('wfm_site_primary{node="node-a",site="london"} 1');
    expect(l).toContain('wfm_site_primary{node="node-a",site="paris"} 0');
  });

  it('renders event-loop delay in seconds, and no sample when unknown', () => {
    const l = lines(text);
    expect(l).toContain('# TYPE wfm_event_loop_delay_max_seconds gauge');
    expect(l).toContain('wfm_event_loop_delay_max_seconds{node="node-a"} 0.125');
    expect(l).toContain('wfm_event_loop_delay_p99_seconds{node="node-a"} 0.0105');
    const none = lines(renderMetrics('node-a', [london], emptyNodeCounters(), 12, 10, null));
    expect(none).toContain('# TYPE wfm_event_loop_delay_p99_seconds gauge');
    expect(none.filter((x) => x.startsWith('wfm_event_loop_delay'))).toEqual([]);
  });

  it('gives every metric one HELP and one TYPE line, counters ending in _total', () => {
    const l = lines(text);
    const types = l.filter((x) => x.startsWith('# TYPE ')).map((x) => x.split(' '));
    const names = types.map(([, , name]) => name);
    expect(new Set(names).size).toBe(names.length);
    expect(l.filter((x) => x.startsWith('# HELP ')).length).toBe(names.length);
    for (const [, , name, type] of types) if (type === 'counter') expect(name).toMatch(/_total$/);
    // Every sample belongs to a declared metric.
    for (const sample of l.filter((x) => x !== '' && !x.startsWith('#')))
      expect(names).toContain(sample.split(/[{ ]/)[0]);
  });
});

describe('siteMetrics', () => {
  it("reads the site's role as primary or not", () => {
    const runtime = (role: 'primary' | 'backup') =>
      ({
        site: 'london',
        role,
        counters: emptySiteCounters(),
        position: 5,
        checkpointSeq: 4,
        supervisor: null,
      }) as unknown as SiteRuntime;
    expect(siteMetrics(runtime('primary'))).toMatchObject({ site: 'london', primary: true, processedSeq: 5 });
    expect(siteMetrics(runtime('backup')).primary).toBe(false);
  });
});

describe('EventLoopMonitor', () => {
  it('reports zeros before any sample, then a stall of the loop as its max', async () => {
    const monitor = new EventLoopMonitor(10);
    expect(monitor.delay()).toEqual({ maxSeconds: 0, p99Seconds: 0 });
    monitor.start();
    try {
      await new Promise((r) => setTimeout(r, 30));
      const until = Date.now() + 150;
      while (Date.now() < until) {
        // A stall: nothing else runs on this thread for 150 ms.
      }
      await new Promise((r) => setTimeout(r, 30));
    } finally {
      monitor.stop();
    }
    const { maxSeconds, p99Seconds } = monitor.delay();
    expect(maxSeconds).toBeGreaterThanOrEqual(0.1);
    expect(maxSeconds).toBeLessThan(10);
    expect(p99Seconds).toBeGreaterThan(0);
    expect(p99Seconds).toBeLessThanOrEqual(maxSeconds);
    // Stopped, it keeps what it saw.
    expect(monitor.delay().maxSeconds).toBe(maxSeconds);
  });
});

describe('renderDatabaseMetrics', () => {
  it('shows whether the sink is up, rows written, failures and each written site', () => {
    const text = renderDatabaseMetrics('n1', {
      sink: 'postgres',
      state: 'retrying',
      rowsWritten: 120,
      failures: 3,
      sites: [{ site: 'S1', position: 4711, backlog: 7 }],
    });
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples).toEqual([
      'wfm_db_up{node="n1",sink="postgres"} 0',
      'wfm_db_rows_written_total{node="n1"} 120',
      'wfm_db_write_failures_total{node="n1"} 3',
      'wfm_db_position{node="n1",site="S1"} 4711',
      'wfm_db_backlog{node="n1",site="S1"} 7',
    ]);
    expect(text.endsWith('\n')).toBe(true);
  });
});
