import { describe, expect, it } from 'vitest';
import { listSites, loadConfig } from '../../src/config/index.ts';

describe('examples/wfm.example.json', () => {
  it('loads as documented: tenant T1, London and Paris, every default spelled out', () => {
    const config = loadConfig({ file: 'examples/wfm.example.json', env: {} });
    expect(config.tenant).toEqual({ id: 'T1' });
    expect(config.standbyReplicas).toBe(1);
    expect(config.streams).toEqual({ replicas: 1 });
    expect(config.adherence).toEqual({
      adherenceExceptionThresholdSeconds: 60,
      nonOnQueueActivitiesEquivalent: false,
    });
    expect(listSites(config).map((s) => [s.businessUnit, s.site, s.timeZone, s.intervalMinutes])).toEqual([
      ['emea', 'london', 'Europe/London', 15],
      ['emea', 'paris', 'Europe/Paris', 15],
    ]);
  });
});
