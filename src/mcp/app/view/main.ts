/**
 * The live call console view. It runs in the host's sandboxed iframe and talks only to the host (postMessage):
 * the tool result that opened it says which call (or which dry run) to show; `console_updates` brings what
 * changed; the controls call the server's own tools, so every guardrail still applies.
 */
import { App, applyDocumentTheme, applyHostFonts, applyHostStyleVariables } from '@modelcontextprotocol/ext-apps';
import { clock, failureOf, formatCost, hostFailure, meterPercent, resultJson, speakerLabel, type Failure } from './format.js';

type Role = 'customer' | 'assistant';
const ROLES: readonly Role[] = ['customer', 'assistant'];
const UPDATE_WAIT_SECONDS = 20;
/** How long an armed End or Transfer button waits for its second click. */
const ARM_MS = 6000;

interface Line {
  seq: number;
  role: Role;
  text: string;
  secondsFromStart: number;
}
interface Update {
  callId: string;
  status: string;
  ended: boolean;
  endedReason?: string;
  lines: Line[];
  partials: { role: Role; text: string }[];
  speaking: Role[];
  levels?: Record<Role, { rmsDbfs: number; speaking: boolean }>;
  muted: Record<Role, boolean>;
  connection: string;
  listenError?: string;
  durationSeconds: number;
  nextSeq: number;
  missedLines?: number;
  etag: string;
  /** The controls this connection may use (read-only mode, OAuth scopes); absent from older servers. */
  controls?: { steer: boolean; transfer: boolean };
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`view is missing #${id}`);
  return element as T;
};

const app = new App({ name: 'vapi-call-console', version: '1.0.0' }, {}, { autoResize: true });

const view = {
  callId: undefined as string | undefined,
  toolArgs: undefined as Record<string, unknown> | undefined,
  nextSeq: undefined as number | undefined,
  etag: undefined as string | undefined,
  status: 'unknown',
  ended: false,
  muted: { customer: false, assistant: false } as Record<Role, boolean>,
  audioSeconds: 0,
  audioSecondsAt: 0,
  followToken: 0,
  unseenLines: 0,
  stickToBottom: true,
};

// ---- Host wiring --------------------------------------------------------------------------------------------

app.ontoolinput = (params) => {
  view.toolArgs = params.arguments;
};

app.ontoolresult = (result) => {
  const data = resultJson(result);
  if (result.isError) return showFailure(failureOf(result), 'Refused');
  if (!data) return;
  if (data.dryRun === true) return showPreview(data);
  if (typeof data.callId === 'string') startCall(data);
};

app.onhostcontextchanged = (context) => applyHostContext(context);

app.onteardown = async () => {
  view.followToken++;
  return {};
};

function applyHostContext(context: ReturnType<App['getHostContext']>): void {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
}

async function callTool(name: string, args: Record<string, unknown>): Promise<{ ok: true; data: Record<string, unknown> } | { ok: false; failure: Failure }> {
  try {
    const result = await app.callServerTool({ name, arguments: args });
    if (result.isError) return { ok: false, failure: failureOf(result) };
    return { ok: true, data: resultJson(result) ?? {} };
  } catch (err) {
    return { ok: false, failure: hostFailure(err) };
  }
}

// ---- Feedback -----------------------------------------------------------------------------------------------

function say(message: string, kind: 'info' | 'error' = 'info'): void {
  const feedback = $('feedback');
  feedback.textContent = message;
  feedback.dataset.kind = kind;
}

function sayFailure(what: string, failure: Failure): void {
  say(`${what} failed: ${failure.reason}${failure.suggestion ? ` ${failure.suggestion}` : ''}`, 'error');
}

function showFailure(failure: Failure, title: string): void {
  $('waiting').hidden = true;
  $('failure').hidden = false;
  $('failure-title').textContent = title;
  $('failure-reason').textContent = failure.reason;
  $('failure-suggestion').textContent = failure.suggestion;
}

// ---- Dry run: the preview card ------------------------------------------------------------------------------

