/**
 * What the built-in authorization server keeps under VAPI_MCP_DATA_DIR (directory 0700, files 0600): its signing
 * key and cookie keys, created on first start, and its records (registered clients, grants, refresh tokens,
 * sessions), so a restart signs nobody out. Records live in memory and each change rewrites one JSON file
 * atomically (write, then rename): the volume is a handful of clients and grants, never a database's worth.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export const SIGNING_ALGORITHM = 'ES256';

interface StoredRecord {
  payload: Record<string, unknown>;
  /** Epoch milliseconds; absent: does not expire. */
  expiresAt?: number;
}

type Records = Record<string, Record<string, StoredRecord>>;

export interface Secrets {
  /** The private signing key (JWK), never served; the public half is in publicJwks. */
  signingKey: JWK;
  cookieKeys: string[];
}

export class OAuthStore {
  private readonly recordsFile: string;
  private readonly records: Records;

  private constructor(
    readonly dir: string,
    readonly secrets: Secrets,
  ) {
    this.recordsFile = join(dir, 'records.json');
    this.records = existsSync(this.recordsFile) ? (JSON.parse(readFileSync(this.recordsFile, 'utf8')) as Records) : {};
  }

  static async open(dir: string): Promise<OAuthStore> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const secretsFile = join(dir, 'keys.json');
    let secrets: Secrets;
    if (existsSync(secretsFile)) {
      chmodSync(secretsFile, 0o600);
      secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as Secrets;
    } else {
      const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
      const jwk = await exportJWK(privateKey);
      const signingKey: JWK = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALGORITHM, use: 'sig' };
      secrets = { signingKey, cookieKeys: [randomBytes(32).toString('base64url')] };
      writePrivate(secretsFile, JSON.stringify(secrets, null, 2));
    }
    return new OAuthStore(dir, secrets);
  }

  /** The public signing key, as a JWKS (what /oauth/jwks serves and what this server's own tokens are checked with). */
  publicJwks(): { keys: JWK[] } {
    const { kty, crv, x, y, kid, alg, use } = this.secrets.signingKey;
    return { keys: [{ kty, crv, x, y, kid, alg, use }] };
  }

  get(model: string, id: string): Record<string, unknown> | undefined {
    const record = this.records[model]?.[id];
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) {
      this.delete(model, id);
      return undefined;
    }
    return record.payload;
  }

  find(model: string, match: (payload: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    const id = Object.entries(this.records[model] ?? {}).find(([, record]) => match(record.payload))?.[0];
    return id === undefined ? undefined : this.get(model, id);
  }

  set(model: string, id: string, payload: Record<string, unknown>, expiresInSeconds?: number): void {
    (this.records[model] ??= {})[id] = { payload, ...(expiresInSeconds ? { expiresAt: Date.now() + expiresInSeconds * 1000 } : {}) };
    this.save();
  }

  delete(model: string, id: string): void {
    if (!this.records[model]?.[id]) return;
    delete this.records[model][id];
    this.save();
  }

  /** Every record of a grant (its refresh tokens, codes, the grant itself) goes when the grant is revoked. */
  deleteGrant(grantId: string): void {
    for (const records of Object.values(this.records)) {
      for (const [id, record] of Object.entries(records)) if (record.payload.grantId === grantId) delete records[id];
    }
    this.save();
  }

  private save(): void {
    const now = Date.now();
    for (const records of Object.values(this.records)) {
      for (const [id, record] of Object.entries(records)) if (record.expiresAt !== undefined && record.expiresAt <= now) delete records[id];
    }
    writePrivate(this.recordsFile, JSON.stringify(this.records));
  }
}

function writePrivate(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The storage oidc-provider asks for, one instance per model (Client, Grant, RefreshToken, Session, …). */
export function adapterFor(store: OAuthStore) {
  return class FileAdapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      store.set(this.model, id, payload, expiresIn);
    }

    async find(id: string): Promise<Record<string, unknown> | undefined> {
      return store.get(this.model, id);
    }

    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      return store.find(this.model, (payload) => payload.uid === uid);
    }

    async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      return store.find(this.model, (payload) => payload.userCode === userCode);
    }

    async consume(id: string): Promise<void> {
      const payload = store.get(this.model, id);
      if (payload) store.set(this.model, id, { ...payload, consumed: Math.floor(Date.now() / 1000) }, remainingSeconds(payload));
    }

    async destroy(id: string): Promise<void> {
      store.delete(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      store.deleteGrant(grantId);
    }
  };
}

function remainingSeconds(payload: Record<string, unknown>): number | undefined {
  return typeof payload.exp === 'number' ? Math.max(1, payload.exp - Math.floor(Date.now() / 1000)) : undefined;
}
