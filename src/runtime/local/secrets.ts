/**
 * Generated credentials for the local runtime: created on the first `up`, kept in the
 * state directory with mode 0600, reused afterwards (PostgreSQL's data directory and
 * the broker's database remember them). Never a default secret.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from './state.js';

export interface Secrets {
  postgresPassword: string;
  brokerUser: string;
  brokerPassword: string;
}

/** URL- and config-safe random text (letters, digits, - and _). */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function generateSecrets(): Secrets {
  return {
    postgresPassword: generateSecret(),
    brokerUser: `ecom-${randomBytes(3).toString('hex')}`,
    brokerPassword: generateSecret(),
  };
}

/** `created` tells the caller that data made with older secrets is now unusable. */
export function loadOrCreateSecrets(file: string): { secrets: Secrets; created: boolean } {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
    if (parsed.postgresPassword && parsed.brokerUser && parsed.brokerPassword) {
      chmodSync(file, 0o600);
      return { secrets: parsed as Secrets, created: false };
    }
  } catch {
    // missing or unreadable: make new ones
  }
  const secrets = generateSecrets();
  writeJsonAtomic(file, secrets, 0o600);
  return { secrets, created: true };
}
