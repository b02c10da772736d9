/**
 * server.json, the entry for the official MCP Registry: valid against the registry's schema (a copy is kept in
 * schemas/, tests run offline), named like package.json's mcpName, every version equal to package.json's, and
 * offering the same VAPI_* settings as the MCP Bundle.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, without type declarations
import { ENV as BUNDLE_ENV } from '../scripts/bundle.mjs';

const read = (path: string) => JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8'));
const pkg = read('package.json') as { name: string; version: string; mcpName: string };
const server = read('server.json');
const schema = read('schemas/server.schema.json');

interface Package {
  registryType: string;
  identifier: string;
  version?: string;
  fileSha256?: string;
  transport: { type: string };
  environmentVariables?: { name: string; isSecret?: boolean; isRequired?: boolean }[];
}

describe('server.json', () => {
  it('is valid against the MCP Registry schema', () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    expect(validate(server), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(server.$schema).toBe('https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json');
    // The copy really checks: a version range or a missing transport is refused.
    expect(validate({ ...server, packages: [{ ...server.packages[0], version: 'latest' }] })).toBe(false);
    expect(validate({ ...server, packages: [{ ...server.packages[0], transport: undefined }] })).toBe(false);
  });

  it('is named by package.json mcpName and carries package.json version everywhere', () => {
    expect(server.name).toBe(pkg.mcpName);
    expect(pkg.mcpName).toMatch(/^io\.github\.[^/]+\/vapi-call-mcp$/);
    expect(server.version).toBe(pkg.version);
    const packages = server.packages as Package[];
    for (const entry of packages) expect(entry.version, entry.registryType).toBe(pkg.version);
    const npm = packages.find((p) => p.registryType === 'npm')!;
    expect(npm).toMatchObject({ identifier: pkg.name, transport: { type: 'stdio' } });
    const bundle = packages.find((p) => p.registryType === 'mcpb')!;
    expect(bundle.identifier).toMatch(new RegExp(`/releases/download/v${pkg.version}/${pkg.name}-${pkg.version}\\.mcpb$`));
    expect(bundle.fileSha256).toMatch(/^[a-f0-9]{64}$/);
  });

  it('offers the settings the MCP Bundle maps, with the key marked secret', () => {
    const npm = (server.packages as Package[]).find((p) => p.registryType === 'npm')!;
    const names = npm.environmentVariables!.map((v) => v.name);
    expect(names.sort()).toEqual(Object.keys(BUNDLE_ENV).sort());
    expect(npm.environmentVariables!.find((v) => v.name === 'VAPI_API_KEY')).toMatchObject({ isSecret: true, isRequired: true });
    for (const v of npm.environmentVariables!.filter((e) => e.name !== 'VAPI_API_KEY')) expect(v.isSecret ?? false, v.name).toBe(false);
  });
});
