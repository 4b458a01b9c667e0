import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.ts';
import { JsonText } from '../../src/persistence/index.ts';

function thrown(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('JsonText', () => {
  it('keeps the text exactly as given, without parsing it, and cannot be changed', () => {
    const text = ' { "b" : 1.50 , "a" : [ ] } ';
    const wrapped = new JsonText(text);
    expect(wrapped.text).toBe(text);
    expect(new JsonText('{not parsed').text).toBe('{not parsed');
    expect(Object.isFrozen(wrapped)).toBe(true);
    expect(() => {
      (wrapped as { text: string }).text = '1';
    }).toThrow(TypeError);
  });

  it.each([
    ['', /got an empty string/],
    [undefined, /got undefined/],
    [42, /got number/],
    [null, /got object/],
  ])('refuses %j with CheckpointError', (text, message) => {
    const error = thrown(() => new JsonText(text as string));
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).message).toMatch(/^JsonText: expected non-empty JSON text, /);
    expect((error as CheckpointError).message).toMatch(message);
  });

  it('stringify() wraps JSON.stringify of a value', () => {
    expect(JsonText.stringify({ a: [1, 'x', null], b: undefined }).text).toBe('{"a":[1,"x",null]}');
    expect(JsonText.stringify(null).text).toBe('null');
    expect(JsonText.stringify('').text).toBe('""');
  });

  it('stringify() refuses values with no JSON text, naming what was serialized', () => {
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /^agent a: value has no JSON text \(undefined\)$/],
      [() => 1, /^agent a: value has no JSON text \(function\)$/],
      [Symbol('s'), /^agent a: value has no JSON text \(symbol\)$/],
      [10n, /^agent a: value is not JSON-serializable$/],
      [cycle, /^agent a: value is not JSON-serializable$/],
    ];
    for (const [value, message] of cases) {
      const error = thrown(() => JsonText.stringify(value, 'agent a'));
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).message).toMatch(message);
    }
    const withCause = thrown(() => JsonText.stringify(10n)) as CheckpointError;
    expect(withCause.message).toBe('value: value is not JSON-serializable');
    expect(withCause.cause).toBeInstanceOf(TypeError);
  });

  it('serializes as the value it holds when nested in JSON.stringify', () => {
    expect(JSON.stringify({ snapshot: new JsonText(' [1, {"x" : 2}] ') })).toBe('{"snapshot":[1,{"x":2}]}');
    expect(new JsonText('{"x":1}').toJSON()).toEqual({ x: 1 });
  });
});
