/**
 * Voice-quality metrics through the MCP surface: read_transcript's `audio` block while and after the call,
 * get_call's listening.audio, the transcript resource's summary line, all measured from the simulated call's audio
 * and checked against the simulator's true speech intervals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AudioMetrics } from '../src/live/audio-analysis.js';
import { follow, startHarness, VALID_NUMBER, type Harness } from './helpers/harness.js';
import { trueMetrics } from './helpers/speech-truth.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('voice-quality metrics over MCP', () => {
  it('read_transcript, get_call and the transcript resource show what the audio measured', async () => {
    // A long answer delay lets the listener connect first, so it hears the call from its first sample.
    h = await startHarness({ sim: { speed: 100, waitForListener: true, listen: { noiseFloorDbfs: -60 } } });
    const { callId } = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });

    const seen: AudioMetrics[] = [];
    const { last } = await follow(h, callId, (read) => {
      const audio = (read as unknown as { audio?: AudioMetrics }).audio;
      if (audio) seen.push(audio);
      return read.ended;
    });
    expect(last.ended).toBe(true);
    // While the call ran, the block showed someone talking at some point and levels above the line hiss.
    expect(seen.some((audio) => audio.talking.customer || audio.talking.assistant)).toBe(true);

    const truth = trueMetrics(h.sim.speechIntervals(callId));
    const final = await h.ok<{ audio: AudioMetrics }>('read_transcript', { callId, sinceSeq: last.nextSeq });
    const { audio } = final;
    expect(audio.source).toBe('audio');
    expect(audio.interruptions).toMatchObject({ count: 2, byCustomer: 1, byAssistant: 1 });
    expect(audio.responseLatency.count).toBe(truth.latenciesMs.length);
    audio.responseLatency.recent.forEach((turn, i) => expect(Math.abs(turn.ms - truth.latenciesMs[i])).toBeLessThanOrEqual(40));
    expect(Math.abs(audio.longestSilenceMs - truth.longestSilenceMs)).toBeLessThanOrEqual(40);
    expect(Math.abs(audio.levels.customer!.rmsDbfs - -60)).toBeLessThanOrEqual(1.5);

    const call = await h.ok<{ listening?: { audio?: AudioMetrics } }>('get_call', { callId });
    expect(call.listening?.audio).toEqual(audio);

    const resource = await h.client.readResource({ uri: `vapi://calls/${callId}/transcript` });
    const text = (resource.contents[0] as { text: string }).text;
    const lines = text.split('\n');
    const summary = lines[lines.findIndex((line) => line.startsWith(`Call ${callId}`)) + 1]; // the line under the header
    expect(summary).toMatch(/^Audio \(measured from audio\): /);
    expect(summary).toContain('interruptions 2 (customer 1, assistant 1)');
    expect(summary).toContain(`response p50 ${audio.responseLatency.p50Ms} ms`);
  });
});
