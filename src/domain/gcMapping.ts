import type { AgentStatus, CallType, Presence, RoutingStatus } from './types.ts';

/** Genesys Cloud user state: presence plus routing status. */
export interface GcState {
  presence: Presence;
  routingStatus: RoutingStatus;
}

/** The four reason names that have a Genesys Cloud presence of their own, by exact name. */
export const MAPPABLE_REASONS = {
  Break: 'BREAK',
  Meal: 'MEAL',
  Meeting: 'MEETING',
  Training: 'TRAINING',
} as const satisfies Record<string, Presence>;

export type MappableReason = keyof typeof MAPPABLE_REASONS;

/** Routing status while on a call: only internal calls are "communicating" (seed 001). */
function callRouting(callType: CallType): RoutingStatus {
  return callType === 'Internal' ? 'COMMUNICATING' : 'INTERACTING';
}

/**
 * Maps an Engage agent state to a Genesys Cloud user state (seed 001's table, every row).
 *
 * @param presenceBeforeAcw - the presence the agent had when After Call Work began; ACW never
 *   changes presence. Null when ACW is the first state ever seen (then BUSY: logged in, not idle).
 * @param mappedReasons - reason names mapped to their own presence (default all four).
 */
export function mapGcState(
  status: AgentStatus,
  callType: CallType | null,
  reason: string | null,
  presenceBeforeAcw: Presence | null,
  mappedReasons: ReadonlySet<string>,
): GcState {
  switch (status) {
    case 'LoggedOff':
      return { presence: 'OFFLINE', routingStatus: 'OFF_QUEUE' };
    case 'NotReady':
      if (callType !== null) return { presence: 'BUSY', routingStatus: callRouting(callType) };
      return { presence: reasonPresence(reason, mappedReasons), routingStatus: 'OFF_QUEUE' };
    case 'Ready':
      return { presence: 'ON_QUEUE', routingStatus: callType === null ? 'IDLE' : callRouting(callType) };
    case 'AfterCallWork':
      // Wrap-up is work on an interaction; an internal call during it is still "communicating".
      return {
        presence: presenceBeforeAcw ?? 'BUSY',
        routingStatus: callType === 'Internal' ? 'COMMUNICATING' : 'INTERACTING',
      };
  }
}

function reasonPresence(reason: string | null, mappedReasons: ReadonlySet<string>): Presence {
  if (reason === null || !mappedReasons.has(reason) || !Object.hasOwn(MAPPABLE_REASONS, reason))
    return 'BUSY';
  return MAPPABLE_REASONS[reason as MappableReason];
}
