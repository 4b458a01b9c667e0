import { describe, expect, it } from 'vitest';
import {
  type Decoded,
  decodeInput,
  defaultDecodeOptions,
  type SubjectAddress,
} from '../../src/domain/index.ts';
import { MAX_TS, MIN_TS } from '../../src/domain/inputSchemas.ts';
import { utc } from '../helpers/agentScenario.ts';

const COMMAND = 'wfm.command.T1.S1';
const commandAddr: SubjectAddress = { kind: 'command', tenant: 'T1', site: 'S1' };
const TS = utc(12, 0);
const ID_RULE = 'must match pattern "^[A-Za-z0-9_-]{1,64}$"';

function transfer(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: 'transfer',
    id: 'X-1_a',
    from: 'A1',
    to: 'B1',
    ts: TS,
    requestedBy: 'ops@admin-1',
    ...extra,
  };
}

function without(key: string): Record<string, unknown> {
  const payload = transfer();
  delete payload[key];
  return payload;
}

function decode(payload: unknown, subject = COMMAND): Decoded {
  return decodeInput(subject, JSON.stringify(payload), defaultDecodeOptions);
}

function refused(detail: string): Decoded {
  return { ok: false, address: commandAddr, rejection: { reason: 'bad_command', detail } };
}

describe('decodeInput: wfm.command.T.S transfer commands', () => {
  it('decodes a valid transfer command exactly', () => {
    expect(decode(transfer())).toEqual({
      ok: true,
      address: commandAddr,
      event: { type: 'transfer', id: 'X-1_a', from: 'A1', to: 'B1', ts: TS, requestedBy: 'ops@admin-1' },
    });
  });

  it('decodes the bounds: ts at MIN_TS and MAX_TS, requestedBy of 0 and 256 characters, 64-character ids', () => {
    const long = 'a'.repeat(64);
    for (const extra of [
      { ts: MIN_TS, requestedBy: '' },
      { ts: MAX_TS, requestedBy: 'r'.repeat(256) },
      { id: long, from: long, to: `${'b'.repeat(63)}_` },
    ]) {
      const payload = transfer(extra);
      expect(decode(payload)).toEqual({
        ok: true,
        address: commandAddr,
        event: {
          type: 'transfer',
          id: payload.id,
          from: payload.from,
          to: payload.to,
          ts: payload.ts,
          requestedBy: payload.requestedBy,
        },
      });
    }
  });

  it('decodes from a Uint8Array alike; a key the contract does not name is not passed on', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(transfer({ note: 'ignored' })));
    expect(decodeInput(COMMAND, bytes, defaultDecodeOptions)).toEqual(decode(transfer()));
  });

  it('refuses an unknown command as bad_command, naming it', () => {
    expect(decode(transfer({ command: 'delete' }))).toEqual(refused('unknown command delete'));
    expect(decode(transfer({ command: 'Transfer' }))).toEqual(refused('unknown command Transfer'));
    expect(decode(transfer({ command: 7 }))).toEqual(refused('unknown command 7'));
    expect(decode(without('command'))).toEqual(refused('the command field is missing'));
    // A long name is cut to 64 characters in the detail.
    expect(decode(transfer({ command: 'x'.repeat(100) }))).toEqual(
      refused(`unknown command ${'x'.repeat(64)}`),
    );
  });

  it('refuses a missing field as bad_command, naming the field', () => {
    for (const key of ['id', 'from', 'to', 'ts', 'requestedBy']) {
      expect(decode(without(key))).toEqual(
        refused(`transfer command (payload) must have required properties ${key}`),
      );
    }
  });

  it('refuses ids that are not ids as bad_command, naming the field and the rule', () => {
    expect(decode(transfer({ id: 'bad id' }))).toEqual(refused(`transfer command /id ${ID_RULE}`));
    expect(decode(transfer({ id: '' }))).toEqual(refused(`transfer command /id ${ID_RULE}`));
    expect(decode(transfer({ id: 'x'.repeat(65) }))).toEqual(refused(`transfer command /id ${ID_RULE}`));
    expect(decode(transfer({ from: 'A.1' }))).toEqual(refused(`transfer command /from ${ID_RULE}`));
    expect(decode(transfer({ from: 'wfm.stat.T1.S1.A1' }))).toEqual(
      refused(`transfer command /from ${ID_RULE}`),
    );
    expect(decode(transfer({ to: '' }))).toEqual(refused(`transfer command /to ${ID_RULE}`));
    expect(decode(transfer({ to: 'B*' }))).toEqual(refused(`transfer command /to ${ID_RULE}`));
  });

  it('refuses ids that are not strings as bad_command', () => {
    expect(decode(transfer({ id: 12 }))).toEqual(refused('transfer command /id must be string'));
    expect(decode(transfer({ from: null }))).toEqual(refused('transfer command /from must be string'));
    expect(decode(transfer({ to: ['B1'] }))).toEqual(refused('transfer command /to must be string'));
  });

  it('refuses a ts out of range or not an integer as bad_command', () => {
    expect(decode(transfer({ ts: MIN_TS - 1 }))).toEqual(
      refused(`transfer command /ts must be >= ${MIN_TS}`),
    );
    expect(decode(transfer({ ts: MAX_TS + 1 }))).toEqual(
      refused(`transfer command /ts must be <= ${MAX_TS}`),
    );
    // Seconds by mistake.
    expect(decode(transfer({ ts: Math.floor(TS / 1000) }))).toEqual(
      refused(`transfer command /ts must be >= ${MIN_TS}`),
    );
    expect(decode(transfer({ ts: TS + 0.5 }))).toEqual(refused('transfer command /ts must be integer'));
    expect(decode(transfer({ ts: String(TS) }))).toEqual(refused('transfer command /ts must be integer'));
  });

  it('refuses a requestedBy longer than 256 characters, or not a string, as bad_command', () => {
    expect(decode(transfer({ requestedBy: 'r'.repeat(257) }))).toEqual(
      refused('transfer command /requestedBy must not have more than 256 characters'),
    );
    expect(decode(transfer({ requestedBy: null }))).toEqual(
      refused('transfer command /requestedBy must be string'),
    );
  });

  it('refuses a command on a subject with an agent token, or without a site, as bad_subject', () => {
    expect(decode(transfer(), 'wfm.command.T1.S1.X')).toEqual({
      ok: false,
      address: null,
      rejection: { reason: 'bad_subject', detail: 'not an input subject: wfm.command.T1.S1.X' },
    });
    expect(decode(transfer(), 'wfm.command.T1')).toEqual({
      ok: false,
      address: null,
      rejection: { reason: 'bad_subject', detail: 'not an input subject: wfm.command.T1' },
    });
    expect(decode(transfer(), 'wfm.command.T1.S 1')).toEqual({
      ok: false,
      address: null,
      rejection: { reason: 'bad_subject', detail: 'not an input subject: wfm.command.T1.S 1' },
    });
  });

  it('a payload that is not a JSON object is refused before the command is looked at', () => {
    expect(decodeInput(COMMAND, '[]', defaultDecodeOptions)).toEqual({
      ok: false,
      address: commandAddr,
      rejection: { reason: 'not_object', detail: 'payload is an array' },
    });
    expect(decodeInput(COMMAND, '{"command":"transfer",', defaultDecodeOptions)).toMatchObject({
      ok: false,
      address: commandAddr,
      rejection: { reason: 'invalid_json' },
    });
    expect(decodeInput(COMMAND, '{"__proto__":{},"command":"transfer"}', defaultDecodeOptions)).toEqual({
      ok: false,
      address: commandAddr,
      rejection: { reason: 'bad_payload', detail: 'forbidden key __proto__' },
    });
  });
});
