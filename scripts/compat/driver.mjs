/**
 * Runs inside node_modules/.cache/compat (copied there by scripts/compat.mjs, run with its Node 22 binary), so the
 * frameworks resolve from that folder. For each framework: start `vapi-call-mcp --simulate` through the framework's
 * own MCP client, take its converted tools, compare every converted input schema with the one the server lists,
 * walk a simulated call through the framework's own tool execution, close, and check no server process is left.
 *
 *   node driver.mjs <setup.json>   setup: { node, server, listed: Tool[], only?: string[] }
 */
import { readFileSync, readdirSync } from 'node:fs';

const setup = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const NUMBER = '+14155552671';
// Fast enough for CI, slow enough that the call is still live when the walk steers and ends it.
const SERVER_ARGS = [setup.server, '--simulate', '--sim-speed', '4'];
const ENV = { PATH: process.env.PATH ?? '', HOME: setup.home, VAPI_RECORDINGS_DIR: setup.recordingsDir, VAPI_LOG_LEVEL: 'warning' };
const listed = new Map(setup.listed.map((tool) => [tool.name, tool.inputSchema]));

// ---- Schema comparison -------------------------------------------------------------------------------------

/** Keywords whose loss changes what is accepted or what the model is told. */
const KEPT = ['type', 'enum', 'const', 'maxLength', 'minLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems', 'default', 'description'];

/** OpenAI strict mode wraps an optional property as anyOf [X, {type: null}]: that is the absent case, not a loss. */
function unwrapNullable(node) {
  if (node && Array.isArray(node.anyOf) && node.anyOf.length === 2) {
    const [value, nothing] = node.anyOf;
    if (nothing?.type === 'null') return { ...value, ...(node.description && !value.description ? { description: node.description } : {}) };
  }
  return node;
}

/** Every difference between the listed schema and the framework's converted one, as "path: what". */
export function schemaLoss(original, converted, path = '', options = {}) {
  const losses = [];
  const node = options.nullable ? unwrapNullable(converted) : converted;
  if (!node || typeof node !== 'object') return [`${path || '(root)'}: missing`];
  for (const key of KEPT) {
    if (original[key] === undefined) continue;
    if (JSON.stringify(original[key]) !== JSON.stringify(node[key])) losses.push(`${path || '(root)'}: ${key} ${JSON.stringify(original[key])} became ${JSON.stringify(node[key])}`);
  }
  const requiredBefore = new Set(original.required ?? []);
  const requiredAfter = new Set(node.required ?? []);
  for (const name of requiredBefore) if (!requiredAfter.has(name)) losses.push(`${path}.${name}: no longer required`);
  if (!options.nullable) for (const name of requiredAfter) if (!requiredBefore.has(name)) losses.push(`${path}.${name}: became required`);
  for (const [name, child] of Object.entries(original.properties ?? {})) {
    losses.push(...schemaLoss(child, node.properties?.[name], `${path}.${name}`, options));
  }
  for (const name of Object.keys(node.properties ?? {})) if (!original.properties?.[name]) losses.push(`${path}.${name}: added`);
  if (original.items) losses.push(...schemaLoss(original.items, node.items, `${path}[]`, options));
  return losses;
}

// ---- Frameworks ------------------------------------------------------------------------------------------

