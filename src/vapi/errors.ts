/**
 * One error type for everything that can go wrong on the Vapi wire, carrying what a tool needs to tell the
 * model what happened and what to do next. Messages never contain keys or monitor URLs.
 */
export type VapiErrorKind =
  | 'http' // Vapi answered with a non-2xx status
  | 'timeout' // no answer within the request timeout
  | 'network' // connection refused, reset, DNS failure
  | 'aborted' // the caller cancelled
  | 'invalid-response' // 2xx with a body we could not parse
  | 'too-large'; // the answer was bigger than this server reads (see MAX_RESPONSE_BYTES)

export interface VapiErrorInit {
  kind: VapiErrorKind;
  /** What was being attempted, e.g. "POST /call" or "control say". */
  operation: string;
  status?: number;
  /** Vapi's own `message`, arrays joined with "; ", verbatim. */
  vapiMessage?: string;
  /** True when the request may have reached Vapi and had an effect (matters for POST /call). */
  mayHaveSucceeded?: boolean;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class VapiError extends Error {
  readonly kind: VapiErrorKind;
  readonly operation: string;
  readonly status?: number;
  readonly vapiMessage?: string;
  readonly mayHaveSucceeded: boolean;
  readonly retryAfterSeconds?: number;

  constructor(init: VapiErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'VapiError';
    this.kind = init.kind;
    this.operation = init.operation;
    this.status = init.status;
    this.vapiMessage = init.vapiMessage;
    this.mayHaveSucceeded = init.mayHaveSucceeded ?? false;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** Vapi's NestJS error bodies carry `message` as a string or an array of strings. */
export function vapiMessageFrom(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (!body || typeof body !== 'object') return undefined;
  const message = (body as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  return undefined;
}

const STATUS_EXPLANATIONS: Record<number, string> = {
  400: 'Vapi rejected the request as invalid',
  401: 'Vapi rejected the API key',
  403: 'the API key is not allowed to do this',
  404: 'not found',
  409: 'Vapi reported a conflict',
  422: 'Vapi could not process the request',
  429: 'Vapi is rate-limiting requests',
  500: 'Vapi had an internal error',
  502: 'Vapi is unreachable behind its gateway',
  503: 'Vapi is temporarily unavailable',
  504: 'Vapi timed out',
};

function describe(init: VapiErrorInit): string {
  switch (init.kind) {
    case 'http': {
      const explanation = STATUS_EXPLANATIONS[init.status ?? 0] ?? `Vapi answered HTTP ${init.status}`;
      const detail = init.vapiMessage ? `: ${init.vapiMessage}` : '';
      return `${init.operation} failed (HTTP ${init.status}, ${explanation})${detail}`;
    }
    case 'timeout':
      return `${init.operation} timed out waiting for Vapi`;
    case 'network':
      return `${init.operation} could not reach Vapi (network error)`;
    case 'aborted':
      return `${init.operation} was cancelled`;
    case 'invalid-response':
      return `${init.operation} got a response from Vapi that could not be read`;
    case 'too-large':
      return `${init.operation} got a response from Vapi larger than this server reads`;
  }
}
