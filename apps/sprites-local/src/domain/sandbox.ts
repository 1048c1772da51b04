import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "@vps-claude/logger";
import { sandboxedCommandPid } from "./process-tree.js";

/**
 * - `bwrap-uid`: bubblewrap namespace, and the command runs as the sprite's own unprivileged uid (host is root).
 * - `bwrap`: bubblewrap namespace as the current (non-root) user.
 * - `none`: plain child processes with HOME set; no confinement at all.
 */
export type SandboxMode = "bwrap-uid" | "bwrap" | "none";

/** Where the sprite's home and /tmp appear inside the namespace, like on a real sprite. */
export const SPRITE_HOME = "/home/sprite";
export const SPRITE_TMP = "/tmp";
export const SPRITE_USER = "sprite";
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const FS_HELPER_VIEW_PATH = "/run/sprites-local/fs-helper.mjs";
export const FS_HELPER_HOST_PATH = fileURLToPath(new URL("./fs-helper.mjs", import.meta.url));

/**
 * /etc entries a sandbox may read: what shells, TLS, DNS and the dynamic linker need.
 * Deliberately absent: shadow files, ssh host keys, ssl/private, npmrc/pip.conf (may hold registry tokens).
 */
const ETC_ALLOWLIST = [
  "alternatives",
  "bash.bashrc",
  "ca-certificates",
  "ca-certificates.conf",
  "debian_version",
  "environment",
  "gai.conf",
  "gitconfig",
  "host.conf",
  "hosts",
  "inputrc",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "locale.alias",
  "localtime",
  "login.defs",
  "magic",
  "magic.mime",
  "mime.types",
  "nsswitch.conf",
  "os-release",
  "profile",
  "profile.d",
  "protocols",
  "resolv.conf",
  "services",
  "shells",
  "ssl/certs",
  "ssl/openssl.cnf",
  "terminfo",
  "timezone",
];

/** The host-side facts about one sprite that the sandbox needs. */
export interface SandboxTarget {
  name: string;
  homeDir: string;
  tmpDir: string;
  passwdFile: string;
  groupFile: string;
  /** Unprivileged uid the sprite runs as in `bwrap-uid` mode. */
  uid: number | null;
  /** The sprite's own network namespace (a path nsenter joins), or null for the host network. */
  netns?: string | null;
}

export interface SandboxSpawnOptions {
  argv: string[];
  env: Record<string, string>;
  /** Working directory as the sprite sees it (e.g. /home/sprite/app). */
  cwd?: string;
  /** Argv every process of the sprite starts through (its resource launcher: cgroup join, then prlimit). */
  launchPrefix?: string[];
}

export interface SandboxOptions {
  mode: SandboxMode;
  readOnlyBinds: string[];
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch {
    return null;
  }
}

function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith("/") ? parent : `${parent}/`);
}

export class Sandbox {
  readonly mode: SandboxMode;
  private readonly readOnlyBinds: string[];
  private readonly nodePath = process.execPath;

  constructor(options: SandboxOptions) {
    this.mode = options.mode;
    const binds = options.readOnlyBinds.filter((p) => path.isAbsolute(p)).map((p) => path.normalize(p));
    // box-agent and the filesystem helper run on the host's Node: make it reachable wherever it is installed.
    if (!isWithin(this.nodePath, "/usr")) {
      binds.push(this.nodePath);
    }
    this.readOnlyBinds = [...new Set(binds)];
  }

  get confined(): boolean {
    return this.mode !== "none";
  }

  /** The sprite's home directory as its processes see it. */
  home(target: SandboxTarget): string {
    return this.confined ? SPRITE_HOME : target.homeDir;
  }

  /** Maps a path as the sprite sees it to the host path, or null when outside the sprite's own storage. */
  viewToHost(target: SandboxTarget, viewPath: string): string | null {
    const normalized = path.posix.normalize(viewPath);
    const viewRoots: Array<[string, string]> = [
      [SPRITE_HOME, target.homeDir],
      [SPRITE_TMP, target.tmpDir],
    ];
    // Unconfined processes see host paths, so those come first (the data directory may itself be under /tmp).
    const roots: Array<[string, string]> = this.confined
      ? viewRoots
      : [[target.homeDir, target.homeDir], [target.tmpDir, target.tmpDir], ...viewRoots];
    for (const [view, host] of roots) {
      if (isWithin(normalized, view)) {
        return path.join(host, normalized.slice(view.length));
      }
    }
    return null;
  }

  /** Maps a host path inside the sprite's storage back to the path the sandbox sees. */
  hostToView(target: SandboxTarget, hostPath: string): string {
    if (!this.confined) {
      return hostPath;
    }
    if (isWithin(hostPath, target.homeDir)) {
      return path.posix.join(SPRITE_HOME, hostPath.slice(target.homeDir.length));
    }
    if (isWithin(hostPath, target.tmpDir)) {
      return path.posix.join(SPRITE_TMP, hostPath.slice(target.tmpDir.length));
    }
    return hostPath;
  }

