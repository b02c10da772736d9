/**
 * Per-key trailing-edge throttle: at most one send per key every `intervalMs`, and the last change is always
 * sent (a leading-edge throttle would drop it). Sends for different keys never delay each other.
 */
export interface Throttle {
  touch(key: string): void;
  /** Cancels pending sends for one key, or for all keys. */
  cancel(key?: string): void;
}

export function throttlePerKey(send: (key: string) => void, intervalMs: number, now: () => number = Date.now): Throttle {
  const state = new Map<string, { lastSentAt: number; timer?: NodeJS.Timeout }>();
  return {
    touch(key) {
      let entry = state.get(key);
      if (!entry) {
        entry = { lastSentAt: -Infinity };
        state.set(key, entry);
      }
      if (entry.timer) return; // the pending send will carry this change too
      const wait = Math.max(0, entry.lastSentAt + intervalMs - now());
      const current = entry;
      current.timer = setTimeout(() => {
        current.timer = undefined;
        current.lastSentAt = now();
        send(key);
      }, wait);
      current.timer.unref?.();
    },
    cancel(key) {
      const keys = key === undefined ? [...state.keys()] : [key];
      for (const k of keys) {
        clearTimeout(state.get(k)?.timer);
        state.delete(k);
      }
    },
  };
}
