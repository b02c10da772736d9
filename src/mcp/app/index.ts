/**
 * The live call console (an MCP App): the `ui://` view, its app-only data tool, and the `_meta` that links
 * create_call, listen_call and get_call to it. Clients without MCP Apps ignore all of it.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { RESOURCE_URI_META_KEY } from '@modelcontextprotocol/ext-apps/server';
import type { ToolDefinition } from '../tools/define.js';
import { CONSOLE_URI, registerConsoleResource } from './console-resource.js';
import { CONSOLE_UPDATES_TOOL, consoleUpdatesTool, type ToolAllowed } from './console-updates.js';

export { CONSOLE_URI, CONSOLE_MIME_TYPE } from './console-resource.js';
export { CONSOLE_UPDATES_TOOL } from './console-updates.js';

/** Tools whose results open the console. */
export const CONSOLE_LINKED_TOOLS: ReadonlySet<string> = new Set(['create_call', 'listen_call', 'get_call']);

export interface ConsoleApp {
  /** Registered with the other tools, so it shares their envelope, redaction and simulated marker. */
  tools: ToolDefinition[];
  /** `_meta` for a tool: the view link for linked tools, app-only visibility for the console's own. */
  metaFor(toolName: string): Record<string, unknown> | undefined;
  registerResource(mcp: McpServer): void;
}

/** `allowed` says which tools the connection may call, so the view shows only the controls it can use. */
export function consoleApp(allowed: ToolAllowed = () => true): ConsoleApp {
  return {
    tools: [consoleUpdatesTool(allowed)],
    metaFor(toolName) {
      if (toolName === CONSOLE_UPDATES_TOOL) return { ui: { resourceUri: CONSOLE_URI, visibility: ['app'] } };
      // The flat key is the extension's older spelling; hosts of that era read only it.
      if (CONSOLE_LINKED_TOOLS.has(toolName)) return { ui: { resourceUri: CONSOLE_URI }, [RESOURCE_URI_META_KEY]: CONSOLE_URI };
      return undefined;
    },
    registerResource: registerConsoleResource,
  };
}
