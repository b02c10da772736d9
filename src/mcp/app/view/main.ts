/**
 * The live call console view. It runs in the host's sandboxed iframe and talks only to the host (postMessage):
 * the tool result that opened it says which call (or which dry run) to show; `console_updates` brings what
 * changed; the controls call the server's own tools, so every guardrail still applies.
 */
import { wireControls } from './controls.js';
import { clock, failureOf, formatCost, hostFailure, resultJson } from './format.js';
import { app, applyHostContext, callTool } from './host.js';
import { renderHeaderOutcome, renderControls, renderLines, renderMeters, renderMutes, renderPartials, renderStatus, say, sayFailure, showFailure } from './render.js';
import { $, UPDATE_WAIT_SECONDS, view, type Update } from './state.js';

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

wireControls();

// ---- Start --------------------------------------------------------------------------------------------------

void app
  .connect()
  .then(() => applyHostContext(app.getHostContext()))
  .catch((err: unknown) => showFailure(hostFailure(err), 'Not connected to the host'));
