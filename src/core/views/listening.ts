/** The listening view: what faces show of this server's listener for a call (files, counters, audio metrics). */
import type { AudioReading } from '../../live/audio-analysis.js';
import type { ListenerState, ListenState } from '../../live/listener.js';

export interface ListeningView {
  /** The listener is connected, reconnecting or still finalising its files. */
  active: boolean;
  /** The call has ended and the files are final. */
  ended: boolean;
  /** The WAV header and the JSONL are complete and closed (after the end or stop listening). */
  filesFinal: boolean;
  audioPath?: string;
  transcriptPath?: string;
  audioBytes: number;
  durationSeconds: number;
  reconnects?: number;
  malformedFrames?: number;
  diskError?: string;
  audioStoppedReason?: string;
  /** connecting, connected, reconnecting; unavailable (listenError says why); stopped. */
  listenState: ListenState;
  listenError?: string;
  listenHttpStatus?: number;
  /** Levels, who is talking and the voice-quality metrics (final once ended), or why they are unavailable. */
  audio?: AudioReading;
}

export function listeningView(state: ListenerState): ListeningView {
  return {
    active: !state.filesFinal,
    ended: state.ended && state.filesFinal,
    filesFinal: state.filesFinal,
    ...(state.audioPath ? { audioPath: state.audioPath } : {}),
    ...(state.transcriptPath ? { transcriptPath: state.transcriptPath } : {}),
    audioBytes: state.audioBytes,
    durationSeconds: state.durationSeconds,
    ...(state.reconnects ? { reconnects: state.reconnects } : {}),
    ...(state.malformedFrames ? { malformedFrames: state.malformedFrames } : {}),
    ...(state.diskError ? { diskError: state.diskError } : {}),
    ...(state.audioStoppedReason ? { audioStoppedReason: state.audioStoppedReason } : {}),
    listenState: state.listenState,
    ...(state.listenError ? { listenError: state.listenError } : {}),
    ...(state.listenHttpStatus !== undefined ? { listenHttpStatus: state.listenHttpStatus } : {}),
    audio: state.audio,
  };
}

/** One listener in the process-wide list (transcript resource listing, consoles, terminal). */
export interface ListenerSummary {
  callId: string;
  status: string;
  listening: boolean;
  ended: boolean;
}
