import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  createKeyring,
  DecryptionError,
  decryptSecret,
  encryptedKeyId,
  encryptSecret,
  generateBoxToken,
  generateEncryptionKey,
  maskSecret,
} from "./crypto";

describe("secrets at rest", () => {
  const keyring = createKeyring(generateEncryptionKey());

  it("round-trips and never repeats a ciphertext", () => {
    const a = encryptSecret(keyring, "hunter2", "t:1");
    const b = encryptSecret(keyring, "hunter2", "t:1");
    expect(a).not.toBe(b);
    expect(decryptSecret(keyring, a, "t:1")).toBe("hunter2");
    expect(encryptedKeyId(a)).toBe(keyring.current.id);
  });

  it("refuses another row's AAD, a tampered ciphertext and an unknown key", () => {
    const stored = encryptSecret(keyring, "hunter2", "t:1");
    expect(() => decryptSecret(keyring, stored, "t:2")).toThrow(DecryptionError);
    const parts = stored.split(".");
    parts[3] = Buffer.from("tampered").toString("base64url");
    expect(() => decryptSecret(keyring, parts.join("."), "t:1")).toThrow(DecryptionError);
    expect(() => decryptSecret(createKeyring(generateEncryptionKey()), stored, "t:1")).toThrow(
      /not configured/,
    );
    expect(() => decryptSecret(keyring, "garbage", "t:1")).toThrow(DecryptionError);
  });

  it("refuses a truncated authentication tag, naming its length", () => {
    const stored = encryptSecret(keyring, "hunter2", "t:1");
    const parts = stored.split(".");
    expect(Buffer.from(parts[4] ?? "", "base64url")).toHaveLength(16);
    for (const bytes of [4, 8, 12, 15]) {
      parts[4] = Buffer.from(stored.split(".")[4] ?? "", "base64url")
        .subarray(0, bytes)
        .toString("base64url");
      expect(() => decryptSecret(keyring, parts.join("."), "t:1")).toThrow(
        new DecryptionError(
          `stored secret has a ${bytes}-byte authentication tag; AES-GCM tags here are 16 bytes (truncated or tampered row)`,
        ),
      );
    }
  });

  it("decrypts with a previous key during rotation", () => {
    const oldKey = generateEncryptionKey();
    const stored = encryptSecret(createKeyring(oldKey), "v", "a");
    expect(decryptSecret(createKeyring(generateEncryptionKey(), [oldKey]), stored, "a")).toBe("v");
  });

  it("rejects a key of the wrong size", () => {
    expect(() => createKeyring(Buffer.alloc(16).toString("base64"))).toThrow(/32 bytes/);
  });

  it("makes 64-hex box tokens and compares in constant time", () => {
    expect(generateBoxToken()).toMatch(/^[0-9a-f]{64}$/);
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
  });

  it("masks without giving short secrets away", () => {
    expect(maskSecret("short")).toBe("••••••••");
    expect(maskSecret("sk-ant-0123456789abcd")).toBe("••••••••abcd");
  });
});