  /** The standard PATH, with the host Node's directory first so `node` is the same version as the platform's. */
  defaultPath(): string {
    const nodeDir = path.dirname(this.nodePath);
    return DEFAULT_PATH.split(":").includes(nodeDir) ? DEFAULT_PATH : `${nodeDir}:${DEFAULT_PATH}`;
  }

  /** The environment a command gets when the caller does not replace it. */
  baseEnv(target: SandboxTarget): Record<string, string> {
    return {
      PATH: this.defaultPath(),
      HOME: this.home(target),
      USER: SPRITE_USER,
      LOGNAME: SPRITE_USER,
      SHELL: "/bin/bash",
      LANG: "C.UTF-8",
      TMPDIR: this.confined ? SPRITE_TMP : target.tmpDir,
    };
  }

  /** Starts a process in the sprite's sandbox, in its own process group so the whole tree can be signalled. */
  spawn(target: SandboxTarget, options: SandboxSpawnOptions): ChildProcess {
    const [file, ...args] = options.argv;
    if (file === undefined) {
      throw new Error("empty command");
    }
    const [launcher, ...launcherArgs] = options.launchPrefix ?? [];
    const launch = (command: string, commandArgs: string[], spawnOptions: SpawnOptions) =>
      launcher === undefined
        ? spawn(command, commandArgs, spawnOptions)
        : spawn(launcher, [...launcherArgs, command, ...commandArgs], spawnOptions);
    if (!this.confined) {
      const cwd = options.cwd ? (this.viewToHost(target, options.cwd) ?? options.cwd) : target.homeDir;
      // A sprite gets exactly the environment it asked for (the SDK's env= replaces it whole).
      return launch(file, args, {
        cwd,
        env: options.env as NodeJS.ProcessEnv,
        detached: true,
        stdio: "pipe",
      });
    }
    const bwrapArgs = this.bwrapArgs(target, options.cwd ?? SPRITE_HOME);
    if (this.mode === "bwrap-uid" && target.uid !== null) {
      bwrapArgs.push(
        "/usr/bin/setpriv",
        `--reuid=${target.uid}`,
        `--regid=${target.uid}`,
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
      );
    }
    bwrapArgs.push(file, ...args);
    if (target.netns) {
      // nsenter joins the sprite's network namespace and execs bwrap: the process tree is unchanged.
      return launch("nsenter", [`--net=${target.netns}`, "--", "bwrap", ...bwrapArgs], {
        env: options.env as NodeJS.ProcessEnv,
        detached: true,
        stdio: "pipe",
      });
    }
    return launch("bwrap", bwrapArgs, {
      env: options.env as NodeJS.ProcessEnv,
      detached: true,
      stdio: "pipe",
    });
  }

  /** Argv for the filesystem helper, which performs filesystem operations as the sprite would. */
  fsHelperArgv(): string[] {
    return [this.nodePath, this.confined ? FS_HELPER_VIEW_PATH : FS_HELPER_HOST_PATH];
  }

  /** The pid to deliver a user's signal to: the command itself, not the bwrap processes above it. */
  commandPid(child: ChildProcess): number | null {
    if (child.pid === undefined) {
      return null;
    }
    return this.confined ? sandboxedCommandPid(child.pid) : child.pid;
  }

  /** bwrap options up to and including `--`; the command follows. */
  bwrapArgs(target: SandboxTarget, cwd: string): string[] {
    // No --new-session: everything stays in the process group of the spawned bwrap, so one group
    // signal reaches the whole sandbox even after bwrap's outer process is gone. (The group has no
    // controlling terminal, which is what --new-session would protect.)
    const args = [
      "--die-with-parent",
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--hostname",
      target.name,
    ];
    /** Mount points whose content is the host's own (binds below them would add nothing). */
    const hostViews: string[] = [];
    const created = new Set<string>(["/"]);
    // Directories bwrap creates implicitly are mode 0700 and root-owned, which an unprivileged sprite cannot enter.
    const ensureParents = (dest: string) => {
      const parts = dest.split("/").filter(Boolean);
      let current = "";
      for (const part of parts.slice(0, -1)) {
        current = `${current}/${part}`;
        if (
          created.has(current) ||
          hostViews.some((m) => isWithin(current, m)) ||
          current === SPRITE_HOME ||
          current === SPRITE_TMP
        ) {
          continue;
        }
        args.push("--perms", "0755", "--dir", current);
        created.add(current);
      }
    };
    const bindReadOnly = (src: string, dest: string) => {
      ensureParents(dest);
      args.push("--ro-bind", src, dest);
      if (src === dest) {
        hostViews.push(dest);
      }
    };

    bindReadOnly("/usr", "/usr");
    for (const top of ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]) {
      const stat = lstatOrNull(top);
      if (!stat) {
        continue;
      }
      if (stat.isSymbolicLink()) {
        args.push("--symlink", fs.readlinkSync(top), top);
      } else {
        bindReadOnly(top, top);
      }
    }
    args.push("--proc", "/proc", "--dev", "/dev");
    args.push("--perms", "0755", "--dir", "/etc");
    created.add("/etc");
    for (const entry of ETC_ALLOWLIST) {
      const hostPath = `/etc/${entry}`;
      const stat = lstatOrNull(hostPath);
      if (!stat) {
        continue;
      }
      if (stat.isSymbolicLink()) {
        ensureParents(hostPath);
        args.push("--symlink", fs.readlinkSync(hostPath), hostPath);
      } else {
        bindReadOnly(hostPath, hostPath);
      }
    }
    bindReadOnly(target.passwdFile, "/etc/passwd");
    bindReadOnly(target.groupFile, "/etc/group");
    args.push("--perms", "0755", "--dir", "/home");
    created.add("/home");
    args.push("--bind", target.homeDir, SPRITE_HOME);
    args.push("--bind", target.tmpDir, SPRITE_TMP);
    args.push("--perms", "0755", "--dir", "/var");
    created.add("/var");
    args.push("--symlink", SPRITE_TMP, "/var/tmp");
    bindReadOnly(FS_HELPER_HOST_PATH, FS_HELPER_VIEW_PATH);
    for (const bind of this.readOnlyBinds) {
      if (hostViews.some((m) => isWithin(bind, m)) || !lstatOrNull(bind)) {
        continue;
      }
      // A path under the sprite's /tmp or home gets its mount point created there (harmless, it is the sprite's).
      bindReadOnly(bind, bind);
    }
    args.push("--chdir", cwd, "--");
    return args;
  }
}

