/**
 * `vapi-call-mcp demo` (npm run demo): spawns this server with --simulate over stdio, connects the real MCP
 * SDK client, and walks one whole call as an agent would, printing what it sees. This is a terminal program,
 * not the MCP server: it writes to stdout on purpose.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const print = (line = '') => process.stdout.write(`${line}\n`);

interface Line {
  seq: number;
  role: string;
  text: string;
  secondsFromStart: number;
}

export async function runDemo(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { speed: { type: 'string', default: '4' } } });
  const entry = fileURLToPath(new URL('../index.js', import.meta.url)); // the server's entry, dist/index.js
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, '--simulate', '--sim-speed', values.speed],
    env: { ...(process.env as Record<string, string>) },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'vapi-call-mcp-demo', version: '1.0.0' });
  await client.connect(transport);

  const attempt = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    // A failure is the error envelope as text ({status: 'error', code, reason, …}); a success is structuredContent.
    if (result.isError) return { failure: (result.content[0] as { text: string }).text };
    return { data: result.structuredContent as Record<string, any> };
  };
  const call = async (name: string, args: Record<string, unknown>) => {
    const { failure, data } = await attempt(name, args);
    if (failure !== undefined) throw new Error(`${name}: ${failure}`);
    return data!;
  };

  try {
    const { tools } = await client.listTools();
    print(`Connected to vapi-call-mcp over stdio (simulated Vapi). ${tools.length} tools: ${tools.map((t) => t.name).join(', ')}`);
    print();

    const number = '+14155552671';
    const dry = await call('create_call', { customer: { number, name: 'Sam' }, dryRun: true });
    print(`→ create_call dryRun: every check passed; would POST ${dry.request.url} for ${dry.destination.e164}`);

    const created = await call('create_call', { customer: { number, name: 'Sam' } });
    const callId = created.callId as string;
    print(`→ create_call: call ${callId} is ${created.status}; listening, audio → ${created.listening?.audioPath}`);
    print(`  transcript resource: ${created.transcriptUri}`);
    print();

    let sinceSeq = 1;
    let steered = false;
    let hungUp = false;
    for (;;) {
      const read = await call('read_transcript', { callId, sinceSeq, waitSeconds: 15 });
      for (const line of read.lines as Line[]) {
        const who = line.role === 'customer' ? 'Customer ' : 'Assistant';
        print(`  [${line.secondsFromStart.toFixed(1).padStart(5)}s] ${who}: ${line.text}`);
      }
      sinceSeq = read.nextSeq;
      if (read.ended) {
        print(`  … call ended (${read.endedReason ?? read.status})`);
        break;
      }
      if (!steered && sinceSeq > 3) {
        steered = true;
        const content = 'Quick note before we go on: this call is a demonstration.';
        await call('inject_say', { callId, content });
        print(`→ inject_say: "${content}"`);
      } else if (steered && !hungUp && sinceSeq > 8) {
        // Hang up mid-conversation; on a slow machine the customer may have hung up first, which is fine too.
        hungUp = true;
        const { failure } = await attempt('end_call', { callId });
        if (failure === undefined) print('→ end_call: hanging up');
        else if (failure.includes('"code":"call-ended"')) print('→ end_call: the call had already ended');
        else throw new Error(`end_call: ${failure}`);
      }
    }

    print();
    const final = await call('get_call', { callId });
    print(`→ get_call: status ${final.status}, endedReason ${final.endedReason}, ${final.durationSeconds ?? '?'} s, cost $${final.cost ?? 0}`);
    if (final.summary) print(`  summary: ${final.summary}`);
    print(`  audio: ${final.listening?.audioPath} (${final.listening?.audioBytes} bytes, ${final.listening?.durationSeconds} s)`);
    print(`  events: ${final.listening?.transcriptPath}`);
    const audio = final.listening?.audio;
    if (audio && audio.source !== 'off') {
      const latency = audio.responseLatency;
      print(
        `  voice quality (from ${audio.source === 'audio' ? 'the audio' : 'event timings'}): ` +
          `response ${latency.count ? `p50 ${latency.p50Ms} ms, max ${latency.maxMs} ms` : '–'}; ` +
          `interruptions ${audio.interruptions.count} (by customer ${audio.interruptions.byCustomer}, by assistant ${audio.interruptions.byAssistant}); ` +
          `talk ${audio.talkSeconds.customer} s customer / ${audio.talkSeconds.assistant} s assistant; ` +
          `longest silence ${audio.longestSilenceMs} ms, dead air ${audio.deadAirMs} ms`,
      );
    }
  } finally {
    await client.close();
  }
}
