import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** Options of {@link gatherReplies}. */
export interface GatherRepliesOptions<T> {
  /** How long to collect replies at most, in milliseconds. */
  timeoutMs: number;
  /** Reads one reply; a reply it throws on is left out (an answering node of another version). */
  parse: (msg: Msg) => T;
  /** True once the replies so far are all that is waited for (e.g. every live node answered). */
  enough?: (replies: readonly T[]) => boolean;
}

/**
 * Publishes `data` on `subject` with a fresh inbox as its reply subject and collects what every
 * responder sends back — a request answered by every node of a cluster, not only the first —
 * until `enough` says so or `timeoutMs` has passed. Returns the replies in arrival order; none
 * when nobody answers (or the connection is closed).
 */
export function gatherReplies<T>(
  nc: NatsConnection,
  subject: string,
  data: string | Uint8Array,
  options: GatherRepliesOptions<T>,
): Promise<T[]> {
  const replies: T[] = [];
  return new Promise((resolve) => {
    const inbox = createInbox();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let sub: Subscription | undefined;
    const finish = () => {
      clearTimeout(timer);
      sub?.unsubscribe();
      resolve(replies);
    };
    try {
      sub = nc.subscribe(inbox, {
        callback: (err, msg) => {
          if (err !== null) return;
          try {
            replies.push(options.parse(msg));
          } catch {
            return;
          }
          if (options.enough?.(replies) === true) finish();
        },
      });
      timer = setTimeout(finish, options.timeoutMs);
      nc.publish(subject, data, { reply: inbox });
    } catch {
      // A closed or draining connection refuses both: nobody can answer.
      finish();
    }
  });
}
