import type { ServiceWithState } from "@fly/sprites";
import { SpritesError } from "../errors.js";
import type { ClientContext } from "./context.js";

export interface ServiceSpec {
  name: string;
  cmd: string;
  args?: string[];
  env?: Record<string, string>;
  dir?: string;
  needs?: string[];
  /** The port the sprite URL routes to. */
  httpPort?: number;
}

export interface ServiceInfo {
  name: string;
  cmd: string;
  args: string[];
  httpPort: number | null;
  status: string;
  pid: number | null;
  restartCount: number;
  error: string | null;
}

export interface PutServiceResult {
  service: ServiceInfo;
  /** Output and lifecycle events seen while the service started. */
  events: Array<{ type: string; data?: string; exitCode?: number }>;
}

export interface ServiceOperations {
  /** Creates or replaces a service and starts it; `monitor` is how long to collect its startup output. */
  putService(name: string, service: ServiceSpec, options?: { monitor?: string }): Promise<PutServiceResult>;
  getService(name: string, serviceName: string): Promise<ServiceInfo | null>;
  /** Stops (if running) and deletes a service; a missing service is fine. */
  deleteService(name: string, serviceName: string): Promise<void>;
}

function serviceInfo(service: ServiceWithState): ServiceInfo {
  return {
    name: service.name,
    cmd: service.cmd,
    args: service.args ?? [],
    httpPort: service.httpPort ?? null,
    status: service.state?.status ?? "stopped",
    pid: service.state?.pid ?? null,
    restartCount: service.state?.restartCount ?? 0,
    error: service.state?.error ?? null,
  };
}

export function serviceOperations(ctx: ClientContext): ServiceOperations {
  const { sdk, logger, retried } = ctx;

  async function getService(name: string, serviceName: string): Promise<ServiceInfo | null> {
    try {
      return serviceInfo(
        await retried(`get service '${serviceName}' on sprite '${name}'`, () =>
          sdk.sprite(name).getService(serviceName),
        ),
      );
    } catch (error) {
      if (error instanceof SpritesError && error.code === "not_found") {
        return null;
      }
      throw error;
    }
  }

  return {
    getService,

    async putService(name, service, putOptions = {}) {
      const operation = `start service '${service.name}' on sprite '${name}'`;
      const events = await retried(operation, async () => {
        const stream = await sdk.sprite(name).createService(
          service.name,
          {
            cmd: service.cmd,
            args: service.args ?? [],
            ...(service.env && { env: service.env }),
            ...(service.dir && { dir: service.dir }),
            ...(service.needs && { needs: service.needs }),
            ...(service.httpPort !== undefined && { httpPort: service.httpPort }),
          },
          putOptions.monitor ?? "1s",
        );
        const seen: PutServiceResult["events"] = [];
        for await (const event of stream) {
          if (event.type === "error") {
            throw new SpritesError(
              "operation_failed",
              `${operation} failed: ${event.data ?? "unknown error"}`,
            );
          }
          seen.push({
            type: event.type,
            ...(event.data !== undefined && { data: event.data }),
            ...(event.exitCode !== undefined && { exitCode: event.exitCode }),
          });
        }
        return seen;
      });
      const state = await retried(`get service '${service.name}'`, () =>
        sdk.sprite(name).getService(service.name),
      );
      logger.info({ sprite: name, service: service.name, status: state.state?.status }, "service started");
      return { service: serviceInfo(state), events };
    },

    async deleteService(name, serviceName) {
      const operation = `delete service '${serviceName}' on sprite '${name}'`;
      const existing = await getService(name, serviceName);
      if (!existing) {
        return;
      }
      if (existing.status === "running" || existing.status === "starting") {
        await retried(operation, async () => {
          const stream = await sdk.sprite(name).stopService(serviceName);
          for await (const _event of stream) {
            // Drain the progress stream: the stop is done when it ends.
          }
        }).catch((error: unknown) => {
          if (!(error instanceof SpritesError && error.code === "conflict")) {
            throw error;
          }
        });
      }
      await retried(operation, () => sdk.sprite(name).deleteService(serviceName)).catch((error: unknown) => {
        if (!(error instanceof SpritesError && error.code === "not_found")) {
          throw error;
        }
      });
    },
  };
}
