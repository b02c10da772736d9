/** The view's one connection to the host (MCP Apps, over postMessage) and the server's tools through it. */
import { App, applyDocumentTheme, applyHostFonts, applyHostStyleVariables } from '@modelcontextprotocol/ext-apps';
import { failureOf, hostFailure, resultJson, type Failure } from './format.js';

export const app = new App({ name: 'vapi-call-console', version: '1.0.0' }, {}, { autoResize: true });

export function applyHostContext(context: ReturnType<App['getHostContext']>): void {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
}

/** Calls one of the server's tools through the host; a refusal or a host failure comes back as a Failure. */
export async function callTool(name: string, args: Record<string, unknown>): Promise<{ ok: true; data: Record<string, unknown> } | { ok: false; failure: Failure }> {
  try {
    const result = await app.callServerTool({ name, arguments: args });
    if (result.isError) return { ok: false, failure: failureOf(result) };
    return { ok: true, data: resultJson(result) ?? {} };
  } catch (err) {
    return { ok: false, failure: hostFailure(err) };
  }
}
