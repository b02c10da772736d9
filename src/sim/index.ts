/**
 * A Vapi simulator: a real HTTP + WebSocket server on one port that behaves like Vapi on the wire, so the whole
 * product can be exercised (and tried out) without a Vapi account or a phone.
 *
 * Wire surface
 * - REST with `Authorization: Bearer <apiKey>` (else the Vapi 401 body): POST /call (single or `customers[]`
 *   batch), GET /call (plain array, newest first, with the id/assistantId/phoneNumberId/limit and eight date
 *   filters), GET/PATCH/DELETE /call/{id}. Errors use the NestJS shape; DTO problems (unknown properties,
 *   non-E.164 numbers, bad filters) give an array `message`, business rules a string one. Top-level `metadata`
 *   is accepted and ignored unless `strict`; `assistantOverrides` (its `metadata` included) is kept and returned
 *   on GET /call/{id} and GET /call. DELETE hangs a live call up (`call-deleted`) and removes it.
 * - Call ids are UUIDv7 whose first 48 bits are the call's `createdAt` in epoch milliseconds, as Vapi's are.
 * - Control: POST /<id>/control with a bare JSON body → 200 `{"ok":true}`; 400 for an unknown type or missing
 *   fields; 404 for an unknown or ended call; 401 when `controlAuthenticationEnabled` and the bearer is not the
 *   public key. Every POST is recorded in `controlLog`.
 * - Listen: WebSocket /<id>/listen; 404 on upgrade for an unknown or ended call, 401 when
 *   `listenAuthenticationEnabled` and the bearer is not the public key. Several listeners per call are fine.
 *   `monitor.listenUrl`/`controlUrl` are omitted when `monitorPlan.listenEnabled`/`controlEnabled` is false
 *   (monitorPlan read from assistantOverrides, a customer's assistantOverrides, or the inline assistant).
 *
 * A call, in call time (`speed` × wall time)
 * - queued → ringing after `ringMs` (1000) → in-progress after `answerMs` (3000); a future
 *   `schedulePlan.earliestAt` starts it as `scheduled`. Once answered the assistant says its first message
 *   (overrides, then assistant, then a default greeting; `{{var}}` filled from variableValues; with
 *   `assistant-waits-for-user` the customer speaks first), then the script runs (default: an appointment
 *   confirmation, about 75 s). Speech takes 0.3 s + 0.4 s per word. When the script has run out and 8 s pass
 *   quietly the customer hangs up (`customer-ended-call`), unless `hangupAfterScript` is false.
 *   `maxDurationSeconds` (default 600) ends it with `exceeded-max-duration`.
 * - Per utterance: speech-update started → cumulative transcript partials → final → speech-update stopped →
 *   conversation-update. Every transition sends status-update (`endedReason` when ended). On the socket the
 *   customer is role `user`; in messages the assistant is `bot`.
 * - Control effects: `say` (`content` or legacy `message`) is spoken as soon as the floor is free, or at once
 *   cutting the assistant with `interruptAssistantEnabled`; `endCallAfterSpoken` then ends with
 *   `assistant-ended-call-after-message-spoken`. `add-message` records the message and, unless
 *   `triggerResponseEnabled` is false, the assistant answers with a short deterministic acknowledgement.
 *   `control` mutes/unmutes a party (its channel goes silent and its words are neither transcribed nor recorded)
 *   or repeats the first message. `end-call` ends with `assistant-ended-call`. `transfer` says `content` if
 *   given, sends transfer-update and status-update `forwarding`, sets `call.destination` and ends 2 s later
 *   with `assistant-forwarded-call`. `handoff` and `send-transport-message` are accepted. Speech sent before
 *   the call is answered is spoken right after the answer.
 * - On end: endedAt, endedReason, cost (from duration), costBreakdown, costs, artifact (messages,
 *   messagesOpenAIFormatted, transcript `AI: …`/`User: …`, recording URLs on the simulator host, which are not
 *   served), analysis.summary, and the legacy top-level transcript/messages/summary/recordingUrl. Listeners get
 *   the remaining audio, status-update ended, then close code 1000. No end-of-call-report on the socket (Vapi's
 *   default clientMessages do not include it).
 *
 * Listen audio
 * - Optional first text frame `{"type":"start","encoding":"linear16","container":"raw","sampleRate","channels"}`
 *   (never wrapped), then binary frames of s16le PCM, default 16 kHz stereo in 20 ms frames (1280 bytes),
 *   paced to call time. Customer on channel 0, assistant on channel 1; mono sums them. A speaking, unmuted party's
 *   channel carries a CUSTOMER_TONE_HZ (440) or ASSISTANT_TONE_HZ (880) sine with peak TONE_PEAK_AMPLITUDE
 *   (8000), its loudness swelling at SYLLABLE_RATE_HZ (4) between ENVELOPE_FLOOR (0.55) × peak and the peak; other
 *   channels are exact zeros. Nothing is sent before the call is answered; a listener joining later starts at
 *   the current sample. `frameBytes` as an array cycles frame sizes, splitting samples across frames; the last
 *   frame before the end may be short.
 *
 * Determinism: all randomness comes from `seed`, and every call event runs at the call time it was scheduled
 * for however late the 10 ms wall tick that processes it, so the same seed and inputs give the same ids (apart
 * from a call id's leading timestamp), event sequence and audio bytes (timestamps follow the clock).
 *
 * Faults: failNext (429 with Retry-After when asked), delayNext (the request is processed, its response held),
 * dropListen (terminate, no close frame; the call continues), sendMalformed (`{not json`, a 3-byte binary
 * frame, a 1 MiB silent binary frame counted in audioBytesSent, `{"type":"weird-future-event","x":1}`),
 * rejectListenUpgrades (any 4xx/5xx with a short JSON body), dropAfterCreate (POST /call creates the call, then
 * the connection is cut before the answer).
 */
export {
  DEFAULT_SIM_API_KEY,
  DEFAULT_SIM_PUBLIC_KEY,
  type ListenOptions,
  type MalformedKind,
  type RecordedControl,
  type RecordedRequest,
  type RestFaultStatus,
  type ScriptTurn,
  type SpeechInterval,
  type Simulator,
  type SimulatorFaults,
  type SimulatorOptions,
} from './types.js';
export { startSimulator } from './simulator.js';
export {
  ASSISTANT_CHANNEL,
  ASSISTANT_TONE_HZ,
  CUSTOMER_CHANNEL,
  CUSTOMER_TONE_HZ,
  ENVELOPE_FLOOR,
  SYLLABLE_RATE_HZ,
  TONE_PEAK_AMPLITUDE,
} from './audio.js';
export { DEFAULT_FIRST_MESSAGE, DEFAULT_SCRIPT } from './script.js';
export type { CallStatus, SimLogger, WireCall, WireMessage } from './wire.js';
