/** What the view shows: the status badge, transcript lines, partials, level meters, mute pills, feedback. */
import { clock, meterPercent, speakerLabel, type Failure } from './format.js';
import { $, ROLES, view, type Line, type Update } from './state.js';

// ---- Feedback ----------------------------------------------------------------------------------------------

export function say(message: string, kind: 'info' | 'error' = 'info'): void {
  const feedback = $('feedback');
  feedback.textContent = message;
  feedback.dataset.kind = kind;
}

export function sayFailure(what: string, failure: Failure): void {
  say(`${what} failed: ${failure.reason}${failure.suggestion ? ` ${failure.suggestion}` : ''}`, 'error');
}

export function showFailure(failure: Failure, title: string): void {
  $('waiting').hidden = true;
  $('failure').hidden = false;
  $('failure-title').textContent = title;
  $('failure-reason').textContent = failure.reason;
  $('failure-suggestion').textContent = failure.suggestion;
}

// ---- The call ----------------------------------------------------------------------------------------------

export function renderStatus(status: string): void {
  view.status = status;
  const badge = $('status');
  badge.textContent = status;
  badge.dataset.status = status;
}

export function renderLines(lines: Line[]): void {
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

export function renderPartials(partials: Update['partials']): void {
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

export function renderMeters(update: Update): void {
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

export function renderMutes(): void {
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
export function renderHeaderOutcome(): void {
  const parts = [`Ended: ${$('outcome-reason').textContent || 'unknown'}`];
  for (const id of ['outcome-duration', 'outcome-cost']) {
    const text = $(id).textContent;
    if (text && text !== 'not reported yet') parts.push(text);
  }
  const line = $('header-outcome');
  line.hidden = false;
  line.textContent = parts.join(' · ');
}

/** Hides what the connection may not do; a console that may do nothing says so instead of showing dead buttons. */
export function renderControls(controls: Update['controls']): void {
  if (!controls) return;
  for (const id of ['say-form', 'whisper-form', 'mute-row', 'end-row']) $(id).hidden = !controls.steer;
  $('transfer-form').hidden = !controls.transfer;
  $('controls-note').hidden = controls.steer || controls.transfer;
}