function showPreview(data: Record<string, unknown>): void {
  $('waiting').hidden = true;
  $('preview').hidden = false;
  const request = data.request as { body?: Record<string, unknown> } | undefined;
  const body = request?.body ?? {};
  const destination = data.destination as { e164?: string; country?: string } | undefined;
  const overrides = body.assistantOverrides as Record<string, unknown> | undefined;
  $('preview-number').textContent = destination?.e164 ?? '';
  $('preview-country').textContent = destination?.country ?? 'unknown';
  $('preview-assistant').textContent = typeof body.assistantId === 'string' ? body.assistantId : body.assistant ? 'inline assistant' : '';
  $('preview-phone').textContent = typeof body.phoneNumberId === 'string' ? body.phoneNumberId : '';
  $('preview-first').textContent = typeof overrides?.firstMessage === 'string' ? overrides.firstMessage : "the assistant's own";
  $('preview-request').textContent = JSON.stringify(request ?? {}, null, 2);
  const place = $<HTMLButtonElement>('place');
  const token = typeof data.confirmationToken === 'string' ? data.confirmationToken : undefined;
  if (typeof data.confirmationExpiresAt === 'string') {
    $('preview-expiry').textContent = `Valid until ${new Date(data.confirmationExpiresAt).toLocaleTimeString()}`;
  }
  place.disabled = !token;
  if (!token) $('preview-expiry').textContent = 'This server did not issue a confirmation token; ask the agent to place the call.';
  place.onclick = async () => {
    if (!token) return;
    place.disabled = true;
    say('Placing the call…');
    const args = { ...(view.toolArgs ?? argsFromRequest(body)), dryRun: false, confirmationToken: token };
    const placed = await callTool('create_call', args);
    if (!placed.ok) {
      showFailure(placed.failure, 'Call not placed');
      return sayFailure('Placing the call', placed.failure);
    }
    $('preview').hidden = true;
    say('Call placed.');
    startCall(placed.data);
  };
}

/** create_call arguments that rebuild the same request, for hosts that did not pass the tool's input. */
function argsFromRequest(body: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const key of ['customer', 'assistantId', 'assistant', 'assistantOverrides', 'phoneNumberId', 'name']) {
    if (body[key] !== undefined) args[key] = body[key];
  }
  const plan = body.schedulePlan as { earliestAt?: string } | undefined;
  if (plan?.earliestAt) args.scheduledAt = plan.earliestAt;
  return args;
}

// ---- The call -----------------------------------------------------------------------------------------------

function startCall(data: Record<string, unknown>): void {
  const callId = data.callId as string;
  if (view.callId === callId) return;
  view.callId = callId;
  view.nextSeq = undefined;
  view.etag = undefined;
  view.ended = false;
  $('waiting').hidden = true;
  $('failure').hidden = true;
  $('call').hidden = false;
  $('transcript').replaceChildren();
  const destination = data.destination as { e164?: string } | undefined;
  const customer = data.customer as { number?: string } | undefined;
  const number = destination?.e164 ?? customer?.number;
  $('call-number').textContent = number ?? 'Call';
  if (!number) void learnNumber(callId);
  renderStatus(typeof data.status === 'string' ? data.status : 'unknown');
  // Also for a call that is already over: the updates then bring Vapi's transcript and the end.
  void follow(callId);
}

async function learnNumber(callId: string): Promise<void> {
  const call = await callTool('get_call', { callId, maxChars: 200 });
  const number = call.ok ? (call.data.customer as { number?: string } | undefined)?.number : undefined;
  if (number && view.callId === callId) $('call-number').textContent = number;
}

async function follow(callId: string): Promise<void> {
  const token = ++view.followToken;
  let failures = 0;
  while (token === view.followToken) {
    const args: Record<string, unknown> = { callId, waitSeconds: UPDATE_WAIT_SECONDS };
    if (view.nextSeq !== undefined) args.sinceSeq = view.nextSeq;
    if (view.etag !== undefined) args.etag = view.etag;
    const result = await callTool('console_updates', args);
    if (token !== view.followToken) return;
    if (!result.ok) {
      sayFailure('Following the call', result.failure);
      if (!result.failure.retryable || ++failures > 5) return;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** failures));
      continue;
    }
    failures = 0;
    const update = result.data as unknown as Update;
    applyUpdate(update);
    if (update.ended) {
      await showOutcome(callId, update);
      return;
    }
  }
}

function applyUpdate(update: Update): void {
  view.nextSeq = update.nextSeq;
  view.etag = update.etag;
  view.audioSeconds = update.durationSeconds;
  view.audioSecondsAt = performance.now();
  renderStatus(update.status);
  renderLines(update.lines);
  renderPartials(update.partials);
  renderMeters(update);
  view.muted = update.muted;
  renderMutes();
  renderControls(update.controls);
  const connection = $('connection');
  connection.textContent = update.listenError ? `Not listening: ${update.listenError}` : `Listening: ${update.connection}`;
  if (update.ended) setEnded(update.endedReason);
}

/** Hides what the connection may not do; a console that may do nothing says so instead of showing dead buttons. */
function renderControls(controls: Update['controls']): void {
  if (!controls) return;
  for (const id of ['say-form', 'whisper-form', 'mute-row', 'end-row']) $(id).hidden = !controls.steer;
  $('transfer-form').hidden = !controls.transfer;
  $('controls-note').hidden = controls.steer || controls.transfer;
}

