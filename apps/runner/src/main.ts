import type { EmbeddedPostgres, EmbeddedRedis } from "@vps-claude/embedded";
import { CleanupStack } from "./cleanup-stack";
import { loadRunnerEnv, type RunnerEnv } from "./env";
import { type ChildSpec, ManagedChild } from "./managed-child";
import { print } from "./output";
import { RUN_MARKER } from "./stale-run";
import { dataDir, type Service, START_STEPS, type StartRun, type StartState } from "./start-steps";

const CHILD_STOP_GRACE_MS = 4_000;

/** Runs the start steps in order; one failure path (`shutdown(1)`) and one cleanup stack undo them. */
class Runner implements StartRun {
  readonly state: StartState = { runSpritesLocal: false };
  readonly cleanup = new CleanupStack();
  private readonly children: ManagedChild[] = [];
  private stopping: Promise<never> | undefined;
  private firstSignalAt = 0;

  constructor(readonly env: RunnerEnv) {}

  get shuttingDown(): boolean {
    return this.stopping !== undefined;
  }

  async run(): Promise<void> {
    for (const step of START_STEPS) {
      if (this.shuttingDown) {
        return;
      }
      await step(this);
    }
  }

  startChild(spec: ChildSpec, options: { expectExit?: boolean } = {}): ManagedChild {
    const child = new ManagedChild({ ...spec, env: { ...spec.env, [RUN_MARKER]: dataDir } });
    this.children.push(child);
    this.cleanup.push(child.name, "process", () => child.stop(CHILD_STOP_GRACE_MS));
    if (!options.expectExit) {
      void child.exited.then(({ code, signal }) => {
        if (!this.shuttingDown) {
          this.reportCrash(child, `exited with ${signal ?? `code ${code}`}`);
          void this.shutdown(1);
        }
      });
    }
    return child;
  }

  infrastructure(name: string, starting: Promise<Service>): Promise<Service> {
    // Awaited later; until then a failure must not count as an unhandled rejection.
    starting.catch(() => undefined);
    this.cleanup.push(name, "infrastructure", async () => {
      const service = await starting.catch(() => undefined);
      await service?.stop();
    });
    return starting;
  }

  async embedded(
    name: string,
    starting: Promise<EmbeddedPostgres | EmbeddedRedis>,
    note: string,
  ): Promise<Service> {
    const server = await starting;
    void server.exited.then(() => {
      if (!this.shuttingDown) {
        print("runner", `${name} stopped unexpectedly; its log is in .data/${name}`);
        void this.shutdown(1);
      }
    });
    return {
      name,
      url: server.url,
      description: `embedded, 127.0.0.1:${server.port}, ${note}`,
      stop: server.stop,
    };
  }

  reportCrash(child: ManagedChild, how: string): void {
    print("runner", `${child.name} ${how}. Its last lines:`);
    for (const line of child.lastLines()) {
      print("runner", `  ${line}`);
    }
  }

  onSignal(signal: NodeJS.Signals): void {
    const now = Date.now();
    if (!this.shuttingDown) {
      this.firstSignalAt = now;
      print("runner", `${signal}: stopping everything (Ctrl-C again to kill the services at once)`);
      void this.shutdown(0);
      return;
    }
    // npm and tsx pass a terminal Ctrl-C on, so one press arrives several times within a moment.
    if (now - this.firstSignalAt > 1_000) {
      print("runner", "killing the services");
      for (const child of this.children) {
        child.kill();
      }
    }
  }

  /** Unwinds the cleanup stack (the services, then Redis and Postgres, then the lock) and exits. */
  shutdown(code: number): Promise<never> {
    this.stopping ??= (async () => {
      await this.cleanup.unwind();
      print("runner", code === 0 ? "stopped" : "stopped after a failure");
      process.exit(code);
    })();
    return this.stopping;
  }
}

async function main(): Promise<void> {
  let env: RunnerEnv;
  try {
    env = loadRunnerEnv();
  } catch (error) {
    print("runner", (error as Error).message);
    process.exit(1);
  }
  const runner = new Runner(env);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => runner.onSignal(signal));
  }
  try {
    await runner.run();
  } catch (error) {
    if (!runner.shuttingDown) {
      print("runner", `failed to start: ${(error as Error).message}`);
      await runner.shutdown(1);
    }
  }
}

await main();
