/**
 * Start-up: from spawning `node dist/index.js` to the `initialize` reply, and to the `tools/list` reply sent
 * right after it, as an MCP host experiences it. Measured as users run it (no CPU pinning: a desktop client
 * spawns the server on a multi-core machine) and on one pinned core; Node's own start (`node -e ''`) alongside.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wallNow } from '../lib/clock.js';
import type { RunContext } from '../lib/context.js';
import { nodeCommand } from '../lib/proc.js';
import { ServerProcess } from '../lib/server-process.js';
import { median, round } from '../lib/stats.js';

export interface StartupTimes {
  initializeMs: { median: number | null; min: number | null; max: number | null };
  toolsListMs: { median: number | null; min: number | null; max: number | null };
  /** `node -e ''` spawned and exited, for scale. */
  bareNodeMs: number | null;
}

export interface StartupResult {
  runs: number;
  tools: number;
  unpinned: StartupTimes;
  /** On the measured core alone (undefined when not pinning). */
  oneCore?: StartupTimes;
}

export async function runStartup(settings: { runs: number }, context: RunContext): Promise<StartupResult> {
  const home = await mkdtemp(join(tmpdir(), 'vapi-bench-startup-'));
  const env = { HOME: home, VAPI_API_KEY: 'bench-key', VAPI_BASE_URL: 'http://127.0.0.1:9', VAPI_RECORDINGS_DIR: join(home, 'recordings') };
  const cores: (number | undefined)[] = context.pinning ? [undefined, context.pinning.measuredCore] : [undefined];
  const samples = cores.map(() => ({ initialize: [] as number[], toolsList: [] as number[], bare: [] as number[] }));
  let tools = 0;
  try {
    for (let i = 0; i < settings.runs; i++) {
      for (const [k, core] of cores.entries()) {
        const server = new ServerProcess({ env, core, entry: context.serverEntry });
        try {
          const init = await server.initialize();
          const list = await server.request('tools/list');
          samples[k].initialize.push(init.receivedAt - server.spawnedAt);
          samples[k].toolsList.push(list.receivedAt - server.spawnedAt);
          tools = (list.result.tools as unknown[]).length;
        } finally {
          await server.close();
        }
        const { command, args } = nodeCommand(['-e', ''], core);
        const spawnedAt = wallNow();
        await once(spawn(command, args, { stdio: 'ignore' }), 'exit');
        samples[k].bare.push(wallNow() - spawnedAt);
      }
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
  const times = ({ initialize, toolsList, bare }: (typeof samples)[number]): StartupTimes => ({
    initializeMs: summary(initialize),
    toolsListMs: summary(toolsList),
    bareNodeMs: median(bare),
  });
  return { runs: settings.runs, tools, unpinned: times(samples[0]), ...(samples[1] && { oneCore: times(samples[1]) }) };
}

function summary(values: number[]) {
  return { median: median(values), min: round(Math.min(...values), 1), max: round(Math.max(...values), 1) };
}
