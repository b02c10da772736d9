/** listCalls: Vapi's own filters passed through, a page of compact rows, and where the next page starts. */
import type { CallStatus, ListCallsFilters } from '../../vapi/schemas.js';
import type { CoreParts, OperationContext } from '../parts.js';
import { summarizeCall, type CallSummary } from '../views/call.js';
import { askVapi } from './vapi-calls.js';

export const DEFAULT_LIST_LIMIT = 20;

export interface ListCallsRequest extends ListCallsFilters {
  /** Keep only calls with this status (applied to the page Vapi returned: Vapi has no status filter). */
  status?: CallStatus;
}

export interface CallList {
  calls: CallSummary[];
  count: number;
  /** The limit sent to Vapi. */
  limit: number;
  /** Vapi returned a full page: older calls may exist. */
  mayHaveMore: boolean;
  /** Pass as createdAtLt to get the next, older page. */
  next?: { createdAtLt: string };
}

export async function listCalls(parts: CoreParts, request: ListCallsRequest, context: OperationContext): Promise<CallList> {
  const { status, ...given } = request;
  const filters: ListCallsFilters = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  filters.limit ??= DEFAULT_LIST_LIMIT;
  const calls = await askVapi({ what: 'Listing calls' }, () => parts.rest.listCalls(filters, { signal: context.signal }));
  for (const call of calls) parts.directory.remember(call);

  const mayHaveMore = calls.length >= filters.limit;
  const oldest = calls.at(-1)?.createdAt;
  const rows = calls.filter((c) => status === undefined || c.status === status).map(summarizeCall);
  return {
    calls: rows,
    count: rows.length,
    limit: filters.limit,
    mayHaveMore,
    ...(mayHaveMore && oldest ? { next: { createdAtLt: oldest } } : {}),
  };
}
