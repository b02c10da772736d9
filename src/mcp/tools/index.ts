/**
 * The tool catalog and its one bridge to the MCP SDK: every tool is registered through `registerTools`, so
 * result shaping, error conversion, redaction and the simulated marker happen in one place for all of them.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { CallCore } from '../../core/call-core.js';
import { CallError, type CallFailure } from '../../core/errors.js';
import type { OperationContext } from '../../core/parts.js';
import { addMessageTool } from './add-message.js';
import { listedInput, nearestName, parseArguments, strictInput } from './arguments.js';
import { createCallTool } from './create-call.js';
import type { ToolDefinition } from './define.js';
import { FULL_RIGHTS, type Scope } from '../rights.js';
import { endAllCallsTool } from './end-all-calls.js';
import { endCallTool } from './end-call.js';
import { getCallTool } from './get-call.js';
import { injectSayTool } from './inject-say.js';
import { listCallsTool } from './list-calls.js';
import { listenCallTool } from './listen-call.js';
import { readTranscriptTool } from './read-transcript.js';
import { readTranscriptsTool } from './read-transcripts.js';
import { setMuteTool } from './set-mute.js';
import { stopListeningTool } from './stop-listening.js';
import { transferCallTool } from './transfer-call.js';

/** In the order clients list them. */
export const ALL_TOOLS: readonly ToolDefinition[] = [
  createCallTool,
  listCallsTool,
  getCallTool,
  listenCallTool,
  readTranscriptTool,
  readTranscriptsTool,
  stopListeningTool,
  injectSayTool,
  addMessageTool,
  setMuteTool,
  transferCallTool,
  endCallTool,
  endAllCallsTool,
] as unknown as ToolDefinition[];

export interface ToolGate {
  readOnly: boolean;
  /** The connection's scopes; every scope when absent (stdio, the static bearer token). */
  rights?: ReadonlySet<Scope>;
}

export function toolsFor(gate: ToolGate): ToolDefinition[] {
  return ALL_TOOLS.filter((tool) => isAllowed(tool, gate));
}

function isAllowed(tool: ToolDefinition, { readOnly, rights = FULL_RIGHTS }: ToolGate): boolean {
  return rights.has(tool.scope) && (!readOnly || tool.scope === 'calls:read');
}

/** Why a tool of the catalog is not offered to this connection: read-only mode or a scope it lacks. */
function withheld(toolName: string, gate: ToolGate, allowed: string[]): CallFailure | undefined {
  const tool = ALL_TOOLS.find((t) => t.name === toolName);
  if (!tool || isAllowed(tool, gate)) return undefined;
  if (gate.readOnly && tool.scope !== 'calls:read') {
    return {
      status: 'error',
      code: 'read-only',
      reason: `${toolName} changes calls, and this server runs in read-only mode.`,
      suggestion: `Use one of: ${allowed.join(', ')}; the operator can restart the server without --read-only.`,
      retryable: false,
    };
  }
  return {
    status: 'error',
    code: 'insufficient-scope',
    reason: `${toolName} needs the scope ${tool.scope}, which this connection was not granted.`,
    suggestion: `Ask the operator to reconnect this client granting ${tool.scope}; meanwhile use one of: ${allowed.join(', ') || 'no tool'}.`,
    retryable: false,
  };
}

export interface RegisterToolsOptions {
  /** Builds the SDK-free per-call context from the SDK's request extra. */
  contextFor(extra: { signal: AbortSignal }): OperationContext;
  /** Tools registered after the catalog (the console's app-only tool). */
  extraTools?: readonly ToolDefinition[];
  /** The connection's scopes (OAuth); every scope when absent. */
  rights?: ReadonlySet<Scope>;
  /** `_meta` for a tool's listing (MCP Apps links). */
  metaFor?(toolName: string): Record<string, unknown> | undefined;
  /** The catalog instead of the configured one (ALL_TOOLS less what read-only hides). */
  tools?: readonly ToolDefinition[];
}

export function registerTools(mcp: McpServer, core: CallCore, options: RegisterToolsOptions): void {
  const { config, redact } = core;
  const gate: ToolGate = { readOnly: config.readOnly, rights: options.rights };
  const tools = [...(options.tools ?? toolsFor(gate)), ...(options.extraTools ?? []).filter((tool) => isAllowed(tool, gate))];
  envelopeSdkFailures(mcp, tools.map((t) => t.name), config.simulated, redact, (name, allowed) => withheld(name, gate, allowed));
  for (const tool of tools) {
    const meta = options.metaFor?.(tool.name);
    const outputSchema = z.object({
      ...tool.output,
      simulated: z.boolean().optional().describe('Present and true when the server talks to the built-in Vapi simulator, not real Vapi'),
    });
    const input = strictInput(tool.input);
    mcp.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: listedInput(input),
        outputSchema,
        annotations: { title: tool.title, ...tool.annotations },
        ...(meta ? { _meta: meta } : {}),
      },
      (async (args: unknown, extra: { signal: AbortSignal }) => {
        try {
          const parsed = parseArguments(tool.name, input, args);
          const result = await tool.run(core, parsed as never, options.contextFor(extra));
          const structured = config.simulated ? { ...result, simulated: true } : result;
          return success(tool.name, outputSchema, structured, redact);
        } catch (err) {
          const envelope = toFailure(err, tool.name, core);
          return failure(config.simulated ? { ...envelope, simulated: true } : envelope, redact);
        }
      }) as never,
    );
  }
}

