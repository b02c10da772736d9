/**
 * Every way an agent (or the console view) reads a call over MCP, each checked the same way: the result must
 * validate against the tool's declared outputSchema (taken from tools/list, checked with the SDK's own Ajv
 * validator), carry only finite numbers, and any audio-metrics block must be either valid numbers or a stated
 * error. Failures are collected, not thrown, so one test reports every read path that broke and why.
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { Harness } from './harness.js';

export type ReadPath =
  | 'read_transcript'
  | 'read_transcripts'
  | 'get_call'
  | 'listen_call'
  | 'stop_listening'
  | 'console_updates'
  | 'resource';

export interface Line {
  role: string;
  text: string;
}

export interface PathRead {
  path: ReadPath;
  /** The structured result (resource: `{ text }`); undefined when the read failed. */
  value?: Record<string, unknown>;
}

export class ReadPathChecker {
  readonly failures: string[] = [];
  private readonly validators = new Map<string, (value: unknown) => { valid: boolean; errorMessage?: string }>();

  private constructor(private readonly h: Harness) {}

  static async create(h: Harness): Promise<ReadPathChecker> {
    const checker = new ReadPathChecker(h);
    const ajv = new AjvJsonSchemaValidator();
    const { tools } = await h.client.listTools();
    for (const tool of tools as Tool[]) {
      if (tool.outputSchema) checker.validators.set(tool.name, ajv.getValidator(tool.outputSchema as never));
    }
    return checker;
  }

  /** Calls one tool, records why it failed (error result, thrown error, schema, numbers), returns its result. */
  async tool(phase: string, name: Exclude<ReadPath, 'resource'>, args: Record<string, unknown>): Promise<PathRead> {
    const where = `${phase} ${name}`;
    let result: CallToolResult;
    try {
      result = (await this.h.client.callTool({ name, arguments: args })) as CallToolResult;
    } catch (error) {
      this.failures.push(`${where}: threw ${(error as Error).message}`);
      return { path: name };
    }
    if (result.isError) {
      this.failures.push(`${where}: error result ${textOf(result)}`);
      return { path: name };
    }
    const value = result.structuredContent;
    const validate = this.validators.get(name);
    if (!validate) this.failures.push(`${where}: no outputSchema in tools/list`);
    else if (!value) this.failures.push(`${where}: no structuredContent`);
    else {
      const verdict = validate(value);
      if (!verdict.valid) this.failures.push(`${where}: does not match its outputSchema: ${verdict.errorMessage}`);
      this.checkNumbers(where, value, '');
      for (const [path, audio] of audioBlocks(value, '')) this.checkAudio(`${where} ${path}`, audio);
    }
    return { path: name, value };
  }

  /** resources/read of the call's transcript resource: non-empty text. */
  async resource(phase: string, callId: string): Promise<PathRead> {
    const where = `${phase} resource`;
    try {
      const { contents } = await this.h.client.readResource({ uri: `vapi://calls/${callId}/transcript` });
      const text = (contents[0] as { text?: unknown } | undefined)?.text;
      if (typeof text !== 'string' || text.trim() === '') {
        this.failures.push(`${where}: no text`);
        return { path: 'resource' };
      }
      return { path: 'resource', value: { text } };
    } catch (error) {
      this.failures.push(`${where}: threw ${(error as Error).message}`);
      return { path: 'resource' };
    }
  }

  /** Records a failure when `ok` is false (content checks beyond the schema). */
  expect(ok: boolean, message: string): void {
    if (!ok) this.failures.push(message);
  }

  private checkNumbers(where: string, value: unknown, path: string): void {
    if (typeof value === 'number' && !Number.isFinite(value)) this.failures.push(`${where}: ${path} is ${value}`);
    if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) this.checkNumbers(where, child, path ? `${path}.${key}` : key);
    }
  }

  /** Either `{ source: 'error', reason }` or metrics whose numbers are finite and in range. */
  private checkAudio(where: string, audio: Record<string, unknown>): void {
    if (audio.source === 'error') {
      if (typeof audio.reason !== 'string' || audio.reason === '') this.failures.push(`${where}: error without a reason`);
      return;
    }
    const talk = audio.talkSeconds as Record<string, unknown> | undefined;
    const analyzed = audio.analyzedSeconds;
    const nonNegative = [
      ['analyzedSeconds', analyzed],
      ['talkSeconds.customer', talk?.customer],
      ['talkSeconds.assistant', talk?.assistant],
      ['longestSilenceMs', audio.longestSilenceMs],
      ['deadAirMs', audio.deadAirMs],
    ] as const;
    if (audio.source === 'none' || audio.source === 'off') return;
    for (const [name, value] of nonNegative) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.failures.push(`${where}: ${name} is ${String(value)}`);
    }
    for (const party of ['customer', 'assistant']) {
      const seconds = talk?.[party];
      if (typeof seconds === 'number' && typeof analyzed === 'number' && seconds > analyzed + 0.1) {
        this.failures.push(`${where}: talkSeconds.${party} ${seconds} exceeds analyzedSeconds ${analyzed}`);
      }
    }
    const share = audio.assistantTalkShare;
    if (share !== undefined && !(typeof share === 'number' && share >= 0 && share <= 1)) {
      this.failures.push(`${where}: assistantTalkShare is ${String(share)}`);
    }
  }
}

/** Every object under a key named `audio`, with its path. */
function audioBlocks(value: unknown, path: string): [string, Record<string, unknown>][] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const at = path ? `${path}.${key}` : key;
    if (key === 'audio' && typeof child === 'object' && child !== null && !Array.isArray(child)) return [[at, child as Record<string, unknown>]];
    return audioBlocks(child, at);
  });
}

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === 'text' ? first.text : JSON.stringify(result.content);
}

/** The lines of a read_transcript-shaped result, as role and text. */
export function linesOf(value: Record<string, unknown> | undefined): Line[] {
  const lines = (value?.lines ?? []) as { role: string; text: string }[];
  return lines.map(({ role, text }) => ({ role, text }));
}
