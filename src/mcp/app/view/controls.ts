/**
 * The controls, each a call of the server's own tools (so every guardrail applies): Say, Whisper, mute and
 * unmute each party, and End and Transfer, which act on a second click.
 */
import { speakerLabel } from './format.js';
import { callTool } from './host.js';
import { renderMutes, say, sayFailure } from './render.js';
import { $, ARM_MS, ROLES, view } from './state.js';

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

/** Wires every control of the call card to its tool. */
export function wireControls(): void {
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
}