function renderStatus(status: string): void {
  view.status = status;
  const badge = $('status');
  badge.textContent = status;
  badge.dataset.status = status;
}

function renderLines(lines: Line[]): void {
  if (lines.length === 0) return;
  const list = $('transcript');
  for (const line of lines) {
    const item = document.createElement('li');
    item.className = line.role === 'customer' ? 'line caller' : 'line assistant';
    item.dataset.seq = String(line.seq);
    item.dataset.role = line.role;
    const at = document.createElement('span');
    at.className = 'at';
    at.textContent = clock(line.secondsFromStart);
    const words = document.createElement('span');
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = line.role === 'customer' ? 'Caller said:' : 'Assistant:';
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = line.text;
    words.append(who, text);
    item.append(at, words);
    list.append(item);
  }
  if (view.stickToBottom) {
    list.scrollTop = list.scrollHeight;
  } else {
    view.unseenLines += lines.length;
    const jump = $('jump');
    jump.hidden = false;
    jump.textContent = `Jump to latest (${view.unseenLines} new)`;
  }
}

function renderPartials(partials: Update['partials']): void {
  const box = $('partials');
  box.replaceChildren(
    ...partials.map((partial) => {
      const line = document.createElement('p');
      line.className = partial.role === 'customer' ? 'partial caller' : 'partial';
      line.dataset.role = partial.role;
      line.textContent = `${speakerLabel(partial.role)} is saying: ${partial.text}…`;
      return line;
    }),
  );
}

function renderMeters(update: Update): void {
  $('meter-note').textContent = update.levels
    ? ''
    : 'No per-party audio levels for this call (not yet heard, mono audio, or analysis off): the meters show who is talking from Vapi\'s speech and transcript events.';
  for (const role of ROLES) {
    const meter = $(`meter-${role}`);
    const level = update.levels?.[role];
    const speaking = level ? level.speaking : update.speaking.includes(role);
    const percent = level ? meterPercent(level.rmsDbfs) : speaking ? 70 : 0;
    meter.dataset.speaking = String(speaking);
    meter.dataset.level = String(percent);
    (meter.querySelector('.fill') as HTMLElement).style.width = `${percent}%`;
    const bar = meter.querySelector('.bar') as HTMLElement;
    bar.setAttribute('aria-valuenow', String(level ? Math.round(level.rmsDbfs) : speaking ? -12 : -60));
    (meter.querySelector('.talk') as HTMLElement).textContent = speaking ? 'speaking' : 'quiet';
  }
}

function renderMutes(): void {
  for (const role of ROLES) {
    const pill = $(`mute-${role}`);
    pill.textContent = `${speakerLabel(role)}: ${view.muted[role] ? 'muted' : 'not muted'}`;
    pill.dataset.on = String(view.muted[role]);
    const button = $<HTMLButtonElement>(`toggle-mute-${role}`);
    button.textContent = `${view.muted[role] ? 'Unmute' : 'Mute'} ${role === 'customer' ? 'caller' : 'assistant'}`;
    button.setAttribute('aria-pressed', String(view.muted[role]));
  }
}

/** The header's one-line outcome: "Ended: customer-ended-call · 1:15 · $0.0421", each part once known. */
function renderHeaderOutcome(): void {
  const parts = [`Ended: ${$('outcome-reason').textContent || 'unknown'}`];
  for (const id of ['outcome-duration', 'outcome-cost']) {
    const text = $(id).textContent;
    if (text && text !== 'not reported yet') parts.push(text);
  }
  const line = $('header-outcome');
  line.hidden = false;
  line.textContent = parts.join(' · ');
}

function setEnded(endedReason: string | undefined): void {
  view.ended = true;
  for (const control of $('controls').querySelectorAll<HTMLButtonElement | HTMLInputElement>('button, input')) control.disabled = true;
  $('outcome').hidden = false;
  $('outcome-reason').textContent = endedReason ?? 'unknown';
  renderMeters({ speaking: [], levels: undefined } as unknown as Update);
  renderHeaderOutcome();
}

