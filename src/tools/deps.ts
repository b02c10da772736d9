/** Everything a tool handler may use. Built once per server by createServer. */
import type { Config } from '../config.js';
import type { ConfirmationTokens } from '../guard/confirmation-token.js';
import type { DialPolicy, CallLimits } from '../guard/index.js';
import type { ListenerRegistry } from '../live/registry.js';
import type { Logger } from '../log.js';
import type { CallDirectory } from '../vapi/call-directory.js';
import type { VapiControlClient } from '../vapi/control.js';
import type { VapiRestClient } from '../vapi/rest.js';

export interface ToolDeps {
  config: Config;
  rest: VapiRestClient;
  control: VapiControlClient;
  listeners: ListenerRegistry;
  directory: CallDirectory;
  policy: DialPolicy;
  limits: CallLimits;
  /** Tokens a dry run issues and create_call redeems once (the human confirmed that exact request). */
  confirmations: ConfirmationTokens;
  logger: Logger;
}

export type ConfirmOutcome = 'accepted' | 'declined' | 'unsupported';

/** Per-invocation context, free of SDK types so handlers stay portable across SDK versions. */
export interface ToolContext {
  signal: AbortSignal;
  /** Ask the human a yes/no question through the client (MCP elicitation). */
  confirm(message: string): Promise<ConfirmOutcome>;
}

export const TRANSCRIPT_URI_TEMPLATE = 'vapi://calls/{callId}/transcript';
export function transcriptUri(callId: string): string {
  return `vapi://calls/${callId}/transcript`;
}
