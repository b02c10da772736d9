/** Driver side of the simulator host child: start it (pinned), ask it things, measure its clock offset. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { wallNow } from './clock.js';
import { childScript } from './paths.js';
import { nodeCommand } from './proc.js';
import type { Emissions, LoadGenSettings, OpenedCall, SimHostSettings, SimReady, SimReply, SimReplyValue, SimRequest } from './sim-protocol.js';

export class SimHost {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: SimReplyValue | undefined) => void; reject: (error: Error) => void }>();
  /** Add to a sim-host timestamp to get the driver's clock. */
  clockOffsetMs = 0;

  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly apiKey: string,
  ) {
    child.on('message', (message: SimReply) => {
      if (message.type !== 'reply') return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(`simulator host: ${message.error}`));
      else waiter?.resolve(message.value);
    });
    child.on('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`simulator host exited (code ${code})`));
      this.pending.clear();
    });
  }

  /** The simulator itself (`sim-host`), or the capacity section's load generator (`load-gen`, same protocol). */
  static async start(settings: SimHostSettings, core: number | undefined): Promise<SimHost>;
  static async start(settings: LoadGenSettings, core: number | undefined, script: 'load-gen'): Promise<SimHost>;
  static async start(settings: SimHostSettings | LoadGenSettings, core: number | undefined, script: 'sim-host' | 'load-gen' = 'sim-host'): Promise<SimHost> {
    const { command, args } = nodeCommand([childScript(script), JSON.stringify(settings)], core);
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const [ready] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => Promise.reject(new Error(`simulator host exited early (code ${code})`))),
    ])) as [SimReady];
    const host = new SimHost(child, ready.baseUrl, ready.apiKey);
    await host.measureClockOffset();
    return host;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** NTP-style: the probe with the shortest round trip bounds the offset by half of it. */
  async measureClockOffset(probes = 9): Promise<{ offsetMs: number; roundTripMs: number }> {
    let best = { offsetMs: 0, roundTripMs: Infinity };
    for (let i = 0; i < probes; i++) {
      const sent = wallNow();
      const remote = (await this.ask({ cmd: 'now' })) as number;
      const received = wallNow();
      const roundTripMs = received - sent;
      if (roundTripMs < best.roundTripMs) best = { offsetMs: (sent + received) / 2 - remote, roundTripMs };
    }
    this.clockOffsetMs = best.offsetMs;
    return best;
  }

  bytesSent(callIds: string[]): Promise<Record<string, number>> {
    return this.ask({ cmd: 'bytes', callIds }) as Promise<Record<string, number>>;
  }

  /** The most listen sockets any of these calls had open at once. */
  listenSockets(callIds: string[]): Promise<number> {
    return this.ask({ cmd: 'listeners', callIds }) as Promise<number>;
  }

  /** Per call, the wall times (driver's clock) at which a listen socket opened (load generator only). */
  async listenOpens(callIds: string[]): Promise<Record<string, number[]>> {
    const raw = (await this.ask({ cmd: 'opens', callIds })) as Record<string, number[]>;
    for (const times of Object.values(raw)) for (let i = 0; i < times.length; i++) times[i] += this.clockOffsetMs;
    return raw;
  }

  /** Calls opened without REST (load generator only), for listeners that connect on their own. */
  open(count: number): Promise<OpenedCall[]> {
    return this.ask({ cmd: 'open', count }) as Promise<OpenedCall[]>;
  }

  async hangup(callIds: string[]): Promise<void> {
    await this.ask({ cmd: 'hangup', callIds });
  }

  /** Emissions since the last call, with times converted to the driver's clock. */
  async drainEmissions(): Promise<Emissions> {
    const raw = (await this.ask({ cmd: 'emissions' })) as Emissions;
    for (const times of Object.values(raw.transcripts)) {
      for (let i = 0; i < times.length; i++) times[i] += this.clockOffsetMs;
    }
    return raw;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    await this.ask({ cmd: 'close' }).catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private ask(request: SimRequest): Promise<SimReplyValue | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...request, id });
    });
  }
}
