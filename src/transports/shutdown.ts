/**
 * How a serving process ends: once, on SIGINT/SIGTERM (and whatever else the transport wires to the returned
 * function), running the closing steps in order and exiting 0, or exiting 1 if they take longer than 10 s.
 */
import type { Logger } from '../log.js';

const HARD_STOP_MS = 10_000;

/** Installs the signal handlers and returns the shutdown function for other reasons to end (stdin closed, ...). */
export function exitOnShutdown(logger: Logger, what: string, steps: ReadonlyArray<() => Promise<void>>): (why: string) => Promise<void> {
  let shuttingDown = false;
  const shutdown = async (why: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info(`shutting down (${why}): ${what}`);
    const forceExit = setTimeout(() => {
      logger.error(`shutdown took longer than ${HARD_STOP_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, HARD_STOP_MS);
    forceExit.unref();
    try {
      for (const step of steps) await step();
    } catch (err) {
      logger.error('error during shutdown', { error: (err as Error).message });
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  return shutdown;
}

/** The end of the "ready" log line: simulated, read-only and where recordings go. */
export function servingNotes(config: { simulated: boolean; readOnly: boolean; recordingsDir: string }): string {
  return `${config.simulated ? ' (SIMULATED: built-in Vapi simulator, no real calls)' : ''}${config.readOnly ? ' (read-only)' : ''}; recordings in ${config.recordingsDir}`;
}
