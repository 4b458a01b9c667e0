/**
 * Simulator: a pure, seeded Stat Server stand-in that generates `WFM_IN` traffic (schedules,
 * agent states with reason codes and call types, clock ticks). Publishing and pacing belong
 * to the CLI.
 */
export { planShift, SHIFT_MS, type ShiftPlan } from './planShift.ts';
export { SeededRandom } from './SeededRandom.ts';
export {
  type ClockPayload,
  type CurrentStatePayload,
  type CurrentStateReasonPayload,
  INVALID_INPUT_REASONS,
  type InvalidInputReason,
  type InvalidMessage,
  type SchedulePayload,
  type SimulatedMessage,
  type SimulatedPayload,
  type TrafficMessage,
  wireText,
} from './SimulatedMessage.ts';
export {
  type SimulatedAgent,
  TrafficGenerator,
  type TrafficGeneratorOptions,
  type TrafficMessageOf,
} from './TrafficGenerator.ts';
