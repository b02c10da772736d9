/**
 * A minimal MCP Apps host for the browser test: it renders a view in a sandboxed iframe and plays the host side
 * with the extension's own AppBridge. Tool calls from the view go to `window.hostCallTool`, which the test
 * exposes from Node, where a real SDK Client talks to the real server.
 */
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';

declare global {
  interface Window {
    hostCallTool(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
    openView(html: string, options: { toolInput: Record<string, unknown>; toolResult: Record<string, unknown>; theme: 'light' | 'dark' }): Promise<void>;
    setTheme(theme: 'light' | 'dark'): Promise<void>;
  }
}

window.openView = async (html, options) => {
  const iframe = document.createElement('iframe');
  iframe.setAttribute('sandbox', 'allow-scripts');
  iframe.title = 'Live call console';
  iframe.style.cssText = 'width: 100%; height: 900px; border: 0;';
  document.body.append(iframe);

  const bridge = new AppBridge(null, { name: 'browser-test-host', version: '0.0.0' }, { serverTools: {}, logging: {} });
  bridge.oncalltool = async (params) => (await window.hostCallTool(params.name, params.arguments ?? {})) as never;
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${Math.ceil(height)}px`;
  };
  bridge.setHostContext({ theme: options.theme, displayMode: 'inline', containerDimensions: { maxHeight: 1200, width: 420 } });
  const initialized = new Promise<void>((resolve) => (bridge.oninitialized = () => resolve()));
  // Listen before the document loads: the view says hello as soon as its script runs.
  await bridge.connect(new PostMessageTransport(iframe.contentWindow!, iframe.contentWindow!));
  iframe.srcdoc = html;
  await initialized;
  await bridge.sendToolInput({ arguments: options.toolInput });
  await bridge.sendToolResult(options.toolResult as never);
  window.setTheme = async (theme) => {
    await bridge.sendHostContextChange({ theme });
  };
};
