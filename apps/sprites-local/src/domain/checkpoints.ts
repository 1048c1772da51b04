import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { ApiError } from "./errors.js";
import type { ManagedSprite } from "./managed-sprite.js";
import type { CheckpointRecord, SpriteStore } from "./store.js";

const execFileAsync = promisify(execFile);

export type ProgressEmitter = (type: "info" | "error" | "complete", message: string) => void;

/**
 * `cp -a` keeps ownership (the sprite's uid), modes and symlinks as they are; it never follows a
 * symlink the sprite planted, so a checkpoint cannot be turned into a copy of host files.
 */
async function copyTree(source: string, destination: string): Promise<void> {
  await execFileAsync("cp", ["-a", "--", source, destination]);
}

export function checkpointToJSON(checkpoint: CheckpointRecord): Record<string, unknown> {
  return {
    id: checkpoint.id,
    create_time: checkpoint.createTime,
    comment: checkpoint.comment,
    is_auto: false,
  };
}

/** Copies the sprite's home while its processes are frozen, so the copy is consistent. */
export async function createCheckpoint(
  sprite: ManagedSprite,
  store: SpriteStore,
  comment: string,
  emit: ProgressEmitter,
): Promise<CheckpointRecord> {
  const id = `v${sprite.record.checkpointSeq + 1}`;
  sprite.record.checkpointSeq += 1;
  emit("info", "Creating checkpoint...");
  const dir = store.checkpointDir(sprite.name, id);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  emit("info", "Pausing processes...");
  for (const service of sprite.services.values()) {
    service.freeze();
  }
  try {
    emit("info", "Saving filesystem state...");
    await copyTree(sprite.target.homeDir, path.join(dir, "home"));
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    for (const service of sprite.services.values()) {
      service.thaw();
    }
  }
  const checkpoint: CheckpointRecord = { id, createTime: new Date().toISOString(), comment };
  sprite.record.checkpoints.push(checkpoint);
  await sprite.save();
  emit("complete", `Checkpoint ${id} created`);
  return checkpoint;
}

export function findCheckpoint(sprite: ManagedSprite, id: string): CheckpointRecord {
  const checkpoint = sprite.record.checkpoints.find((c) => c.id === id);
  if (!checkpoint) {
    throw new ApiError("not_found", `checkpoint '${id}' not found on sprite '${sprite.name}'`);
  }
  return checkpoint;
}

/** Replaces the sprite's home with the checkpoint's copy; processes are stopped and services restarted. */
export async function restoreCheckpoint(
  sprite: ManagedSprite,
  store: SpriteStore,
  id: string,
  emit: ProgressEmitter,
): Promise<void> {
  findCheckpoint(sprite, id);
  const source = path.join(store.checkpointDir(sprite.name, id), "home");
  const home = sprite.target.homeDir;
  const staging = `${home}.restore-${process.pid}`;
  const previous = `${home}.previous-${process.pid}`;
  emit("info", `Restoring checkpoint ${id}...`);
  emit("info", "Stopping processes...");
  await sprite.stopAllProcesses();
  await fs.rm(staging, { recursive: true, force: true });
  await copyTree(source, staging);
  emit("info", "Replacing filesystem state...");
  await fs.rename(home, previous);
  await fs.rename(staging, home);
  await fs.rm(previous, { recursive: true, force: true });
  emit("info", "Starting services...");
  sprite.restartWantedServices();
  emit("complete", `Restored checkpoint ${id}`);
}
