import type { ResolvedAgentOptions } from './AgentOptions.ts';
import {
  type AgentContext,
  type AgentStep,
  advanceAgent,
  applyReasonUpdate,
  applyScheduleUpdate,
  applyStateUpdate,
} from './agentCore.ts';
import type { ReasonUpdate, ScheduleUpdate, StateUpdate } from './types.ts';

/** A site deadline reached: advance the agent to event time `at` with no input of its own. */
export interface Tick {
  type: 'tick';
  at: number;
}

/** Everything that moves one agent: its own decoded inputs and the site's deadlines. */
export type AgentInput = StateUpdate | ReasonUpdate | ScheduleUpdate | Tick;

/** Applies one input to an agent; `seq` is the `WFM_IN` sequence that caused it. */
export function applyAgentInput(
  ctx: AgentContext,
  input: AgentInput,
  seq: number,
  options: ResolvedAgentOptions,
): AgentStep {
  switch (input.type) {
    case 'state':
      return applyStateUpdate(ctx, input, seq, options);
    case 'reason':
      return applyReasonUpdate(ctx, input, seq, options);
    case 'schedule':
      return applyScheduleUpdate(ctx, input, seq, options);
    case 'tick':
      return advanceAgent(ctx, input.at, seq, options);
  }
}
