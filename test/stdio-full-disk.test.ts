/**
 * A full disk is transient: the built server starts on a recordings directory whose disk is full (a real tmpfs
 * filled to the last byte), says so on stderr, places and hears calls (diskError in the listening view: saving
 * waits for space, as when the disk fills mid-call). A directory that can never hold files still fails at start-up, in one line.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { runToExit, spawnServer } from './helpers/spawn.js';

const apiKey = 'full-disk-test-key-0123456789';
const home = mkdtempSync(join(tmpdir(), 'vapi-call-mcp-full-'));
const mount = join(home, 'disk');
mkdirSync(mount);
/** A 256 KiB tmpfs: needs root with CAP_SYS_ADMIN, as CI has; the test says it skipped otherwise. */
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ apiKey, speed: 20, seed: 9 });
});
afterAll(async () => {
  await sim?.close();
  if (mounted) execFileSync('umount', ['-l', mount]);
  await rm(home, { recursive: true, force: true });
});

describe('a full disk at start-up', () => {
  it.skipIf(!mounted)('starts, says so, and hears the call with diskError while the disk stays full', async () => {
    const filler = join(mount, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(512 * 1024));
    } catch {
      // ENOSPC: the disk is full, which is the point
    }
    const server = spawnServer([], { HOME: home, VAPI_API_KEY: apiKey, VAPI_BASE_URL: sim.baseUrl, VAPI_ASSISTANT_ID: 'a', VAPI_PHONE_NUMBER_ID: 'p', VAPI_RECORDINGS_DIR: mount }, home);
    try {
      await server.initialize();
      expect(server.stderr()).toMatch(/recordings directory .* is on a full disk \(ENOSPC\)/);
      const created = await server.callTool('create_call', { customer: { number: '+14155552671' } });
      expect(created.isError).toBeFalsy();
      const callId = created.structuredContent!.callId as string;

      let read = await server.callTool('read_transcript', { callId, waitSeconds: 20 });
      while ((read.structuredContent!.lines as unknown[]).length === 0 && !read.structuredContent!.ended) {
        read = await server.callTool('read_transcript', { callId, waitSeconds: 20 });
      }
      expect((read.structuredContent!.lines as unknown[]).length).toBeGreaterThan(0);
      const listening = (await server.callTool('listen_call', { callId })).structuredContent!.listening as { diskError?: string };
      // Waiting for space, as when the disk fills mid-call (the writers retry; see test/live-hostile-peer.test.ts).
      expect(listening.diskError).toMatch(/ENOSPC.*saving resumes when space is freed/);

    } finally {
      server.child.stdin.end();
      await server.exit();
    }
  });

  it('a directory that can never hold files still fails at once, in one line', async () => {
    const file = join(home, 'not-a-dir');
    writeFileSync(file, 'x');
    const { code, stdout, stderr } = await runToExit([], { HOME: home, VAPI_API_KEY: apiKey, VAPI_RECORDINGS_DIR: file }, home);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/recordings directory .* is not usable .*VAPI_RECORDINGS_DIR/);
    rmSync(file);
  });
});
