/**
 * The live call console in a real browser: Debian's Chromium (driven by playwright-core, never a downloaded
 * browser) loads a small host page that plays the MCP Apps host with the extension's AppBridge; the view it
 * renders calls the real server (SDK Client, in-process) against the simulator (real sockets).
 *
 * Also measured (printed, never asserted): final transcript at the simulator → line in the view's DOM, and the
 * server-side CPU of one open view on an idle call.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_URI } from '../src/mcp/app/index.js';
import type { ScriptTurn } from '../src/sim/index.js';
import { follow, startHarness, until, VALID_NUMBER, type Harness } from './helpers/harness.js';
import { simApi } from './helpers/sim.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BROWSER_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p));
}

const executablePath = findChromium();
if (!executablePath) {
  process.stderr.write(
    'app-console-browser: SKIPPED - no Chromium found (looked at $CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser). ' +
      'Install it with: apt-get install -y chromium\n',
  );
}

let context: BrowserContext;
let userDataDir: string;
let hostScript: string;
let viewHtml: string;
let h: Harness | undefined;
let page: Page | undefined;
/** Wall time (performance.now) at which the simulator sent each final transcript, by "role|text". */
const finalSentAt = new Map<string, number>();
const finalToDomMs: number[] = [];
/** Finals sent before the open view watched its DOM would time the view's start-up, not delivery. */
let watchingSince = Infinity;

