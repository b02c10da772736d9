/**
 * What this server last asked each party's mute to be, per call, learned from the control messages it sent
 * (set_mute from the model or from the console view). Vapi reports no mute state, so this is the best the console
 * can show; a mute set by someone else (the Vapi dashboard) is not seen.
 */
import { callIdFromControlUrl, type VapiControlClient } from '../vapi/control.js';

export type Party = 'customer' | 'assistant';
export type MuteState = Record<Party, boolean>;

const MUTE_CONTROLS: Record<string, { party: Party; muted: boolean }> = {
  'mute-customer': { party: 'customer', muted: true },
  'unmute-customer': { party: 'customer', muted: false },
  'mute-assistant': { party: 'assistant', muted: true },
  'unmute-assistant': { party: 'assistant', muted: false },
};
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

  /** Records every mute control the client sends successfully. */
  observe(control: VapiControlClient): void {
    const send = control.send.bind(control);
    control.send = async (controlUrl, message, options) => {
      const result = await send(controlUrl, message, options);
      const mute = message.type === 'control' ? MUTE_CONTROLS[message.control] : undefined;
      const callId = mute ? callIdFromControlUrlString(controlUrl) : undefined;
      if (mute && callId) this.record(callId, mute.party, mute.muted);
      return result;
    };
  }
}

function callIdFromControlUrlString(url: string): string | undefined {
  try {
    return callIdFromControlUrl(new URL(url));
  } catch {
    return undefined;
  }
}
