/**
 * Masks secrets in any text that may leave the process: API keys, and the monitor URLs that are bearer
 * capabilities (anyone holding one can listen to or steer a call).
 */
const MONITOR_URL = /\b(?:wss?|https?):\/\/[^\s"'<>]+\/(?:listen|control|transport)\b/gi;

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Register a secret; values shorter than 6 characters are ignored (masking them would mangle ordinary text). */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 6) this.secrets.add(secret);
  }

  redact = (text: string): string => {
    let out = text.replace(MONITOR_URL, '[monitor-url]');
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    }
    return out;
  };
}
