/**
 * What this process last asked each party's mute to be, per call, recorded by the core's setMute once Vapi
 * accepted it (from any face: the model, the console view, the terminal). Vapi reports no mute state, so this is
 * the best a face can show; a mute set by someone else (the Vapi dashboard) is not seen.
 */

export type Party = 'customer' | 'assistant';
export type MuteState = Record<Party, boolean>;

const MAX_CALLS = 1000;

export class MuteLedger {
  private readonly byCall = new Map<string, MuteState>();
  private readonly changeFns = new Set<(callId: string) => void>();

  get(callId: string): MuteState {
    return { ...(this.byCall.get(callId.toLowerCase()) ?? { customer: false, assistant: false }) };
  }

  record(callId: string, party: Party, muted: boolean): void {
    const key = callId.toLowerCase();
    const state = this.byCall.get(key) ?? { customer: false, assistant: false };
    if (state[party] === muted) return;
    this.byCall.delete(key);
    this.byCall.set(key, { ...state, [party]: muted });
    if (this.byCall.size > MAX_CALLS) this.byCall.delete(this.byCall.keys().next().value as string);
    for (const fn of this.changeFns) fn(key);
  }

  onChange(fn: (callId: string) => void): () => void {
    this.changeFns.add(fn);
    return () => this.changeFns.delete(fn);
  }
}