/**
 * The few failures the SDK reports before a handler runs (an unknown or disabled tool) come through its
 * createToolError; routing them into the envelope keeps one error shape for every tools/call failure.
 * createToolError is private in the SDK's types (pinned ~1.32), hence the cast; test/mcp-strict.test.ts covers it.
 */
function envelopeSdkFailures(
  mcp: McpServer,
  toolNames: string[],
  simulated: boolean,
  redact: (text: string) => string,
  withheldFailure: (toolName: string, allowed: string[]) => CallFailure | undefined,
): void {
  (mcp as unknown as { createToolError(message: string): CallToolResult }).createToolError = (message) => {
    const unknownTool = /Tool (.+) not found/.exec(message)?.[1];
    const nearest = unknownTool === undefined ? undefined : nearestName(unknownTool, toolNames);
    const detail = message.replace(/^MCP error -?\d+: /, '');
    const withheldTool = unknownTool === undefined ? undefined : withheldFailure(unknownTool, toolNames);
    const envelope: CallFailure = withheldTool ?? (unknownTool !== undefined
      ? {
          status: 'error',
          code: 'unknown-tool',
          reason: `There is no tool named "${unknownTool.slice(0, 60)}"${nearest ? ` (did you mean "${nearest}"?)` : ''}.`,
          suggestion: `Use one of: ${toolNames.join(', ')}.`,
          retryable: false,
        }
      : /^Output validation error/i.test(detail)
        ? invalidOutput(detail).failure
        : { status: 'error', code: 'invalid-request', reason: detail, suggestion: 'Check the tool name and arguments against tools/list.', retryable: false });
    return failure(simulated ? { ...envelope, simulated: true } : envelope, redact);
  };
}

/** The server could not produce a valid result: its fault, never the caller's, whose arguments were right. */
function invalidOutput(detail: string): CallError {
  return new CallError({
    code: 'internal-error',
    reason: `${detail}. This is a fault in this server, not in the arguments, which were valid.`,
    suggestion: 'Do not change the arguments. Try again in a moment; if it keeps failing, other tools still work, and the operator will find the details in the server log (stderr).',
    retryable: true,
  });
}

function toFailure(err: unknown, toolName: string, core: CallCore): CallFailure {
  if (err instanceof CallError) {
    if (err.failure.code === 'internal-error') core.logger.error(`${toolName} failed inside this server`, { error: err.failure.reason });
    return err.failure;
  }
  core.logger.error(`${toolName} failed unexpectedly`, { error: err instanceof Error ? err.message : String(err) });
  return {
    status: 'error',
    code: 'internal-error',
    reason: `${toolName} failed inside this server: ${err instanceof Error ? err.message : String(err)}`,
    suggestion: 'Try again; if it keeps failing, the server log (stderr) has details for the operator.',
    retryable: true,
  };
}

/**
 * Structured content and the same JSON as text, passed through the redactor as a last line of defence, and
 * checked against the tool's output schema as the client will see it (after JSON: a NaN there is a null): a
 * result this server cannot produce correctly is its own fault, never the caller's. Text is the one content block
 * every framework takes (Anthropic's Python helpers raise on resource_link): the transcript URI is in the JSON.
 */
function success(toolName: string, outputSchema: z.ZodType, structured: Record<string, unknown>, redact: (text: string) => string): CallToolResult {
  const text = redact(JSON.stringify(structured));
  const checked = outputSchema.safeParse(JSON.parse(text));
  if (!checked.success) {
    const problems = checked.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || 'result'}: ${issue.message}`);
    throw invalidOutput(`${toolName} produced a result that does not match its output schema (${problems.join('; ')})`);
  }
  return { content: [{ type: 'text', text }], structuredContent: JSON.parse(text) as Record<string, unknown> };
}

/**
 * The failure envelope travels as text only: SDK clients validate any structuredContent against the tool's
 * outputSchema even on isError results, and the envelope is not the success shape.
 */
function failure(fail: CallFailure & { simulated?: boolean }, redact: (text: string) => string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: redact(JSON.stringify(fail)) }] };
}
