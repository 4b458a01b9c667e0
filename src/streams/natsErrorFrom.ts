import { JetStreamApiError } from '@nats-io/jetstream';
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  UserAuthenticationExpiredError,
} from '@nats-io/transport-node';
import { NatsError, type NatsErrorKind } from '../errors.ts';

/** How `natsErrorFrom` words the message. */
export interface NatsErrorFromOptions {
  /**
   * Applied to the text taken from the thrown error before it goes into the message, e.g. to
   * mask a password the client may echo. The `cause` is kept unchanged.
   * @defaultValue the identity
   */
  redact: (text: string) => string;
}

export const defaultNatsErrorFromOptions: NatsErrorFromOptions = {
  redact: (text) => text,
};

// How far down a `cause` chain to look (nats.js nests three deep at most).
const MAX_CAUSE_DEPTH = 8;

interface Classified {
  kind: NatsErrorKind;
  /** The error in the chain that decided the kind; its message is the detail. */
  decisive: Error | undefined;
  apiCode?: number;
  errCode?: number;
}

/**
 * Maps whatever nats.js threw (or rejected with) to a `NatsError` whose `kind`, `apiCode`,
 * `errCode` and `transient` say what happened, with `what` as the message's opening (e.g.
 * `cannot read stream WFM_OUT`) and the thrown error as `cause`. A `NatsError` is returned as it
 * is. The `cause` chain is searched, so the wrappers nats.js puts around a failure do not hide it:
 * a JetStream publish to a subject nobody answers throws "jetstream is not enabled" around a
 * no-responders error, and comes out as `no_responders`.
 */
export function natsErrorFrom(
  err: unknown,
  what: string,
  options: Partial<NatsErrorFromOptions> = {},
): NatsError {
  if (err instanceof NatsError) return err;
  const o: NatsErrorFromOptions = { ...defaultNatsErrorFromOptions, ...options };
  const c = classify(err);
  const text = c.decisive?.message ?? (err instanceof Error ? err.message : String(err));
  const codes = c.kind === 'api' ? ` (JetStream API error ${c.errCode}, status ${c.apiCode})` : '';
  return new NatsError(`${what}: ${o.redact(text)}${codes}`, {
    cause: err,
    kind: c.kind,
    ...(c.apiCode !== undefined ? { apiCode: c.apiCode } : {}),
    ...(c.errCode !== undefined ? { errCode: c.errCode } : {}),
  });
}

function classify(err: unknown): Classified {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < MAX_CAUSE_DEPTH; depth++, e = e.cause) {
    if (e instanceof JetStreamApiError) {
      return { kind: 'api', decisive: e, apiCode: e.status, errCode: e.code };
    }
    if (e instanceof TimeoutError) return { kind: 'timeout', decisive: e };
    if (e instanceof NoRespondersError) return { kind: 'no_responders', decisive: e };
    if (
      e instanceof ClosedConnectionError ||
      e instanceof DrainingConnectionError ||
      e instanceof ConnectionError ||
      // nats.js' own wording when a request is made while the client is reconnecting.
      (e instanceof RequestError && e.cause === undefined && e.message === 'connection disconnected')
    ) {
      return { kind: 'connection_closed', decisive: e };
    }
    if (
      e instanceof AuthorizationError ||
      e instanceof UserAuthenticationExpiredError ||
      e instanceof PermissionViolationError
    ) {
      return { kind: 'other', decisive: e };
    }
  }
  return { kind: 'other', decisive: undefined };
}
