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

export function toolsFor(options: { readOnly: boolean }): ToolDefinition[] {
  return ALL_TOOLS.filter((tool) => !options.readOnly || !tool.changesCalls);
}

export interface RegisterToolsOptions {
  /** Builds the SDK-free per-call context from the SDK's request extra. */
  contextFor(extra: { signal: AbortSignal }): OperationContext;
  /** Tools registered after the catalog (the console's app-only tool). */
  extraTools?: readonly ToolDefinition[];
  /** `_meta` for a tool's listing (MCP Apps links). */
  metaFor?(toolName: string): Record<string, unknown> | undefined;
}

export function registerTools(mcp: McpServer, core: CallCore, options: RegisterToolsOptions): void {
  const { config, redact } = core;
  const tools = [...toolsFor({ readOnly: config.readOnly }), ...(options.extraTools ?? [])];
  envelopeSdkFailures(mcp, tools.map((t) => t.name), config.simulated, redact);
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
          return success(structured, redact);
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
function envelopeSdkFailures(mcp: McpServer, toolNames: string[], simulated: boolean, redact: (text: string) => string): void {
  (mcp as unknown as { createToolError(message: string): CallToolResult }).createToolError = (message) => {
    const unknownTool = /Tool (.+) not found/.exec(message)?.[1];
    const nearest = unknownTool === undefined ? undefined : nearestName(unknownTool, toolNames);
    const envelope: CallFailure = unknownTool !== undefined
      ? {
          status: 'error',
          code: 'unknown-tool',
          reason: `There is no tool named "${unknownTool.slice(0, 60)}"${nearest ? ` (did you mean "${nearest}"?)` : ''}.`,
          suggestion: `Use one of: ${toolNames.join(', ')}.`,
          retryable: false,
        }
      : { status: 'error', code: 'invalid-request', reason: message.replace(/^MCP error -?\d+: /, ''), suggestion: 'Check the tool name and arguments against tools/list.', retryable: false };
    return failure(simulated ? { ...envelope, simulated: true } : envelope, redact);
  };
}

function toFailure(err: unknown, toolName: string, core: CallCore): CallFailure {
  if (err instanceof CallError) return err.failure;
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
 * Structured content and the same JSON as text, passed through the redactor as a last line of defence. Text is the
 * one content block every framework takes (Anthropic's Python helpers raise on resource_link): the transcript URI
 * is in the JSON.
 */
function success(structured: Record<string, unknown>, redact: (text: string) => string): CallToolResult {
  const text = redact(JSON.stringify(structured));
  return { content: [{ type: 'text', text }], structuredContent: JSON.parse(text) as Record<string, unknown> };
}

/**
 * The failure envelope travels as text only: SDK clients validate any structuredContent against the tool's
 * outputSchema even on isError results, and the envelope is not the success shape.
 */
function failure(fail: CallFailure & { simulated?: boolean }, redact: (text: string) => string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: redact(JSON.stringify(fail)) }] };
}
