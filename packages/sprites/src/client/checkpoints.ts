import { SpritesError, toSpritesError } from "../errors.js";
import type { ClientContext } from "./context.js";

export interface CheckpointInfo {
  id: string;
  createTime: Date;
  comment: string;
}

export interface CheckpointOperations {
  checkpoint(name: string, comment?: string): Promise<CheckpointInfo>;
  listCheckpoints(name: string): Promise<CheckpointInfo[]>;
  restoreCheckpoint(name: string, checkpointId: string): Promise<void>;
}

/** Orders "v3" after "v2" when two checkpoints share a timestamp. */
function checkpointSeq(id: string): number {
  const match = /^v(\d+)$/.exec(id);
  return match ? Number(match[1]) : -1;
}

/** Reads a checkpoint or restore progress stream to its end; an error message in it fails the operation. */
async function drainProgress(
  start: () => Promise<AsyncIterable<{ type: string; error?: string; data?: string }>>,
  operation: string,
): Promise<void> {
  try {
    const stream = await start();
    for await (const message of stream) {
      if (message.type === "error") {
        throw new SpritesError(
          "operation_failed",
          `${operation} failed: ${message.error ?? message.data ?? ""}`,
        );
      }
    }
  } catch (error) {
    throw toSpritesError(error, operation);
  }
}

export function checkpointOperations(ctx: ClientContext): CheckpointOperations {
  const { sdk, retried } = ctx;

  async function listCheckpoints(name: string): Promise<CheckpointInfo[]> {
    const checkpoints = await retried(`list checkpoints of sprite '${name}'`, () =>
      sdk.sprite(name).listCheckpoints(),
    );
    return checkpoints
      .filter((checkpoint) => checkpoint.id !== "Current")
      .map((checkpoint) => ({
        id: checkpoint.id,
        createTime: checkpoint.createTime,
        comment: checkpoint.comment ?? "",
      }));
  }

  return {
    listCheckpoints,

    async checkpoint(name, comment = "") {
      const operation = `checkpoint sprite '${name}'`;
      await drainProgress(() => sdk.sprite(name).createCheckpoint(comment || undefined), operation);
      const checkpoints = await listCheckpoints(name);
      const newest = checkpoints
        .filter((checkpoint) => checkpoint.comment === comment)
        .sort(
          (a, b) =>
            b.createTime.getTime() - a.createTime.getTime() || checkpointSeq(b.id) - checkpointSeq(a.id),
        )[0];
      if (!newest) {
        throw new SpritesError("operation_failed", `${operation}: the new checkpoint is not in the list`);
      }
      return newest;
    },

    async restoreCheckpoint(name, checkpointId) {
      await drainProgress(
        () => sdk.sprite(name).restoreCheckpoint(checkpointId),
        `restore checkpoint '${checkpointId}' on sprite '${name}'`,
      );
    },
  };
}
