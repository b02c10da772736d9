/**
 * The live call console's `ui://` resource: one self-contained HTML document (script and styles inlined at
 * build time by scripts/build-view.mjs), served with the MCP Apps mime type and a CSP that allows no origin.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { RESOURCE_MIME_TYPE, registerAppResource } from '@modelcontextprotocol/ext-apps/server';

export const CONSOLE_URI = 'ui://vapi-call-mcp/console.html';
export const CONSOLE_MIME_TYPE = RESOURCE_MIME_TYPE;

/**
 * Built next to this module in dist/mcp/app; when this module runs from source (tests), the build's copy in dist.
 */
const CANDIDATES = [new URL('./console.html', import.meta.url), new URL('../../../dist/mcp/app/console.html', import.meta.url)].map((url) => fileURLToPath(url));

export function consoleHtmlPath(): string {
  return CANDIDATES.find((file) => existsSync(file)) ?? CANDIDATES[0];
}

/** The view reaches nothing outside the document: no fetch, no images, fonts or scripts from anywhere. */
const CSP = { connectDomains: [] as string[], resourceDomains: [] as string[] };

export function registerConsoleResource(mcp: McpServer): void {
  let html: Promise<string> | undefined;
  registerAppResource(
    mcp,
    'Live call console',
    CONSOLE_URI,
    {
      description: 'Interactive view of a live call: transcript as it happens, who is talking, and controls (MCP Apps)',
      _meta: { ui: { csp: CSP, prefersBorder: true } },
    },
    async () => {
      html ??= readFile(consoleHtmlPath(), 'utf8').catch((err: unknown) => {
        html = undefined;
        throw new Error(`the console view is not built (${err instanceof Error && 'code' in err ? String(err.code) : 'unreadable'}); run npm run build`);
      });
      return { contents: [{ uri: CONSOLE_URI, mimeType: RESOURCE_MIME_TYPE, text: await html, _meta: { ui: { csp: CSP, prefersBorder: true } } }] };
    },
  );
}
