import type { ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import type { Logger } from "@vps-claude/logger";
import { ApiError } from "./errors.js";
import type { SpriteNetwork } from "./network/sprite-network.js";
import { descendants, signalTree } from "./process-tree.js";
import type { ResourceHost, SpriteResources } from "./resources/host.js";
import type { Sandbox, SandboxSpawnOptions, SandboxTarget } from "./sandbox.js";
import { ServiceRuntime } from "./services.js";
import type { ServiceDefinition, SpriteRecord, SpriteStore } from "./store.js";

export type SpriteStatus = "cold" | "warm" | "running";

export interface ManagedSpriteDeps {
  store: SpriteStore;
  sandbox: Sandbox;
  logger: Logger;
  idleMs: number;
  coldAfterMs: number;
  resources: ResourceHost;
}

/** Port the sprite URL routes to when no service declares `http_port`, as on Fly. */
export const DEFAULT_HTTP_PORT = 8080;
const SERVICE_STOP_TIMEOUT_MS = 10_000;

/**
 * A sprite's live state. Sleep mirrors Fly: after `idleMs` without traffic it turns `warm`
 * (processes frozen with SIGSTOP), after a further `coldAfterMs` `cold` (processes killed, disk kept).
 * Work on the sprite (exec, filesystem, services, checkpoints, URL requests) wakes it;
 * reading its record does not, so GET shows the real state.
 */
export class ManagedSprite {
  record: SpriteRecord;
  status: SpriteStatus = "cold";
  readonly services = new Map<string, ServiceRuntime>();
  /** Memory, CPU, pids, open files and disk limits (`/policy/resources`). */
  readonly resources: SpriteResources;
  /** The sprite's own network namespace; null when sprites share the host network. */
  network: SpriteNetwork | null = null;
  /**
   * The egress proxy variables, part of the default environment (services, exec without env=).
   * An exec that replaces its environment gets exactly what it asked for; the namespace confines it anyway.
   */
  networkEnv: Record<string, string> = {};

  private readonly deps: ManagedSpriteDeps;
  private readonly logger: Logger;
  private readonly processes = new Set<ChildProcess>();
  private active = 0;
  private lastActivity = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private goingCold: Promise<void> | null = null;
  private deleted = false;

  constructor(record: SpriteRecord, deps: ManagedSpriteDeps) {
    this.record = record;
    this.deps = deps;
    this.logger = deps.logger.child({ sprite: record.name });
    const target = deps.store.target(record);
    this.resources = deps.resources.forSprite({
      name: record.name,
      diskDirs: [target.homeDir, target.tmpDir],
      overrides: () => this.record.resources ?? {},
      fallbackPids: () =>
        [...this.processes].flatMap((child) =>
          child.pid === undefined ? [] : [child.pid, ...descendants(child.pid).map((entry) => entry.pid)],
        ),
      logger: this.logger,
    });
    for (const [name, definition] of Object.entries(record.services)) {
      this.services.set(name, this.newServiceRuntime(name, definition));
    }
  }

  get name(): string {
    return this.record.name;
  }

  get target(): SandboxTarget {
    return { ...this.deps.store.target(this.record), netns: this.network?.netnsPath ?? null };
  }

  /** A byte stream to `port` inside the sprite (through its namespace's forwarder when it has one). */
  connectPort(port: number): net.Socket {
    return this.network ? this.network.connect(port) : net.connect({ host: "127.0.0.1", port });
  }

  /** Whether something inside the sprite accepts connections on `port`. */
  portListening(port: number): Promise<boolean> {
    if (this.network) {
      return this.network.probe(port);
    }
    return new Promise((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  }

  get sandbox(): Sandbox {
    return this.deps.sandbox;
  }

  /** The port URL traffic goes to: the first service declaring `http_port`, else 8080. */
  httpPort(): number {
    const names = [...this.services.keys()].sort();
    for (const name of names) {
      const port = this.services.get(name)?.definition.httpPort;
      if (port) {
        return port;
      }
    }
    return DEFAULT_HTTP_PORT;
  }

  httpServiceStarting(): boolean {
    const port = this.httpPort();
    for (const service of this.services.values()) {
      if (service.definition.httpPort === port) {
        return service.status === "starting" || service.status === "running";
      }
    }
    return false;
  }

  /** Brings the sprite to `running`; returns the status it had before. */
  async wake(): Promise<SpriteStatus> {
    this.ensureAlive();
    // A cold transition still killing processes must finish first, or services would be "started"
    // while their old process is dying and then count its death as a crash.
    while (this.goingCold) {
      await this.goingCold;
    }
    this.ensureAlive();
    const previous = this.status;
    if (previous === "warm") {
      for (const service of this.services.values()) {
        service.thaw();
      }
      for (const child of this.processes) {
        if (child.pid !== undefined) {
          signalTree(child.pid, "SIGCONT");
        }
      }
    }
    this.status = "running";
    if (previous === "cold") {
      for (const name of this.services.keys()) {
        if (this.services.get(name)?.definition.wanted) {
          this.startService(name);
        }
      }
    }
    if (previous !== "running") {
      this.logger.info({ from: previous }, "sprite woke");
    }
    this.touch();
    return previous;
  }

  touch(): void {
    this.lastActivity = Date.now();
    this.schedule();
  }

  /** Keeps the sprite awake until the returned function is called (exec sessions, streamed responses). */
  hold(): () => void {
    this.active += 1;
    this.clearTimer();
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      this.active -= 1;
      this.touch();
    };
  }

  /** Spawns a process in the sprite's sandbox and tracks it so sleep and delete reach it. */
  spawn(options: SandboxSpawnOptions): ChildProcess {
    this.ensureAlive();
    const child = this.deps.sandbox.spawn(this.target, {
      ...options,
      launchPrefix: this.resources.launchPrefix(),
    });
    this.processes.add(child);
    child.once("close", () => this.processes.delete(child));
    child.once("error", () => this.processes.delete(child));
    return child;
  }

  /** A working directory as the sprite sees it; relative ones are taken from its home. */
  resolveDir(dir: string | null | undefined): string {
    const home = this.deps.sandbox.home(this.target);
    if (!dir) {
      return home;
    }
    return path.posix.isAbsolute(dir) ? dir : path.posix.join(home, dir);
  }

  baseEnv(): Record<string, string> {
    return { ...this.deps.sandbox.baseEnv(this.target), ...this.networkEnv, ...this.record.environment };
  }

  async save(): Promise<void> {
    this.record.updatedAt = new Date().toISOString();
    await this.deps.store.save(this.record);
  }

  async putService(name: string, definition: ServiceDefinition): Promise<ServiceRuntime> {
    for (const need of definition.needs) {
      if (need === name || (!this.services.has(need) && !this.record.services[need])) {
        throw new ApiError("invalid_request", `service '${name}' needs unknown service '${need}'`);
      }
    }
    const existing = this.services.get(name);
    if (existing) {
      await existing.stop(SERVICE_STOP_TIMEOUT_MS);
      existing.definition = definition;
    } else {
      this.services.set(name, this.newServiceRuntime(name, definition));
    }
    this.record.services[name] = definition;
    await this.save();
    return this.requireService(name);
  }

  requireService(name: string): ServiceRuntime {
    const service = this.services.get(name);
    if (!service) {
      throw new ApiError("not_found", `service '${name}' not found on sprite '${this.name}'`);
    }
    return service;
  }

  /** Starts a service after the services it needs. */
  startService(name: string, visiting = new Set<string>()): void {
    if (visiting.has(name)) {
      return;
    }
    visiting.add(name);
    const service = this.requireService(name);
    for (const need of service.definition.needs) {
      if (this.services.has(need)) {
        this.startService(need, visiting);
      }
    }
    service.start();
  }

  async setServiceWanted(name: string, wanted: boolean): Promise<void> {
    const service = this.requireService(name);
    service.definition.wanted = wanted;
    this.record.services[name] = service.definition;
    await this.save();
  }

  async stopService(name: string, timeoutMs = SERVICE_STOP_TIMEOUT_MS): Promise<void> {
    await this.requireService(name).stop(timeoutMs);
  }

  async deleteService(name: string): Promise<void> {
    const service = this.requireService(name);
    if (service.isRunning) {
      throw new ApiError("conflict", `service '${name}' is running; stop it before deleting it`);
    }
    await service.stop(0);
    this.services.delete(name);
    delete this.record.services[name];
    await this.save();
  }

  /** Stops every process (services and exec sessions), for checkpoint restore and cold sleep. */
  async stopAllProcesses(): Promise<void> {
    await Promise.all([...this.services.values()].map((service) => service.suspend()));
    await this.killExecProcesses();
  }

  /** Restarts wanted services after a restore, if the sprite is awake. */
  restartWantedServices(): void {
    if (this.status !== "running") {
      return;
    }
    for (const [name, service] of this.services) {
      if (service.definition.wanted) {
        this.startService(name);
      }
    }
  }

  /** Kills everything for good: sprite deletion and sprites-local shutdown. */
  async shutdown(): Promise<void> {
    this.deleted = true;
    this.clearTimer();
    await Promise.all([...this.services.values()].map((service) => service.suspend()));
    await this.killExecProcesses();
    await this.resources.close();
  }

  private async killExecProcesses(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const child of this.processes) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
        continue;
      }
      waits.push(new Promise<void>((resolve) => child.once("close", () => resolve())));
      signalTree(child.pid, "SIGKILL");
    }
    await Promise.all(waits);
  }

  private newServiceRuntime(name: string, definition: ServiceDefinition): ServiceRuntime {
    return new ServiceRuntime(
      name,
      definition,
      {
        spawn: (def) =>
          this.spawn({
            argv: [def.cmd, ...def.args],
            env: { ...this.baseEnv(), ...def.env },
            cwd: this.resolveDir(def.dir),
          }),
        commandPid: (child) => this.deps.sandbox.commandPid(child),
        logger: this.logger,
      },
      this.deps.store.logFile(this.name, name),
      this.resources.serviceLogBytes,
    );
  }

  private ensureAlive(): void {
    if (this.deleted) {
      throw new ApiError("not_found", `sprite '${this.name}' was deleted`);
    }
  }

  private schedule(): void {
    this.clearTimer();
    if (this.active > 0 || this.deleted || this.status !== "running") {
      return;
    }
    const wait = Math.max(0, this.lastActivity + this.deps.idleMs - Date.now());
    this.timer = setTimeout(() => this.toWarm(), wait);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private toWarm(): void {
    this.timer = null;
    if (this.active > 0 || this.status !== "running") {
      return;
    }
    for (const service of this.services.values()) {
      service.freeze();
    }
    for (const child of this.processes) {
      if (child.pid !== undefined) {
        signalTree(child.pid, "SIGSTOP");
      }
    }
    this.status = "warm";
    this.logger.info("sprite is idle: warm (processes frozen)");
    this.timer = setTimeout(() => {
      void this.toCold();
    }, this.deps.coldAfterMs);
    this.timer.unref();
  }

  private async toCold(): Promise<void> {
    this.timer = null;
    if (this.status !== "warm" || this.goingCold) {
      return;
    }
    this.status = "cold";
    this.resources.pause();
    this.logger.info("sprite is idle: cold (processes stopped)");
    this.goingCold = this.stopAllProcesses().finally(() => {
      this.goingCold = null;
    });
    await this.goingCold;
  }
}
