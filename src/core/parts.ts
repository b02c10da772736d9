/**
 * What the core's operations work with: the process-wide parts one CallCore owns, and the per-request context a
 * face passes in. Operations are functions of (parts, request, context), so each lives in its own module.
 */
import type { ClusterCalls } from '../cluster/calls.js';
import type { ClusterConnection } from '../cluster/connection.js';
import type { Config } from '../config.js';
import type { SharedIdempotencyKeys } from '../cluster/shared-keys.js';
import type { ConfirmationStore } from '../guard/confirmation-token.js';
import type { CallLimitsStore, DialPolicy, QuietHoursGuard } from '../guard/index.js';
import type { RecentCallsStore } from '../guard/recent-calls.js';
import type { ListenerRegistry } from '../live/registry.js';
import type { Logger } from '../log.js';
import type { CallDirectory } from '../vapi/call-directory.js';
import type { VapiControlClient } from '../vapi/control.js';
import type { IdempotencyKeys } from '../vapi/idempotency.js';
import type { VapiRestClient } from '../vapi/rest.js';
import type { MuteLedger } from './mute-ledger.js';
import type { PlaceCallResult } from './operations/place-call.js';

export interface CoreParts {
  config: Config;
  logger: Logger;
  rest: VapiRestClient;
  control: VapiControlClient;
  listeners: ListenerRegistry;
  directory: CallDirectory;
  policy: DialPolicy;
  /** In this process, or shared by the cluster's instances. */
  limits: CallLimitsStore;
  /** Set when VAPI_QUIET_HOURS is. */
  quietHours?: QuietHoursGuard;
  /** Tokens a dry run issues and placeCall redeems once (the human confirmed that exact request). */
  confirmations: ConfirmationStore;
  /** Recently used idempotency keys and the calls they placed. */
  idempotencyKeys: IdempotencyKeys;
  mutes: MuteLedger;
  /** Placements under way and keys whose outcome is unknown, for exactly-once dialing. */
  placements: Placements;
  /** The last call placed to each number, for the duplicate-call guard. */
  recentCalls: RecentCallsStore;
  /** Cluster mode (VAPI_MCP_REDIS_URL): the store the instances share; absent in the in-memory default. */
  cluster?: ClusterConnection;
  /** Cluster mode: idempotency keys claimed across instances, on top of this process's own memory. */
  sharedKeys?: SharedIdempotencyKeys;
  /** Cluster mode: the call directory, leases and streams shared with the other instances. */
  clusterCalls?: ClusterCalls;
}

export interface Placements {
  /** Key → the placement running now, so a concurrent request with the same key waits for it. */
  inFlight: Map<string, Promise<PlaceCallResult>>;
  /** Key → epoch ms of an attempt whose outcome is unknown: a retry with the key asks Vapi before placing. */
  uncertain: Map<string, number>;
  /** Timing of the GET /call look-up after a lost answer (tests shorten it). */
  lookup?: { attempts?: number; delayMs?: number };
}

export type ConfirmOutcome = 'accepted' | 'declined' | 'unsupported';

/** Per-request context a face passes to every operation. */
export interface OperationContext {
  signal: AbortSignal;
  /** Ask the human a yes/no question (MCP elicitation, a TTY prompt); 'unsupported' when the face cannot ask. */
  confirm?(question: string): Promise<ConfirmOutcome>;
}

export const TRANSCRIPT_URI_TEMPLATE = 'vapi://calls/{callId}/transcript';
/** The transcript resource of a call: every face names it the same way. */
export function transcriptUri(callId: string): string {
  return `vapi://calls/${callId}/transcript`;
}
