/** Pure helpers of the console view: formatting and reading tool results. */

export interface Failure {
  code: string;
  reason: string;
  suggestion: string;
  retryable: boolean;
}

export interface ToolResultLike {
  isError?: boolean;
  content?: unknown[];
  structuredContent?: Record<string, unknown>;
}

/** 75 → "1:15"; 3725 → "1:02:05". */
export function clock(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function formatCost(cost: unknown): string | undefined {
  return typeof cost === 'number' && Number.isFinite(cost) ? `$${cost.toFixed(cost < 1 ? 4 : 2)}` : undefined;
}

/** The text block's JSON, for results without structuredContent (failures travel as text only). */
export function resultJson(result: ToolResultLike): Record<string, unknown> | undefined {
  if (result.structuredContent) return result.structuredContent;
  for (const block of result.content ?? []) {
    const text = (block as { type?: string; text?: string }).type === 'text' ? (block as { text: string }).text : undefined;
    if (text === undefined) continue;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
    } catch {
      return { reason: text };
    }
  }
  return undefined;
}

/** The server's error envelope in words, or the best reading of anything else. */
export function failureOf(result: ToolResultLike): Failure {
  const json = resultJson(result) ?? {};
  return {
    code: typeof json.code === 'string' ? json.code : 'error',
    reason: typeof json.reason === 'string' ? json.reason : 'The tool failed without saying why.',
    suggestion: typeof json.suggestion === 'string' ? json.suggestion : '',
    retryable: json.retryable === true,
  };
}

export function hostFailure(err: unknown): Failure {
  return {
    code: 'host-error',
    reason: `The host could not reach the server: ${err instanceof Error ? err.message : String(err)}`,
    suggestion: 'Check that the server is still connected, then try again.',
    retryable: true,
  };
}

/** Fill of a level meter, 0..100, from dBFS (−60 dBFS and below reads empty). */
export function meterPercent(rmsDbfs: number): number {
  if (!Number.isFinite(rmsDbfs)) return 0;
  return Math.round(Math.min(1, Math.max(0, (rmsDbfs + 60) / 60)) * 100);
}

export function speakerLabel(role: string): string {
  return role === 'customer' ? 'Caller' : 'Assistant';
}
