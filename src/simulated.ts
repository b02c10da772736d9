/**
 * `--simulate` for every face: the built-in Vapi simulator started in this process, and the config pointed at it
 * (its URL and key, and default assistant and caller ids it accepts). The simulator is loaded only when asked for.
 */
import type { Config } from './config.js';

/** Ids the simulator accepts for the default assistant and caller number in --simulate mode. */
const SIMULATED_ASSISTANT_ID = 'sim-assistant';
const SIMULATED_PHONE_NUMBER_ID = 'sim-phone-number';

/** The `--sim-speed` value as a number, or the sentence saying why it is not one. */
export function parseSimSpeed(text: string | undefined): { speed: number } | { problem: string } {
  const speed = Number(text ?? 1);
  return speed > 0 && speed <= 1000 ? { speed } : { problem: `--sim-speed must be a number from 0 (exclusive) to 1000, not "${text}".` };
}

export async function startSimulatedVapi(config: Config, speed: number): Promise<{ config: Config; stop(): Promise<void> }> {
  const { startSimulator } = await import('./sim/index.js');
  const sim = await startSimulator({ speed });
  return {
    config: {
      ...config,
      apiKey: sim.apiKey,
      baseUrl: sim.baseUrl,
      assistantId: config.assistantId ?? SIMULATED_ASSISTANT_ID,
      phoneNumberId: config.phoneNumberId ?? SIMULATED_PHONE_NUMBER_ID,
    },
    stop: () => sim.close(),
  };
}
