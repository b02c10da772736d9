/** The one bounded wait of the read operations: until `ready()` holds after a change, the deadline, or cancellation. */

/** Registers a change callback and returns its unsubscribe (a listener's onChange, the mute ledger's, ...). */
export type ChangeSource = (onChange: () => void) => () => void;

export function waitUntil(ready: () => boolean, sources: readonly ChangeSource[], ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ready()) return resolve();
    const unsubscribes: (() => void)[] = [];
    const finish = () => {
      clearTimeout(timer);
      for (const off of unsubscribes) off();
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    for (const subscribe of sources) unsubscribes.push(subscribe(() => ready() && finish()));
    signal.addEventListener('abort', finish, { once: true });
  });
}