export interface SandboxDetection {
  mode: SandboxMode;
  /** Why confinement is weaker than `bwrap-uid`, for the startup warning. */
  warning: string | null;
}

/**
 * Picks the strongest confinement this host supports by actually running a sandboxed `true`.
 * Ownership changes (chown to the sprite uid) need root, as does setpriv's uid switch.
 */
export function detectSandbox(
  probeDir: string,
  requested: "auto" | "none",
  readOnlyBinds: string[],
): SandboxDetection {
  if (requested === "none") {
    return { mode: "none", warning: "sandboxing disabled by configuration" };
  }
  const isRoot = process.getuid?.() === 0;
  const which = spawnSync("bwrap", ["--version"], { encoding: "utf8" });
  if (which.error || which.status !== 0) {
    return {
      mode: "none",
      warning: "bubblewrap (bwrap) is not installed: install it with `apt-get install -y bubblewrap`",
    };
  }
  if (isRoot && !fs.existsSync("/usr/bin/setpriv")) {
    return {
      mode: "none",
      warning: "running as root but /usr/bin/setpriv (util-linux) is missing, so sprites cannot drop root",
    };
  }
  fs.rmSync(probeDir, { recursive: true, force: true });
  const homeDir = path.join(probeDir, "home");
  const tmpDir = path.join(probeDir, "tmp");
  fs.mkdirSync(homeDir, { recursive: true });
  fs.mkdirSync(tmpDir, { recursive: true });
  const uid = isRoot ? 65534 : null;
  const target: SandboxTarget = {
    name: "probe",
    homeDir,
    tmpDir,
    passwdFile: path.join(probeDir, "passwd"),
    groupFile: path.join(probeDir, "group"),
    uid,
  };
  fs.writeFileSync(target.passwdFile, "");
  fs.writeFileSync(target.groupFile, "");
  if (uid !== null) {
    fs.chownSync(homeDir, uid, uid);
  }
  const mode: SandboxMode = isRoot ? "bwrap-uid" : "bwrap";
  const sandbox = new Sandbox({ mode, readOnlyBinds });
  const probe = spawnSync(
    "bwrap",
    [
      ...sandbox.bwrapArgs(target, SPRITE_HOME),
      ...(uid !== null
        ? ["/usr/bin/setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--"]
        : []),
      "/bin/sh",
      "-c",
      "test -w /home/sprite",
    ],
    { encoding: "utf8", timeout: 10_000 },
  );
  fs.rmSync(probeDir, { recursive: true, force: true });
  if (probe.status !== 0) {
    const reason = (probe.stderr || probe.error?.message || `exit ${probe.status}`).trim();
    return { mode: "none", warning: `bubblewrap does not work on this host (${reason})` };
  }
  return {
    mode,
    warning: isRoot
      ? null
      : "not running as root: sprites share this user's uid (namespace confinement only)",
  };
}

export function logSandboxMode(logger: Logger, detection: SandboxDetection): void {
  if (detection.mode === "none") {
    const banner = "!".repeat(100);
    logger.warn(banner);
    logger.warn(
      { reason: detection.warning },
      "SPRITES-LOCAL IS NOT CONFINING SPRITES: commands run as plain host processes that can read and write anything this user can (platform data and secrets included). Install bubblewrap to confine them.",
    );
    logger.warn(banner);
    return;
  }
  if (detection.warning) {
    logger.warn({ mode: detection.mode, reason: detection.warning }, "sprites-local confinement is reduced");
    return;
  }
  logger.info(
    { mode: detection.mode },
    "sprites run in bubblewrap namespaces as their own unprivileged users",
  );
}
