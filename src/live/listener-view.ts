/**
 * What the read paths need of a call's listener: this process's own CallListener, or (cluster mode) a mirror of
 * the listener another instance runs, fed from the call's stream. Both answer with the same shapes and seqs.
 */
import type { CallListener } from './listener.js';

export type ListenerView = Pick<
  CallListener,
  'callId' | 'transcript' | 'state' | 'lifecycle' | 'onChange' | 'whenPrepared' | 'whenEnded' | 'audioSummaryLine' | 'note'
>;
