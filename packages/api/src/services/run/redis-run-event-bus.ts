import { type RunEvent, runEventSchema } from "@vps-claude/contract/box-agent";
import type { Logger } from "@vps-claude/logger";
import type { Redis } from "@vps-claude/redis";
import type { RunEventBus } from "../../deps";

export interface RedisRunEventBusOptions {
  /** Publishes: a producer connection (fails fast when Redis is away; the follower logs and goes on). */
  publisher: Redis;
  /**
   * Makes the process's one subscriber connection, on the first subscription (a worker-only process
   * never opens it). A connection that retries forever: ioredis subscribes again after a reconnect.
   */
  createSubscriber: () => Redis;
  /** The queue prefix, so two platforms (or two tests) sharing a Redis never hear each other. */
  prefix: string;
  logger: Logger;
  /** How long `subscribe` waits for Redis to confirm before it resolves anyway (see below). */
  subscribeTimeoutMs?: number;
}

export interface ClosableRunEventBus extends RunEventBus {
  close(): Promise<void>;
}

type Listener = (event: RunEvent) => void;

interface Channel {
  listeners: Set<Listener>;
  /** Settles once Redis confirmed the SUBSCRIBE (or the wait for it gave up). */
  subscribed: Promise<void>;
}

/**
 * {@link RunEventBus} over Redis pub/sub: channel `<prefix>:run:<runId>`, one subscriber connection
 * per process however many runs are watched, one SUBSCRIBE per channel however many watchers it has
 * (the last one leaving unsubscribes). What arrives is parsed against the contract's event schema
 * before any listener sees it: anything else on a channel is dropped and logged.
 *
 * Pub/sub delivers only to those listening at the moment of a publish, and not at all while Redis
 * is away; Postgres keeps every event, so a subscriber reads what it missed from there. That is also
 * why a subscribe whose confirmation does not come in time resolves anyway (the SUBSCRIBE stays
 * queued for the reconnect): the caller's store-then-live reading covers the gap, and a request is
 * not held hostage by a Redis outage.
 */
export function createRedisRunEventBus({
  publisher,
  createSubscriber,
  prefix,
  logger,
  subscribeTimeoutMs = 5_000,
}: RedisRunEventBusOptions): ClosableRunEventBus {
  const channels = new Map<string, Channel>();
  let subscriber: Redis | undefined;
  let closed = false;
  const channelOf = (runId: string) => `${prefix}:run:${runId}`;

  function deliver(name: string, message: string): void {
    const channel = channels.get(name);
    if (!channel) {
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      logger.warn({ channel: name }, "a run event on Redis is not JSON; dropped");
      return;
    }
    const parsed = runEventSchema.safeParse(json);
    if (!parsed.success) {
      logger.warn(
        { channel: name, issue: parsed.error.issues[0]?.message },
        "a run event on Redis has the wrong shape; dropped",
      );
      return;
    }
    for (const listener of channel.listeners) {
      try {
        listener(parsed.data);
      } catch (err) {
        logger.error({ err, channel: name }, "a run event listener threw");
      }
    }
  }

  function connection(): Redis {
    if (!subscriber) {
      subscriber = createSubscriber();
      subscriber.on("message", deliver);
    }
    return subscriber;
  }

  async function confirm(name: string, command: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), subscribeTimeoutMs);
    });
    try {
      const outcome = await Promise.race([command.then(() => "ok" as const), gaveUp]);
      if (outcome === "timeout") {
        logger.warn({ channel: name }, "Redis did not confirm a run subscription in time; going on without");
      }
    } catch (err) {
      logger.warn({ err, channel: name }, "subscribing to a run's events failed; going on without");
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async publish(runId, event) {
      await publisher.publish(channelOf(runId), JSON.stringify(event));
    },

    async subscribe(runId, onEvent) {
      if (closed) {
        throw new Error("the run event bus is closed");
      }
      const name = channelOf(runId);
      // Its own identity, so one function subscribed twice is two subscriptions.
      const listener: Listener = (event) => onEvent(event);
      let channel = channels.get(name);
      if (!channel) {
        channel = { listeners: new Set(), subscribed: confirm(name, connection().subscribe(name)) };
        channels.set(name, channel);
      }
      channel.listeners.add(listener);
      await channel.subscribed;
      const mine = channel;
      let left = false;
      return async () => {
        if (left) {
          return;
        }
        left = true;
        mine.listeners.delete(listener);
        if (mine.listeners.size === 0 && channels.get(name) === mine) {
          channels.delete(name);
          // Ordered after any SUBSCRIBE sent before and before any sent after, on the one connection.
          await connection()
            .unsubscribe(name)
            .catch((err: unknown) => logger.warn({ err, channel: name }, "unsubscribing from a run failed"));
        }
      };
    },

    async close() {
      closed = true;
      channels.clear();
      const connection = subscriber;
      subscriber = undefined;
      if (connection) {
        await connection.quit().catch(() => connection.disconnect());
      }
    },
  };
}
