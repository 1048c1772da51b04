import type { Logger } from "@vps-claude/logger";
import type { ServerConfig } from "./config";
import { usesSpritesLocal } from "./deps";

/** What sprites-local says confines its sandboxes (`GET /v1/local/confinement`). */
interface ConfinementReport {
  filesystem: string;
  uid: string;
  network: string;
  confined: boolean;
  warnings: string[];
}

const WAIT_FOR_SPRITES_LOCAL_MS = 60_000;

async function readConfinement(baseUrl: string, token: string): Promise<ConfinementReport | null> {
  const deadline = Date.now() + WAIT_FOR_SPRITES_LOCAL_MS;
  // npm start launches sprites-local beside the server: give it time to listen.
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/v1/local/confinement`, {
        headers: { authorization: `Bearer ${token}` },
        redirect: "manual",
        signal: AbortSignal.timeout(5_000),
      });
      if (res.status === 200) {
        return (await res.json()) as ConfinementReport;
      }
      if (res.status === 404) {
        return null;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

export class UnconfinedSandboxError extends Error {
  override name = "UnconfinedSandboxError";
}

/**
 * Says at startup which sandbox confinement is active. A multi-user platform (SIGNUP=open) whose
 * sprites-local cannot confine sandboxes refuses to start unless SANDBOX_UNCONFINED_OK=1.
 */
export async function checkSandboxConfinement(config: ServerConfig, logger: Logger): Promise<void> {
  if (!usesSpritesLocal(config)) {
    logger.info("sandboxes are Fly.io Sprites (VMs); egress follows each box's network policy");
    return;
  }
  const baseUrl = config.SPRITES_API_URL ?? "http://127.0.0.1:33010";
  const report = await readConfinement(baseUrl, config.SPRITES_LOCAL_TOKEN ?? "");
  if (report?.confined) {
    logger.info(
      { filesystem: report.filesystem, uid: report.uid, network: report.network },
      "sandbox confinement: each box in its own bubblewrap namespace, uid and network namespace",
    );
    return;
  }
  const what = report
    ? `filesystem=${report.filesystem}, uid=${report.uid}, network=${report.network}${report.warnings.length ? ` (${report.warnings.join("; ")})` : ""}`
    : `sprites-local at ${baseUrl} did not report its confinement`;
  const fix =
    "run sprites-local as root on Linux with bubblewrap and util-linux installed (apt-get install -y bubblewrap util-linux)";
  if (config.SIGNUP === "open" && config.SANDBOX_UNCONFINED_OK !== "1") {
    throw new UnconfinedSandboxError(
      `Refusing to start: sign-up is open but boxes are not confined (${what}). A box could reach this host's databases and other boxes. Either ${fix}, set SIGNUP=closed for a single-user platform, or set SANDBOX_UNCONFINED_OK=1 to accept the risk.`,
    );
  }
  logger.warn({ confinement: report, signup: config.SIGNUP }, `sandboxes are NOT confined: ${what}; ${fix}`);
}
