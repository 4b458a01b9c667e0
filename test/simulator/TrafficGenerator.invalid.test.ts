/**
 * `TrafficGenerator`'s `invalidEvery`: invalid input mixed into realistic traffic, each message
 * one the aggregator must refuse with a known DLQ reason (README "DLQ reasons"). The reasons a
 * message's own text decides are checked with the product's decoder; `late` and `unknown_site`
 * depend on what came before and on the configuration, so they are checked against the traffic.
 */
import { describe, expect, it } from 'vitest';
import { decodeInput, defaultDecodeOptions } from '../../src/domain/index.ts';
import { ConfigError } from '../../src/errors.ts';
import {
  INVALID_INPUT_REASONS,
  type InvalidMessage,
  type SimulatedMessage,
  TrafficGenerator,
  type TrafficGeneratorOptions,
  type TrafficMessage,
  wireText,
} from '../../src/simulator/index.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2025, 2, 3, 8, 7, 13);
const SITES = ['london', 'paris'];
const EVERY = 25;

const base = {
  tenant: 'T1',
  sites: SITES,
  agentsPerSite: 20,
  seed: 7,
  startTs: START,
} satisfies TrafficGeneratorOptions;

function mixed(overrides: Partial<TrafficGeneratorOptions<number>> = {}): TrafficMessage[] {
  return [...new TrafficGenerator({ ...base, invalidEvery: EVERY, ...overrides }).messages(START + 2 * HOUR)];
}

const isInvalid = (m: TrafficMessage): m is InvalidMessage => m.kind === 'invalid';

describe('TrafficGenerator with invalidEvery', () => {
  const traffic = mixed();
  const invalid = traffic.filter(isInvalid);

  it('makes message N, 2N, 3N… invalid and no other', () => {
    expect(traffic.length).toBeGreaterThan(10_000);
    const positions = traffic.flatMap((m, i) => (isInvalid(m) ? [i + 1] : []));
    expect(positions).toEqual(
      Array.from({ length: Math.floor(traffic.length / EVERY) }, (_, k) => (k + 1) * EVERY),
    );
  });

  it('leaves the valid traffic exactly as it is without the option, in non-decreasing event time', () => {
    const valid = traffic.filter((m): m is SimulatedMessage => !isInvalid(m));
    const plain = new TrafficGenerator(base);
    expect(JSON.stringify(valid)).toBe(JSON.stringify(valid.map(() => plain.next())));
    expect(traffic.filter((m, i) => i > 0 && m.ts < traffic[i - 1]!.ts)).toEqual([]);
    // Each invalid message takes the event time of the message before it.
    traffic.forEach((m, i) => {
      if (isInvalid(m)) expect(m.ts).toBe(traffic[i - 1]!.ts);
    });
  });

  it('is deterministic, and the seed changes which invalid messages come', () => {
    expect(JSON.stringify(mixed())).toBe(JSON.stringify(traffic));
    expect(JSON.stringify(mixed({ seed: 8 }).filter(isInvalid))).not.toBe(JSON.stringify(invalid));
  });

  it('mixes every kind, in realistic numbers', () => {
    const counts = new Map<string, number>();
    for (const m of invalid) counts.set(m.reason, (counts.get(m.reason) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...INVALID_INPUT_REASONS].sort());
    for (const n of counts.values()) expect(n).toBeGreaterThan(invalid.length / 10);
  });

  it('publishes an invalid message as its text, and a valid one as its payload in JSON', () => {
    for (const m of traffic.slice(0, 3 * EVERY)) {
      expect(wireText(m)).toBe(isInvalid(m) ? m.text : JSON.stringify(m.payload));
    }
  });

  it('gives the decoder exactly the reason it names, for what the text alone decides', () => {
    const wrong: string[] = [];
    for (const m of invalid) {
      const decoded = decodeInput(m.subject, m.text, defaultDecodeOptions);
      const got = decoded.ok ? 'decoded' : decoded.rejection.reason;
      const want = m.reason === 'late' || m.reason === 'unknown_site' ? 'decoded' : m.reason;
      if (got !== want) wrong.push(`${m.reason}: ${m.subject} ${m.text} → ${got}`);
    }
    expect(wrong).toEqual([]);
  });

  it('sends unknown_site for a site not among the sites, on an otherwise valid subject', () => {
    const unknown = invalid.filter((m) => m.reason === 'unknown_site');
    expect(unknown.length).toBeGreaterThan(0);
    for (const m of unknown) {
      const decoded = decodeInput(m.subject, m.text, defaultDecodeOptions);
      expect(decoded.ok).toBe(true);
      expect(SITES).not.toContain(decoded.address?.site);
      expect(decoded.address?.tenant).toBe('T1');
    }
    // Never a site of the traffic, whatever the sites are called.
    const taken = mixed({ sites: ['unconfigured', 'paris'] }).filter(
      (m) => isInvalid(m) && m.reason === 'unknown_site',
    );
    expect(taken.length).toBeGreaterThan(0);
    expect(taken.every((m) => !/^wfm\.stat\.T1\.(unconfigured|paris)\./.test(m.subject))).toBe(true);
  });

  it('sends late updates older than the last statistic their agent sent before them', () => {
    const lastStatTs = new Map<string, number>();
    const late = [];
    for (const m of traffic) {
      if (m.kind === 'stat') lastStatTs.set(m.subject, m.payload.ts);
      if (!isInvalid(m) || m.reason !== 'late') continue;
      const payload = JSON.parse(m.text) as { statistic: string; ts: number };
      late.push(m);
      expect(payload.statistic).toBe('CurrentState');
      expect(payload.ts).toBeGreaterThanOrEqual(0);
      expect(payload.ts).toBeLessThan(lastStatTs.get(m.subject)!);
    }
    expect(late.length).toBeGreaterThan(0);
  });

  it('is off by default: valid traffic only', () => {
    const plain = [...new TrafficGenerator(base).messages(START + HOUR)];
    expect(plain.some((m) => (m as TrafficMessage).kind === 'invalid')).toBe(false);
  });

  it('sends no late update while no agent has a statistic it could be older than', () => {
    // At ts 0 every agent logs off, and nothing can be older than that.
    const atZero = [...new TrafficGenerator({ ...base, startTs: 0, invalidEvery: 2 }).messages(1)];
    expect(atZero.some((m) => m.kind === 'stat')).toBe(true);
    const invalidAtZero = atZero.filter(isInvalid);
    expect(invalidAtZero.length).toBeGreaterThan(20);
    expect(invalidAtZero.filter((m) => m.reason === 'late')).toEqual([]);
  });

  const bad: Array<[string, Partial<TrafficGeneratorOptions<number>>]> = [
    ['invalidEvery', { invalidEvery: 1 }],
    ['invalidEvery', { invalidEvery: 2.5 }],
    ['invalidEvery', { invalidEvery: 0 }],
    ['invalidEvery', { invalidEvery: 10, agentsPerSite: 0 }],
  ];
  it.each(bad)('rejects a bad %s', (field, options) => {
    try {
      new TrafficGenerator({ ...base, ...options });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });
});
