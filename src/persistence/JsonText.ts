import { CheckpointError } from '../errors.ts';

/**
 * An agent snapshot already serialized as JSON text, for the `agents` of a `CheckpointCommit`.
 * A site serializes each dirty agent when it captures the checkpoint, so its live actors can keep
 * changing while the checkpoint is written; the store then writes `text` exactly as given
 * (LevelDB: these very bytes, UTF-8) and never serializes or parses it on the way in. `load()`
 * returns the parsed value, as for a plain value.
 *
 * The text must be what `JSON.stringify` returns for a value; only a cheap check (a non-empty
 * string) is made here. Text that is not JSON is not detected at commit: `load()` of that site
 * then fails with a `CheckpointError` rather than return anything misread. {@link JsonText.stringify}
 * makes a valid one from a value.
 *
 * @example
 * ```ts
 * const snapshot = JsonText.stringify(actor.getPersistedSnapshot(), `agent ${agentId}`);
 * await store.commit(key, { seq, site, agents: [[agentId, snapshot]] });
 * ```
 */
export class JsonText {
  /** The JSON text, exactly as given. */
  readonly text: string;

  /** Wraps `text`; throws `CheckpointError` unless it is a non-empty string. Does not parse it. */
  constructor(text: string) {
    if (typeof text !== 'string' || text.length === 0) {
      throw new CheckpointError(
        `JsonText: expected non-empty JSON text, got ${typeof text === 'string' ? 'an empty string' : typeof text}`,
      );
    }
    this.text = text;
    Object.freeze(this);
  }

  /**
   * `new JsonText(JSON.stringify(value))`, or a `CheckpointError` naming `what` when `value` has
   * no JSON text (`undefined`, a function, a symbol) or cannot be serialized (a BigInt, a cycle).
   */
  static stringify(value: unknown, what = 'value'): JsonText {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new CheckpointError(`${what}: value is not JSON-serializable`, { cause: error });
    }
    if (text === undefined) {
      throw new CheckpointError(`${what}: value has no JSON text (${typeof value})`);
    }
    return new JsonText(text);
  }

  /**
   * The parsed value, so a `JsonText` nested inside a plain value (or handed to a logger) is
   * serialized as the value it holds, never as a wrapper object. Parses: not the fast path.
   */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
