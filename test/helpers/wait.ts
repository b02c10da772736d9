/**
 * Options for vi.waitFor: poll often, and give up only at a deadline far beyond what the condition needs on an
 * idle machine. vitest's default deadline (1 s) is a wall-clock bound that a loaded 2-core CI machine exceeds;
 * the test's own timeout stays the real bound.
 */
export const EVENTUALLY = { interval: 5, timeout: 15_000 } as const;
