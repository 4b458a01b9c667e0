import { describe, expect, it } from 'vitest';
import { demoLogText } from '../../src/cli/demoCommand.ts';

describe('demoLogText', () => {
  it("prints a node log line's message with the site, election move, URL or start it names", () => {
    expect(demoLogText({ msg: 'election state', site: 'london', from: 'candidate', to: 'campaigning' })).toBe(
      'election state london: candidate → campaigning',
    );
    expect(demoLogText({ msg: 'leading', site: 'paris' })).toBe('leading paris');
    expect(demoLogText({ msg: 'http listening', url: 'http://127.0.0.1:8080' })).toBe(
      'http listening http://127.0.0.1:8080',
    );
    expect(demoLogText({ msg: 'input consumer', startSeq: 1 })).toBe('input consumer from seq 1');
    expect(demoLogText({ msg: 'node stopped' })).toBe('node stopped');
  });
});