async function showOutcome(callId: string, update: Update): Promise<void> {
  setEnded(update.endedReason);
  $('outcome-duration').textContent = clock(update.durationSeconds);
  renderHeaderOutcome();
  // Vapi adds cost and summary shortly after the end: ask a few times.
  for (let attempt = 0; attempt < 4 && view.callId === callId; attempt++) {
    const call = await callTool('get_call', { callId, maxChars: 200 });
    if (call.ok) {
      const data = call.data;
      if (typeof data.endedReason === 'string') $('outcome-reason').textContent = data.endedReason;
      if (typeof data.durationSeconds === 'number') $('outcome-duration').textContent = clock(data.durationSeconds);
      $('outcome-cost').textContent = formatCost(data.cost) ?? 'not reported yet';
      $('outcome-summary').textContent = typeof data.summary === 'string' ? data.summary : 'none yet';
      const listening = data.listening as { audioPath?: string; transcriptPath?: string } | undefined;
      $('outcome-recording').textContent = listening?.audioPath ?? listening?.transcriptPath ?? 'not saved by this server';
      renderHeaderOutcome();
      if (data.cost !== undefined && data.summary !== undefined) break;
    } else {
      sayFailure('Reading the outcome', call.failure);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

setInterval(() => {
  if (!view.callId || view.ended || view.status !== 'in-progress') return;
  const seconds = view.audioSeconds + (performance.now() - view.audioSecondsAt) / 1000;
  $('timer').textContent = clock(seconds);
}, 500);

// ---- Transcript scrolling -----------------------------------------------------------------------------------

$('transcript').addEventListener('scroll', () => {
  const list = $('transcript');
  view.stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
  if (view.stickToBottom) {
    view.unseenLines = 0;
    $('jump').hidden = true;
  }
});

$('jump').addEventListener('click', () => {
  const list = $('transcript');
  view.stickToBottom = true;
  list.scrollTop = list.scrollHeight;
  view.unseenLines = 0;
  $('jump').hidden = true;
  list.focus();
});

// ---- Controls -----------------------------------------------------------------------------------------------

async function control(what: string, tool: string, args: Record<string, unknown>, button: HTMLButtonElement): Promise<boolean> {
  if (!view.callId) return false;
  button.disabled = true;
  say(`${what}…`);
  const result = await callTool(tool, { callId: view.callId, ...args });
  button.disabled = view.ended;
  if (!result.ok) {
    sayFailure(what, result.failure);
    return false;
  }
  say(`${what}: done.`);
  return true;
}

/**
 * A text field and its button act on a click or on Enter. No <form> submission: hosts' sandboxes may not
 * allow forms.
 */
function onEntry(inputId: string, buttonId: string, handler: (text: string, button: HTMLButtonElement) => Promise<boolean> | Promise<void>): void {
  const input = $<HTMLInputElement>(inputId);
  const button = $<HTMLButtonElement>(buttonId);
  const act = async () => {
    const text = input.value.trim();
    if (!text || button.disabled) return;
    if ((await handler(text, button)) === true) input.value = '';
  };
  button.addEventListener('click', () => void act());
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void act();
    }
  });
}

onEntry('say-text', 'say', (text, button) => control('Saying it', 'inject_say', { content: text }, button));
onEntry('whisper-text', 'whisper', (text, button) =>
  control('Whispering to the assistant', 'add_message', { role: 'system', content: text, triggerResponse: false }, button),
);

for (const role of ROLES) {
  const button = $<HTMLButtonElement>(`toggle-mute-${role}`);
  button.addEventListener('click', async () => {
    const muted = !view.muted[role];
    const done = await control(`${muted ? 'Muting' : 'Unmuting'} the ${speakerLabel(role).toLowerCase()}`, 'set_mute', { party: role, muted }, button);
    if (done) {
      view.muted[role] = muted;
      renderMutes();
    }
  });
}

/** The first click arms the button and says what a second click will do; the second (within ARM_MS) acts. */
function twoStep(button: HTMLButtonElement, armedLabel: () => string, act: () => Promise<void>): () => Promise<void> {
  const idleLabel = button.textContent ?? '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const disarm = () => {
    clearTimeout(timer);
    delete button.dataset.armed;
    button.textContent = idleLabel;
  };
  return async () => {
    if (button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = armedLabel();
      say(`${armedLabel()}: click again to confirm.`);
      timer = setTimeout(disarm, ARM_MS);
      return;
    }
    disarm();
    await act();
  };
}

const endButton = $<HTMLButtonElement>('end');
const endCall = twoStep(endButton, () => 'Really end the call?', async () => {
  await control('Ending the call', 'end_call', {}, endButton);
});
endButton.addEventListener('click', () => void endCall());

const transferButton = $<HTMLButtonElement>('transfer');
const transferInput = $<HTMLInputElement>('transfer-to');
const transfer = twoStep(transferButton, () => `Really transfer to ${transferInput.value.trim()}?`, async () => {
  const to = transferInput.value.trim();
  const destination = to.startsWith('sip:') ? { sipUri: to } : { number: to };
  if (await control(`Transferring to ${to}`, 'transfer_call', destination, transferButton)) transferInput.value = '';
});
onEntry('transfer-to', 'transfer', () => transfer());

// ---- Start --------------------------------------------------------------------------------------------------

void app
  .connect()
  .then(() => applyHostContext(app.getHostContext()))
  .catch((err: unknown) => showFailure(hostFailure(err), 'Not connected to the host'));
