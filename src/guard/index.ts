/** Checks that run before any call is placed: who may be dialled, and how many calls may run. */
export {
  DialPolicy,
  EXAMPLE_VALID_NUMBERS,
  parseAllowList,
  type DialPolicyOptions,
  type NumberRefusal,
  type NumberVerdict,
} from './numbers.js';
export { checkDialUri, isDialUri, type DestinationVerdict } from './destinations.js';
export { checkInlineConfig, checkVariableValues, type InlineRefusal } from './inline-config.js';
export { EMERGENCY_NUMBERS_BY_COUNTRY, UNIVERSAL_EMERGENCY_NUMBERS, findEmergencyNumber } from './emergency.js';
export {
  CallLimits,
  DEFAULT_MAX_CALLS_PER_HOUR,
  DEFAULT_MAX_CONCURRENT_CALLS,
  type CallLimitsOptions,
  type CallLimitsStore,
  type LimitVerdict,
} from './limits.js';
export {
  QuietHoursGuard,
  calleeTimeZones,
  judgeQuietHours,
  parseQuietHours,
  type LocalTime,
  type QuietHours,
  type QuietVerdict,
} from './quiet-hours.js';
