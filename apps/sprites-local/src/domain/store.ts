import { randomInt, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { NetworkPolicy } from "./network/policy.js";
import type { ResourcePolicyOverrides } from "./resources/policy.js";
import type { SandboxTarget } from "./sandbox.js";
import { SPRITE_HOME, SPRITE_USER } from "./sandbox.js";

export type UrlAuth = "sprite" | "public";

export interface ServiceDefinition {
  cmd: string;
  args: string[];
  env: Record<string, string>;
  dir: string | null;
  needs: string[];
  httpPort: number | null;
  /** Whether the service should be running; survives sleep and restarts of sprites-local. */
  wanted: boolean;
}

export interface CheckpointRecord {
  id: string;
  createTime: string;
  comment: string;
}

export interface SpriteRecord {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  urlAuth: UrlAuth;
  labels: string[];
  config: { ramMb: number; cpus: number; region: string; storageGb: number };
  environment: Record<string, string>;
  /** Unprivileged host uid the sprite's processes run as (only when sprites-local runs as root). */
  uid: number | null;
  services: Record<string, ServiceDefinition>;
  /** Egress rules (`/policy/network`); absent means no rules (the public internet). */
  networkPolicy?: NetworkPolicy;
  /** Resource limits set through `/policy/resources`; absent fields use the host defaults. */
  resources?: ResourcePolicyOverrides;
  checkpoints: CheckpointRecord[];
  checkpointSeq: number;
}

/** Sandbox uids come from a range no distribution hands out to real accounts. */
const UID_MIN = 200_000;
const UID_MAX = 2_000_000_000;

/**
 * On-disk layout, one directory per sprite (mode 0700, owned by the platform user):
 *   <dataDir>/<name>/sprite.json      the record
 *   <dataDir>/<name>/home/            the sprite's /home/sprite (owned by the sprite's uid)
 *   <dataDir>/<name>/tmp/             the sprite's /tmp (persists like a VM disk)
 *   <dataDir>/<name>/etc/{passwd,group}
 *   <dataDir>/<name>/checkpoints/<id>/home/
 *   <dataDir>/<name>/logs/<service>.log
 */
export class SpriteStore {
  readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = path.resolve(dataDir);
  }

  async init(): Promise<void> {
    await fs.mkdir(this.dataDir, { recursive: true, mode: 0o700 });
  }

  spriteDir(name: string): string {
    return path.join(this.dataDir, name);
  }

  target(record: SpriteRecord): SandboxTarget {
    const dir = this.spriteDir(record.name);
    return {
      name: record.name,
      homeDir: path.join(dir, "home"),
      tmpDir: path.join(dir, "tmp"),
      passwdFile: path.join(dir, "etc", "passwd"),
      groupFile: path.join(dir, "etc", "group"),
      uid: record.uid,
    };
  }

  checkpointDir(name: string, id: string): string {
    return path.join(this.spriteDir(name), "checkpoints", id);
  }

  logFile(name: string, service: string): string {
    return path.join(this.spriteDir(name), "logs", `${service}.log`);
  }

  async loadAll(): Promise<SpriteRecord[]> {
    const records: SpriteRecord[] = [];
    let names: string[];
    try {
      names = await fs.readdir(this.dataDir);
    } catch {
      return records;
    }
    for (const name of names) {
      try {
        const raw = await fs.readFile(path.join(this.dataDir, name, "sprite.json"), "utf8");
        records.push(JSON.parse(raw) as SpriteRecord);
      } catch {
        // Not a sprite directory (or a half-deleted one): skip it.
      }
    }
    return records;
  }

  /** Writes atomically so a crash never leaves a truncated record behind. */
  async save(record: SpriteRecord): Promise<void> {
    const file = path.join(this.spriteDir(record.name), "sprite.json");
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(record, null, 2), { mode: 0o600 });
    await fs.rename(tmp, file);
  }

  newRecord(
    name: string,
    fields: Pick<SpriteRecord, "urlAuth" | "labels" | "config" | "environment">,
    confineByUid: boolean,
    usedUids: Set<number>,
  ): SpriteRecord {
    const now = new Date().toISOString();
    let uid: number | null = null;
    if (confineByUid) {
      do {
        uid = randomInt(UID_MIN, UID_MAX);
      } while (usedUids.has(uid));
    }
    return {
      id: `sprite-${randomUUID()}`,
      name,
      createdAt: now,
      updatedAt: now,
      ...fields,
      uid,
      services: {},
      checkpoints: [],
      checkpointSeq: 0,
    };
  }

  /** Creates the sprite's directories with the ownership its sandbox needs. */
  async create(record: SpriteRecord): Promise<void> {
    const dir = this.spriteDir(record.name);
    const target = this.target(record);
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.mkdir(target.homeDir, { mode: 0o700 });
    await fs.mkdir(target.tmpDir, { mode: 0o1777 });
    await fs.chmod(target.tmpDir, 0o1777);
    await fs.mkdir(path.join(dir, "etc"), { mode: 0o755 });
    await fs.mkdir(path.join(dir, "logs"), { mode: 0o700 });
    await fs.mkdir(path.join(dir, "checkpoints"), { mode: 0o700 });
    const uid = record.uid ?? process.getuid?.() ?? 1000;
    const gid = record.uid ?? process.getgid?.() ?? 1000;
    await fs.writeFile(
      target.passwdFile,
      `root:x:0:0:root:/root:/usr/sbin/nologin\n${SPRITE_USER}:x:${uid}:${gid}:${SPRITE_USER}:${SPRITE_HOME}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
      { mode: 0o644 },
    );
    await fs.writeFile(target.groupFile, `root:x:0:\n${SPRITE_USER}:x:${gid}:\nnogroup:x:65534:\n`, {
      mode: 0o644,
    });
    if (record.uid !== null) {
      await fs.chown(target.homeDir, record.uid, record.uid);
      await fs.chown(target.tmpDir, record.uid, record.uid);
    }
    await this.save(record);
  }

  async remove(name: string): Promise<void> {
    await fs.rm(this.spriteDir(name), { recursive: true, force: true });
  }
}
