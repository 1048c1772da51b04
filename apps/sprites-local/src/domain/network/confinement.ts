import type { Logger } from "@vps-claude/logger";
import type { SandboxDetection } from "../sandbox.js";
import type { NetworkDetection, NetworkMode } from "./sprite-network.js";

/** What confines a sprite on this host; `GET /v1/local/confinement` answers it. */
export interface ConfinementReport {
  /** bubblewrap mount namespace (own home and /tmp, read-only system) or plain host processes. */
  filesystem: "bwrap" | "none";
  /** Each sprite as its own unprivileged uid, or the platform's own uid. */
  uid: "per-sprite" | "shared";
  network: NetworkMode;
  /** True only when all three hold: a hostile sprite reaches neither the host nor its neighbours. */
  confined: boolean;
  warnings: string[];
}

export function confinementReport(sandbox: SandboxDetection, network: NetworkDetection): ConfinementReport {
  const filesystem = sandbox.mode === "none" ? "none" : "bwrap";
  const uid = sandbox.mode === "bwrap-uid" ? "per-sprite" : "shared";
  const warnings = [sandbox.warning, network.warning].filter((w): w is string => w !== null);
  return {
    filesystem,
    uid,
    network: network.mode,
    confined: filesystem === "bwrap" && uid === "per-sprite" && network.mode === "netns",
    warnings,
  };
}

export function logNetworkMode(logger: Logger, report: ConfinementReport, network: NetworkDetection): void {
  if (network.mode === "netns") {
    logger.info(
      { network: "netns" },
      "each sprite has its own network namespace: it reaches the platform URL and the egress proxy only",
    );
    return;
  }
  const banner = "!".repeat(100);
  logger.warn(banner);
  logger.warn(
    { reason: network.warning },
    "SPRITES SHARE THE HOST NETWORK: any sprite reaches this host's loopback services (databases, Redis, sprites-local's API), other sprites' ports, the LAN and cloud metadata. Run sprites-local as root with bubblewrap and util-linux to isolate them.",
  );
  logger.warn(banner);
  logger.info({ confinement: report }, "sprites-local confinement");
}
