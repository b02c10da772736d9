import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_BASE_URL, DEFAULT_RECORDINGS_DIR, loadConfig, prepareRecordingsDir } from '../src/config.js';

describe('loadConfig', () => {
  it('needs a key unless simulating, and says how to get one', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/VAPI_API_KEY.*--simulate/);
    expect(loadConfig({}, { simulate: true }).simulated).toBe(true);
  });

  it('reads VAPI_SIMULATE as --simulate (for launchers that can set only variables, such as the MCP Bundle)', () => {
    expect(loadConfig({ VAPI_SIMULATE: '1' }).simulated).toBe(true);
    expect(loadConfig({ VAPI_SIMULATE: 'false', VAPI_API_KEY: 'k' }).simulated).toBe(false);
    expect(() => loadConfig({ VAPI_SIMULATE: 'maybe' })).toThrow(/VAPI_SIMULATE/);
  });

  it('reads a bundle setting left empty (${user_config.x} left in place by the host) as unset, and ~ or ${HOME} as the home folder', () => {
    const config = loadConfig({
      VAPI_API_KEY: 'k',
      VAPI_ASSISTANT_ID: '${user_config.assistant_id}',
      VAPI_ALLOWED_NUMBERS: '${user_config.allowed_numbers}',
      VAPI_RECORDINGS_DIR: '${HOME}/calls',
    });
    expect(config.assistantId).toBeUndefined();
    expect(config.allowedNumbers).toBeUndefined();
    expect(config.recordingsDir).toBe(join(homedir(), 'calls'));
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_RECORDINGS_DIR: '~/r' }).recordingsDir).toBe(join(homedir(), 'r'));
    expect(() => loadConfig({ VAPI_API_KEY: '${user_config.vapi_api_key}' })).toThrow(/No Vapi API key/);
  });

  it('reads the duplicate-call window: seconds, 0 for live calls only, off for no guard', () => {
    expect(loadConfig({ VAPI_API_KEY: 'k' }).duplicateWindowSeconds).toBe(120);
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_DUPLICATE_WINDOW_SECONDS: '0' }).duplicateWindowSeconds).toBe(0);
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_DUPLICATE_WINDOW_SECONDS: 'OFF' }).duplicateWindowSeconds).toBeUndefined();
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_DUPLICATE_WINDOW_SECONDS: '2m' })).toThrow(/VAPI_DUPLICATE_WINDOW_SECONDS/);
  });

  it('accepts VAPI_TOKEN, the official server\'s name for the key', () => {
    expect(loadConfig({ VAPI_TOKEN: 'abc123-key' }).apiKey).toBe('abc123-key');
    expect(loadConfig({ VAPI_TOKEN: 'second', VAPI_API_KEY: 'first' }).apiKey).toBe('first');
  });

  it('refuses unsubstituted placeholders without echoing more than needed', () => {
    for (const value of ['${VAPI_API_KEY}', '${env:VAPI_API_KEY}', '<private key>', '${input:vapi-key}']) {
      expect(() => loadConfig({ VAPI_API_KEY: value })).toThrow(/placeholder/);
    }
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_PHONE_NUMBER_ID: '${PHONE}' })).toThrow(/VAPI_PHONE_NUMBER_ID/);
  });

  it('has sane defaults: official base URL, absolute recordings dir under home, guard limits on', () => {
    const config = loadConfig({ VAPI_API_KEY: 'k' });
    expect(config.baseUrl).toBe(DEFAULT_BASE_URL);
    expect(config.recordingsDir).toBe(DEFAULT_RECORDINGS_DIR);
    expect(config.recordingsDir.startsWith('/')).toBe(true);
    expect(config.maxConcurrentCalls).toBeGreaterThan(0);
    expect(config.maxCallsPerHour).toBeGreaterThan(0);
    expect(config.allowedNumbers).toBeUndefined();
    expect(config.readOnly).toBe(false);
  });

  it('caps calls at 10 minutes by default; VAPI_MAX_CALL_MINUTES sets the cap or turns it off', () => {
    expect(loadConfig({}, { simulate: true }).maxCallMinutes).toBe(10);
    expect(loadConfig({ VAPI_MAX_CALL_MINUTES: '3' }, { simulate: true }).maxCallMinutes).toBe(3);
    expect(loadConfig({ VAPI_MAX_CALL_MINUTES: 'off' }, { simulate: true }).maxCallMinutes).toBeUndefined();
    for (const bad of ['0', '2.5', 'ten', '1441']) {
      expect(() => loadConfig({ VAPI_MAX_CALL_MINUTES: bad }, { simulate: true })).toThrow(/VAPI_MAX_CALL_MINUTES must be a whole number of minutes from 1 to 1440, or off/);
    }
  });

  it('keeps an empty allow-list as "nothing may be dialled"', () => {
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_ALLOWED_NUMBERS: '' }).allowedNumbers).toEqual([]);
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_ALLOWED_NUMBERS: '+1555*, +442071838750' }).allowedNumbers).toEqual(['+1555*', '+442071838750']);
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_ALLOWED_COUNTRIES: 'us, gb' }).allowedCountries).toEqual(['US', 'GB']);
  });

  it('validates numbers, booleans, URLs and log levels with the variable named', () => {
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_MAX_CALLS_PER_HOUR: 'lots' })).toThrow(/VAPI_MAX_CALLS_PER_HOUR/);
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_READ_ONLY: 'maybe' })).toThrow(/VAPI_READ_ONLY/);
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_BASE_URL: 'ftp://x' })).toThrow(/VAPI_BASE_URL/);
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_LOG_LEVEL: 'loud' })).toThrow(/VAPI_LOG_LEVEL/);
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_READ_ONLY: 'true' }).readOnly).toBe(true);
    expect(loadConfig({ VAPI_API_KEY: 'k' }, { readOnly: true }).readOnly).toBe(true);
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_BASE_URL: 'http://127.0.0.1:8787/' }).baseUrl).toBe('http://127.0.0.1:8787');
  });
});

describe('prepareRecordingsDir', () => {
  it('creates the directory owner-only and rejects an unusable one', async () => {
    const base = await mkdtemp(join(tmpdir(), 'vapi-config-'));
    try {
      const dir = join(base, 'a', 'b');
      prepareRecordingsDir(dir);
      const { statSync } = await import('node:fs');
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const file = join(base, 'file');
      await writeFile(file, 'x');
      expect(() => prepareRecordingsDir(file)).toThrow(/VAPI_RECORDINGS_DIR/);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('dialing policy settings', () => {
  it('rejects a malformed allow-list at startup with the variable named', () => {
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_ALLOWED_NUMBERS: '+1555' })).toThrow(ConfigError);
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_ALLOWED_NUMBERS: '+1555' })).toThrow(/VAPI_ALLOWED_NUMBERS.*\+1555\*/);
    expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_ALLOWED_COUNTRIES: 'UK' })).toThrow(/GB/);
  });
});