beforeAll(async () => {
  if (!executablePath) return;
  userDataDir = await mkdtemp(path.join(tmpdir(), 'vapi-console-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: BROWSER_FLAGS,
    viewport: { width: 460, height: 1000 },
  });
  const bundle = await build({
    entryPoints: [path.join(ROOT, 'test/browser/host.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  hostScript = bundle.outputFiles[0].text;
}, 60_000);

afterAll(async () => {
  if (!executablePath) return;
  await context?.close();
  await rm(userDataDir, { recursive: true, force: true });
  if (finalToDomMs.length > 0) {
    const sorted = [...finalToDomMs].sort((a, b) => a - b);
    const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
    process.stderr.write(`console view: final transcript at the simulator → line in the DOM, n=${sorted.length}: p50 ${pick(0.5)} ms, p95 ${pick(0.95)} ms\n`);
  }
});

afterEach(async () => {
  await page?.close();
  page = undefined;
  await h?.close();
  h = undefined;
});

async function start(options: { speed?: number; script?: ScriptTurn[]; hangupAfterScript?: boolean; readOnly?: boolean } = {}): Promise<Harness> {
  h = await startHarness({
    ...(options.readOnly ? { config: { readOnly: true } } : {}),
    sim: {
      hangupAfterScript: options.hangupAfterScript ?? false,
      speed: options.speed ?? 10,
      ...(options.script ? { script: options.script } : {}),
      onEvent: (_callId, event) => {
        if (event.type === 'transcript' && event.transcriptType === 'final') {
          const role = event.role === 'user' ? 'customer' : 'assistant';
          finalSentAt.set(`${role}|${String(event.transcript)}`, performance.now());
        }
      },
    },
  });
  const read = await h.client.readResource({ uri: CONSOLE_URI });
  viewHtml = (read.contents[0] as { text: string }).text;
  return h;
}

/** Opens the view in the test host as the result of `toolName`, the way a host would. */
async function openView(harness: Harness, toolInput: Record<string, unknown>, toolResult: unknown): Promise<Frame> {
  page = await context.newPage();
  watchingSince = Infinity;
  await page.exposeFunction('hostCallTool', async (name: string, args: Record<string, unknown>) => harness.client.callTool({ name, arguments: args }));
  await page.exposeFunction('lineSeen', (role: string, text: string) => {
    const sentAt = finalSentAt.get(`${role}|${text}`);
    if (sentAt !== undefined && sentAt >= watchingSince) finalToDomMs.push(performance.now() - sentAt);
  });
  await page.setContent(`<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0"><script>${hostScript}</script></body></html>`);
  await page.evaluate(
    `window.openView(${JSON.stringify(viewHtml)}, { toolInput: ${JSON.stringify(toolInput)}, toolResult: ${JSON.stringify(toolResult)}, theme: 'light' })`,
  );
  const frame = page.frames().find((f) => f !== page!.mainFrame());
  if (!frame) throw new Error('the view frame did not appear');
  // Time each transcript line as it enters the DOM. (Browser-side code is passed as text: this file has no DOM types.)
  await frame.evaluate(`
    new MutationObserver((mutations) => {
      for (const mutation of mutations) for (const item of mutation.addedNodes) {
        if (item.dataset && item.dataset.seq) window.lineSeen(item.dataset.role, item.querySelector('.text').textContent);
      }
    }).observe(document.getElementById('transcript'), { childList: true });
    // Which party the meters ever showed speaking alone (its meter up, the other's low), checked at every redraw.
    window.meterSeen = { customer: false, assistant: false };
    const meterState = (role) => { const m = document.getElementById('meter-' + role); return { speaking: m.dataset.speaking === 'true', level: Number(m.dataset.level) }; };
    new MutationObserver(() => {
      const customer = meterState('customer');
      const assistant = meterState('assistant');
      if (customer.speaking && !assistant.speaking && customer.level > 50 && assistant.level < 25) window.meterSeen.customer = true;
      if (assistant.speaking && !customer.speaking && assistant.level > 50 && customer.level < 25) window.meterSeen.assistant = true;
    }).observe(document.getElementById('meter-customer').parentElement, { attributes: true, subtree: true, attributeFilter: ['data-speaking', 'data-level'] });
  `);
  watchingSince = performance.now();
  return frame;
}

const controls = (harness: Harness, callId: string, type: string) =>
  harness.sim.controlLog.filter((c) => c.callId === callId && (c.body as { type: string }).type === type).map((c) => c.body);

describe.skipIf(!executablePath)('live call console in Chromium', () => {
  it('shows the call as it happens and steers it: Say, Whisper, End with a second click, then the outcome', async () => {
    // Slow enough that each party speaks alone for about a second of wall time: the meters must show both.
    const harness = await start({ speed: 4 });
    const args = { customer: { number: VALID_NUMBER, name: 'Ada' } };
    const created = await harness.client.callTool({ name: 'create_call', arguments: args });
    const callId = (created.structuredContent as { callId: string }).callId;
    const frame = await openView(harness, args, created);

    // Lines appear in the order the simulator speaks them.
    await frame.locator('#transcript li').nth(3).waitFor({ timeout: 20_000 });
    const shown = (await frame.evaluate(
      `[...document.querySelectorAll('#transcript li')].map((item) => ({ seq: Number(item.dataset.seq), role: item.dataset.role, text: item.querySelector('.text').textContent }))`,
    )) as { seq: number; role: string; text: string }[];
    const server = await follow(harness, callId, (_read, lines) => lines.length >= shown.length);
    expect(shown.map((l) => l.seq)).toEqual(shown.map((_, i) => i + 1));
    expect(shown).toEqual(server.lines.slice(0, shown.length).map((l) => ({ seq: l.seq, role: l.role, text: l.text })));
    expect(await frame.locator('#transcript li.caller .who').first().textContent()).toBe('Caller said:');
    expect(await frame.locator('#call-number').textContent()).toBe(VALID_NUMBER);

    // Who is talking: the meters follow each party's measured level; the speaking party's meter is up while the
    // other's stays low.
    // Every state the meters pass through is checked in the page as it is drawn (openView observes them), so a
    // slow test process cannot miss one between two looks.
    await until(
      () => frame.evaluate(`window.meterSeen.customer && window.meterSeen.assistant`),
      60_000,
      'each party\'s meter up while it speaks alone, the other\'s low',
    );
    expect(await frame.locator('#meter-note').textContent()).toBe('');

    // Screenshots for the README, in the host's light theme and then its dark one.
    const shotDir = process.env.UPDATE_SCREENSHOT === '1' ? path.join(ROOT, 'docs') : tmpdir();
    await mkdir(shotDir, { recursive: true });
    await page!.locator('iframe').screenshot({ path: path.join(shotDir, 'console-view.png') });
    await page!.evaluate(`window.setTheme('dark')`);
    await frame.locator('html[data-theme="dark"]').waitFor({ state: 'attached' });
    await page!.locator('iframe').screenshot({ path: path.join(shotDir, 'console-view-dark.png') });
    await page!.evaluate(`window.setTheme('light')`);
    process.stderr.write(`console view screenshots: ${path.join(shotDir, 'console-view{,-dark}.png')}\n`);

    // Mute and unmute the caller; the header follows what the server set.
    await frame.locator('#toggle-mute-customer').click();
    await frame.locator('#mute-customer', { hasText: 'Caller: muted' }).waitFor();
    expect(await frame.locator('#toggle-mute-customer').getAttribute('aria-pressed')).toBe('true');
    await frame.locator('#toggle-mute-customer').click();
    await frame.locator('#mute-customer', { hasText: 'Caller: not muted' }).waitFor();
    expect(controls(harness, callId, 'control')).toEqual([
      { type: 'control', control: 'mute-customer' },
      { type: 'control', control: 'unmute-customer' },
    ]);

    // Say: exactly one say body.
    await frame.locator('#say-text').fill('Your new time is Thursday at three fifteen.');
    await frame.locator('#say').click();
    await frame.getByText('Saying it: done.').waitFor();
    expect(controls(harness, callId, 'say')).toEqual([{ type: 'say', content: 'Your new time is Thursday at three fifteen.' }]);

    // Whisper: a system message that asks for no reply.
    await frame.locator('#whisper-text').fill('Keep it short, the customer is busy');
    await frame.locator('#whisper').click();
    await frame.getByText('Whispering to the assistant: done.').waitFor();
    expect(controls(harness, callId, 'add-message')).toEqual([
      { type: 'add-message', message: { role: 'system', content: 'Keep it short, the customer is busy' }, triggerResponseEnabled: false },
    ]);

    // End: the first click only arms the button.
    await frame.locator('#end').click();
    await frame.locator('#end[data-armed="true"]').waitFor();
    expect(controls(harness, callId, 'end-call')).toEqual([]);
    await frame.locator('#end').click();
    await frame.locator('#outcome').waitFor({ state: 'visible', timeout: 20_000 });
    await frame.locator('#outcome-reason', { hasText: 'assistant-ended-call' }).waitFor();
    expect(controls(harness, callId, 'end-call')).toEqual([{ type: 'end-call' }]);
    await frame.locator('#outcome-cost', { hasText: '$' }).waitFor();
    await frame.locator('#header-outcome', { hasText: /^Ended: assistant-ended-call · \d+:\d\d · \$/ }).waitFor();
    expect(await frame.locator('#outcome-recording').textContent()).toMatch(new RegExp(`${callId}\\.wav$`));
    expect(await frame.locator('#status').textContent()).toBe('ended');
    expect(await frame.locator('#end').isDisabled()).toBe(true);
    // The transcript is kept, and the whisper got no spoken reply.
    const finalLines = await frame.locator('#transcript li .text').allTextContents();
    expect(finalLines.length).toBeGreaterThanOrEqual(shown.length);
    expect(finalLines.some((text) => text.startsWith('Understood: Keep it short'))).toBe(false);
  }, 90_000);

  it('places exactly one call from the dry-run card\'s Place call, then transfers it with a second click', async () => {
    const harness = await start();
    const args = { customer: { number: VALID_NUMBER }, firstMessage: 'Hello from the console', dryRun: true };
    const dry = await harness.client.callTool({ name: 'create_call', arguments: args });
    const frame = await openView(harness, args, dry);
    await frame.locator('#preview').waitFor({ state: 'visible' });
    expect(await frame.locator('#preview-number').textContent()).toBe(VALID_NUMBER);
    expect(await frame.locator('#preview-first').textContent()).toBe('Hello from the console');
    const posts = () => harness.sim.requests.filter((r) => r.method === 'POST' && r.path === '/call');
    expect(posts()).toHaveLength(0);

    await frame.locator('#place').click();
    await frame.locator('#call').waitFor({ state: 'visible' });
    await frame.locator('#transcript li').first().waitFor({ timeout: 20_000 });
    expect(posts()).toHaveLength(1);
    expect((posts()[0].body as { assistantOverrides: { firstMessage: string } }).assistantOverrides.firstMessage).toBe('Hello from the console');
    expect(await frame.locator('#preview').isHidden()).toBe(true);
    const callId = harness.server.core.listeners.list()[0].callId;

    // Transfer: a refused destination shows the tool's reason and suggestion in words; nothing is sent.
    await frame.locator('#transfer-to').fill('+19005551234');
    await frame.locator('#transfer').click();
    await frame.locator('#transfer[data-armed="true"]').waitFor();
    await frame.locator('#transfer').click();
    await frame.locator('#feedback[data-kind="error"]').waitFor();
    const refusal = await frame.locator('#feedback').textContent();
    expect(refusal).toMatch(/^Transferring to \+19005551234 failed: .*premium/i);
    expect(controls(harness, callId, 'transfer')).toEqual([]);

    // A good destination, with its second click, transfers once.
    await frame.locator('#transfer-to').fill('+442071838750');
    await frame.locator('#transfer').click();
    expect(controls(harness, callId, 'transfer')).toEqual([]);
    await frame.locator('#transfer').click();
    await frame.locator('#outcome-reason', { hasText: 'assistant-forwarded-call' }).waitFor({ timeout: 20_000 });
    expect(controls(harness, callId, 'transfer')).toEqual([{ type: 'transfer', destination: { type: 'number', number: '+442071838750' } }]);
  }, 60_000);

  it('shows a connection that may only watch no controls, and says so', async () => {
    const harness = await start({ readOnly: true });
    // Read-only: the call is placed behind the server's back, straight at the simulator.
    const placed = await simApi(harness.sim, 'POST', '/call', { assistantId: 'assistant-test', phoneNumberId: 'phone-test', customer: { number: VALID_NUMBER } });
    const callId = (placed.body as { id: string }).id;
    const read = await harness.client.callTool({ name: 'get_call', arguments: { callId } });
    const frame = await openView(harness, { callId }, read);
    await frame.locator('#controls-note').waitFor({ state: 'visible', timeout: 20_000 });
    for (const id of ['say-form', 'whisper-form', 'mute-row', 'transfer-form', 'end-row']) expect(await frame.locator(`#${id}`).isHidden(), id).toBe(true);
  }, 60_000);

  it('shows a refused number\'s refusal in words', async () => {
    const harness = await start();
    const args = { customer: { number: '+19005551234' } };
    const refused = await harness.client.callTool({ name: 'create_call', arguments: args });
    expect(refused.isError).toBe(true);
    const frame = await openView(harness, args, refused);
    await frame.locator('#failure').waitFor({ state: 'visible' });
    expect(await frame.locator('#failure-reason').textContent()).toMatch(/premium/i);
    expect(await frame.locator('#failure-suggestion').textContent()).not.toBe('');
    expect(await frame.locator('#call').isHidden()).toBe(true);
    expect(harness.sim.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  }, 60_000);

  it('follows a whole call to its end on its own (and times every line)', async () => {
    // The call stays up after its script: the test, not the simulator's pace, decides when the next line comes and
    // when the customer hangs up, so a slow machine cannot make the call finish before the view was scrolled up.
    const harness = await start();
    const args = { customer: { number: VALID_NUMBER } };
    const created = await harness.client.callTool({ name: 'create_call', arguments: args });
    const callId = (created.structuredContent as { callId: string }).callId;
    const frame = await openView(harness, args, created);

    // Scrolling up pauses the auto-scroll; new lines then offer a jump back, which returns to the latest line.
    // (waitForFunction would need eval, which the view's CSP forbids.)
    await until(() => frame.evaluate(`(() => { const l = document.getElementById('transcript'); return l.scrollHeight > l.clientHeight + 40; })()`), 20_000, 'the transcript to overflow');
    const count = await frame.locator('#transcript li').count();
    // Scroll up and wait for the scroll event: the view's own handler (registered first) has then paused auto-scroll.
    await frame.evaluate(
      `new Promise((resolve) => { const l = document.getElementById('transcript'); l.addEventListener('scroll', resolve, { once: true }); l.scrollTop = 0; })`,
    );
    await harness.callTool('inject_say', { callId, content: 'One more thing before you go.' });
    await frame.locator('#transcript li').nth(count).waitFor({ timeout: 20_000 });
    await frame.locator('#jump', { hasText: 'new' }).waitFor();
    expect(await frame.evaluate(`document.getElementById('transcript').scrollTop`)).toBe(0);
    await frame.locator('#jump').click();
    expect(await frame.locator('#jump').isHidden()).toBe(true);
    const atBottom = await frame.evaluate(`(() => { const l = document.getElementById('transcript'); return l.scrollHeight - l.scrollTop - l.clientHeight < 24; })()`);
    expect(atBottom).toBe(true);

    await frame.locator('#transcript li .text', { hasText: 'One more thing before you go.' }).waitFor({ timeout: 20_000 });
    harness.sim.hangup(callId);
    await frame.locator('#outcome-reason', { hasText: 'customer-ended-call' }).waitFor({ timeout: 40_000 });
    const server = await follow(harness, callId, (read) => read.ended);
    const shown = await frame.locator('#transcript li .text').allTextContents();
    expect(shown).toEqual(server.lines.map((l) => l.text));
    expect(await frame.locator('#partials p').count()).toBe(0);
  }, 60_000);

  it('measures the server CPU of one open view on an idle call', async () => {
    const harness = await start({ speed: 1, script: [] });
    const args = { customer: { number: VALID_NUMBER } };
    const created = await harness.client.callTool({ name: 'create_call', arguments: { ...args, firstMessage: 'Hi.' } });
    const callId = (created.structuredContent as { callId: string }).callId;
    // An idle call: answered, first message over, then silence (an empty script, no hang-up).
    await follow(harness, callId, (read) => read.status === 'in-progress' && read.lines.length >= 1 && read.partials.length === 0, 20_000);
    const sample = async (ms: number) => {
      const before = process.cpuUsage();
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, ms));
      const used = process.cpuUsage(before);
      return ((used.user + used.system) / 1000 / (performance.now() - started)) * 100;
    };
    const withoutView = await sample(5000);
    let updates = 0;
    await openViewCounting(harness, args, created, () => updates++);
    const withView = await sample(5000);
    process.stderr.write(
      `console view: test process CPU on a live call (listener + simulator), 5 s each: without a view ${withoutView.toFixed(2)}%, ` +
        `with one open view ${withView.toFixed(2)}% (${updates} console_updates calls)\n`,
    );
    expect(updates).toBeGreaterThan(0);
    // What one answered update costs (server and in-process client together), to put a number on "one per 20 s".
    const before = process.cpuUsage();
    const rounds = 200;
    for (let i = 0; i < rounds; i++) await harness.callTool('console_updates', { callId });
    const used = process.cpuUsage(before);
    process.stderr.write(`console view: one console_updates answer costs ${((used.user + used.system) / rounds / 1000).toFixed(2)} ms CPU (mean of ${rounds}, client included)\n`);
    await harness.callTool('end_call', { callId });
  }, 60_000);
});

/** Like openView, counting the view's console_updates calls. */
async function openViewCounting(harness: Harness, toolInput: Record<string, unknown>, toolResult: unknown, onUpdate: () => void): Promise<void> {
  const counting = {
    ...harness,
    client: {
      callTool: (request: { name: string; arguments: Record<string, unknown> }) => {
        if (request.name === 'console_updates') onUpdate();
        return harness.client.callTool(request);
      },
    },
  } as unknown as Harness;
  await openView(counting, toolInput, toolResult);
}
