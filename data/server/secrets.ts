/**
 * The server's secrets: device tokens, enrollment codes, login session ids and staff passwords. Only
 * hashes are stored: sha256 for random secrets (they carry 128+ bits, so a fast hash is enough), scrypt
 * for passwords (people choose them, so guessing must be slow).
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Hex sha256 of a string's UTF-8 bytes. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A new device token: `hth_` and 43 base64url characters (32 random bytes), as PROTOCOL.md says. */
export function newDeviceToken(): string {
  return `hth_${randomBytes(32).toString('base64url')}`;
}

/** A random opaque value (login session ids, CSRF tokens): 32 bytes, base64url. */
export function newOpaqueSecret(): string {
  return randomBytes(32).toString('base64url');
}

// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or typed is hard to get wrong.
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A one-time enrollment code: 20 base32 characters (100 bits) in groups of four, e.g. `7K3Q-…`. */
export function newEnrollmentCode(): string {
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => CODE_ALPHABET[b & 31]!).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** The form of a code that is hashed: upper case, dashes and spaces dropped, the look-alikes mapped. */
export function normaliseEnrollmentCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

// scrypt cost: N = 2^15, r = 8 (32 MiB, ~0.1 s on a laptop core), the parameters RFC 7914 section 2
// and OWASP's password storage sheet give for interactive logins. They are stored with each hash, so
// they can be raised later without breaking existing accounts.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 } as const;

function scryptAsync(password: string, salt: Buffer, keyLength: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, o, (err, key) => (err ? reject(err) : resolvePromise(key)));
  });
}

/** An scrypt hash as stored: `scrypt$N$r$p$<salt b64>$<key b64>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 128 * SCRYPT.N * SCRYPT.r * 2 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches a stored hash (constant-time comparison); false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (!Number.isInteger(N) || !Number.isInteger(r) || !Number.isInteger(p) || expected.length === 0) return false;
  const key = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem: 128 * N * r * 2 });
  return timingSafeEqual(key, expected);
}

/**
 * A hash of a password nobody has, verified against when the user name is unknown, so a login for a
 * name that does not exist takes as long as one with a wrong password (no user enumeration by timing).
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(newOpaqueSecret());
  return dummyHash;
}
