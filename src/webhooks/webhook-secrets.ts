import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { AppError } from "../errors.js";

/**
 * Endpoint signing secrets. They are shown once (on create and on rotation) and stored
 * encrypted, not hashed: every delivery must be signed with the secret itself. The key is
 * derived from PROPVID_SECRET with HKDF-SHA256 (its own `info`, so it is independent of the
 * signed-URL HMACs), the cipher is AES-256-GCM, and the endpoint's id is the associated data, so
 * a ciphertext copied onto another endpoint's row does not open. Changing PROPVID_SECRET makes
 * stored secrets unreadable: deliveries then fail with a reason until the secrets are rotated.
 */

export const SECRET_PREFIX = "whsec_";
const FORMAT = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

export class WebhookSecretBox {
  private readonly key: Buffer;

  constructor(serverSecret: string) {
    this.key = Buffer.from(
      hkdfSync("sha256", serverSecret, "propvid", "webhook endpoint signing secrets v1", 32),
    );
  }

  /** `v1.<base64url iv ‖ tag ‖ ciphertext>`, bound to the endpoint. */
  seal(secret: string, endpointId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(endpointId));
    const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return `${FORMAT}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url")}`;
  }

  /** The secret, or an AppError when the text was not sealed for this endpoint with this key. */
  open(sealed: string, endpointId: string): string {
    try {
      const [format, packed] = sealed.split(".", 2);
      if (format !== FORMAT || !packed) throw new Error("unknown format");
      const bytes = Buffer.from(packed, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(endpointId));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    } catch (error) {
      throw new AppError(
        "INTERNAL_SERVER_ERROR",
        "The endpoint's signing secret cannot be read (was PROPVID_SECRET changed?); rotate it",
        { cause: error },
      );
    }
  }
}