/** Each adapter: connect() → { tools: Map<name, { schema, run(args) }>, close() }. run resolves to the JSON result. */
const FRAMEWORKS = {
  async 'Vercel AI SDK'() {
    const { createMCPClient } = await import('@ai-sdk/mcp');
    const { Experimental_StdioMCPTransport } = await import('@ai-sdk/mcp/mcp-stdio');
    const client = await createMCPClient({ transport: new Experimental_StdioMCPTransport({ command: setup.node, args: SERVER_ARGS, env: ENV }) });
    const tools = await client.tools();
    return {
      tools: new Map(
        Object.entries(tools).map(([name, tool]) => [
          name,
          {
            schema: withoutKeys(tool.inputSchema.jsonSchema, ['additionalProperties']),
            run: async (args) => {
              const result = await tool.execute(args, { toolCallId: `call-${name}`, messages: [] });
              // What the model is shown: the SDK's own conversion of the result.
              const shown = await tool.toModelOutput({ toolCallId: `call-${name}`, input: args, output: result });
              if (result.isError) throw new Error(textOf(result.content));
              const texts = (shown?.value ?? []).filter((part) => part.type === 'text').map((part) => part.text);
              if (!texts.some((text) => text === JSON.stringify(result.structuredContent))) {
                throw new Error(`the model would not see the result: ${JSON.stringify(shown).slice(0, 200)}`);
              }
              return result.structuredContent;
            },
          },
        ]),
      ),
      close: () => client.close(),
    };
  },

  async 'LangChain.js'() {
    const { MultiServerMCPClient } = await import('@langchain/mcp-adapters');
    const client = new MultiServerMCPClient({ mcpServers: { vapi: { transport: 'stdio', command: setup.node, args: SERVER_ARGS, env: ENV } } });
    const tools = await client.getTools();
    return {
      tools: new Map(
        tools.map((tool) => [
          tool.name.replace(/^(mcp__)?vapi__/, ''),
          { schema: tool.schema, run: async (args) => parseResult(await tool.invoke(args)) },
        ]),
      ),
      close: () => client.close(),
    };
  },

  async 'OpenAI Agents JS (strict)'() {
    const { MCPServerStdio, getAllMcpTools, RunContext } = await import('@openai/agents-core');
    const server = new MCPServerStdio({ name: 'vapi', command: setup.node, args: SERVER_ARGS, env: ENV });
    await server.connect();
    const tools = await getAllMcpTools({ mcpServers: [server], convertSchemasToStrict: true });
    const context = new RunContext();
    return {
      strict: true,
      tools: new Map(
        tools.map((tool) => [
          tool.name,
          {
            schema: tool.parameters,
            strictOk: tool.strict === true,
            // A strict-mode model sends every property, null for those it leaves out.
            run: async (args) => parseResult(await tool.invoke(context, JSON.stringify(strictArguments(tool.parameters, args)))),
          },
        ]),
      ),
      close: () => server.close(),
    };
  },

  async Mastra() {
    const { MCPClient } = await import('@mastra/mcp');
    const client = new MCPClient({ id: 'vapi-compat', servers: { vapi: { command: setup.node, args: SERVER_ARGS, env: ENV } } });
    const tools = await client.listTools();
    return {
      tools: new Map(
        Object.entries(tools).map(([id, tool]) => [
          id.replace(/^vapi_/, ''),
          {
            schema: mastraJsonSchema(tool.inputSchema),
            run: async (args) => {
              const checked = await tool.inputSchema['~standard'].validate(args);
              if (checked.issues) throw new Error(`Mastra refused the arguments: ${JSON.stringify(checked.issues)}`);
              const result = await tool.execute(args, {});
              if (result?.isError || result instanceof Error) throw new Error(String(result.message ?? textOf(result.content)));
              return parseResult(result);
            },
          },
        ]),
      ),
      close: () => client.disconnect(),
    };
  },
};

function mastraJsonSchema(schema) {
  const standard = schema?.['~standard'];
  const json = standard?.jsonSchema?.input?.({ target: 'draft-07' }) ?? schema?.jsonSchema ?? schema;
  return withoutKeys(json, ['$schema']);
}

/** Arguments as a strict-mode model sends them: every property of the strict schema present, null when unused. */
function strictArguments(schema, args) {
  const node = unwrapNullable(schema);
  if (!node?.properties || typeof args !== 'object' || args === null || Array.isArray(args)) return args;
  return Object.fromEntries(Object.keys(node.properties).map((key) => [key, key in args ? strictArguments(node.properties[key], args[key]) : null]));
}

function withoutKeys(node, keys) {
  if (Array.isArray(node)) return node.map((item) => withoutKeys(item, keys));
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([key]) => !keys.includes(key)).map(([key, value]) => [key, key === 'default' || key === 'enum' ? value : withoutKeys(value, keys)]));
}

function textOf(content) {
  return (Array.isArray(content) ? content : []).map((block) => block?.text ?? '').join('');
}

/** The tool result as JSON, whatever shape the framework hands back (string, content blocks, structured object). */
function parseResult(value) {
  if (typeof value === 'string') return JSON.parse(value);
  if (Array.isArray(value)) return parseResult(value.find((block) => typeof block === 'string' || block?.type === 'text')?.text ?? value[0]);
  if (value && typeof value === 'object' && value.type === 'text') return JSON.parse(value.text);
  if (value && typeof value === 'object' && Array.isArray(value.content) && value.structuredContent === undefined && value.status === undefined) return parseResult(value.content);
  if (value && typeof value === 'object' && value.structuredContent) return value.structuredContent;
  return value;
}

// ---- The walk --------------------------------------------------------------------------------------------

function serverPids() {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes(setup.server) && cmdline.includes('--simulate') && readFileSync(`/proc/${entry}/status`, 'utf8').includes(`PPid:\t${process.pid}\n`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function gone(pids, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter((pid) => {
      try {
        return !readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ');
      } catch {
        return false;
      }
    });
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function walk(name, connect) {
  const checks = [];
  const check = (what, ok, detail = '') => {
    checks.push({ what, ok, detail });
    if (!ok) throw new Error(`${what}${detail ? `: ${detail}` : ''}`);
  };
  const started = Date.now();
  let session;
  try {
    session = await connect();
    const { tools } = session;
    const missing = [...listed.keys()].filter((tool) => tool !== 'console_updates' && !tools.has(tool));
    check(`${tools.size} tools listed`, missing.length === 0, `missing ${missing.join(', ')}`);
    const losses = [...listed].filter(([tool]) => tools.has(tool)).flatMap(([tool, schema]) => schemaLoss(withoutKeys(schema, ['$schema']), tools.get(tool).schema, tool, { nullable: session.strict }));
    check('every input schema converted without loss', losses.length === 0, losses.slice(0, 8).join('; '));
    if (session.strict) {
      const loose = [...tools].filter(([, tool]) => !tool.strictOk).map(([tool]) => tool);
      check('every tool kept in strict mode', loose.length === 0, loose.join(', '));
    }
    const run = (tool, args) => tools.get(tool).run(args);

    const dry = await run('create_call', { customer: { number: NUMBER }, dryRun: true, variableValues: [{ name: 'slot', value: '3pm' }] });
    check('dry run', dry?.status === 'dry-run' && typeof dry.confirmationToken === 'string', JSON.stringify(dry).slice(0, 200));
    const placed = await run('create_call', { customer: { number: NUMBER } });
    check('call placed', typeof placed?.callId === 'string' && placed.simulated === true, JSON.stringify(placed).slice(0, 200));
    const lines = [];
    let sinceSeq = 0;
    for (let reads = 0; lines.length < 2 && reads < 30; reads++) {
      const read = await run('read_transcript', { callId: placed.callId, sinceSeq, waitSeconds: 5 });
      lines.push(...read.lines);
      sinceSeq = read.nextSeq;
    }
    check(`read_transcript: ${lines.length} lines`, lines.length >= 2 && lines.every((line) => typeof line.text === 'string'));
    const said = await run('inject_say', { callId: placed.callId, content: 'One moment, please.' });
    check('inject_say', said?.accepted === true, JSON.stringify(said).slice(0, 200));
    const ended = await run('end_call', { callId: placed.callId });
    check('end_call', ended?.accepted === true, JSON.stringify(ended).slice(0, 200));
    const record = await run('get_call', { callId: placed.callId });
    check('get_call', record?.callId === placed.callId, JSON.stringify(record).slice(0, 200));

    const pids = serverPids();
    check('server process found', pids.length > 0);
    await session.close();
    session = undefined;
    const left = await gone(pids, 10_000);
    check('close leaves no server process', left.length === 0, `still running: ${left.join(', ')}`);
    return { name, ok: true, checks, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    await session?.close().catch(() => undefined);
    return { name, ok: false, checks, error: err instanceof Error ? err.message : String(err), seconds: (Date.now() - started) / 1000 };
  }
}

const results = [];
for (const [name, connect] of Object.entries(FRAMEWORKS)) {
  if (setup.only && !setup.only.some((wanted) => name.toLowerCase().includes(wanted.toLowerCase()))) continue;
  results.push(await walk(name, connect));
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
