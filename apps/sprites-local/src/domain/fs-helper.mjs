// Performs filesystem operations for the sprites-local filesystem API.
// It runs inside the sprite's sandbox as the sprite's own user, so whatever a path or symlink
// resolves to, an operation can only touch what the sprite itself could touch.
// Plain JavaScript: it is started with the bare `node` binary inside the sandbox, without tsx.
//
// One helper serves many requests, one at a time. Every message in both directions is
// [u32 json length][json][u32 data length][data]; replies are {ok:true, result} or {ok:false, code, message}.
// A read is streamed: {ok:true, result:{size}, stream:true}, then {chunk:true} frames carrying the data,
// then {ok:true, end:true} (or {ok:false, ...} if the file went away mid-read).
import fs from "node:fs";
import path from "node:path";

const READ_CHUNK_BYTES = 256 * 1024;

const KNOWN_CODES = new Set([
  "ENOENT",
  "EEXIST",
  "ENOTDIR",
  "EISDIR",
  "EACCES",
  "EPERM",
  "ENOTEMPTY",
  "EINVAL",
  "EIO",
  "EROFS",
  "ELOOP",
  "EFBIG",
  "ENOSPC",
]);

class HelperError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function modeString(mode) {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

function entryType(stat) {
  if (stat.isDirectory()) {
    return "directory";
  }
  if (stat.isSymbolicLink()) {
    return "symlink";
  }
  if (stat.isFile()) {
    return "file";
  }
  return "other";
}

function entryFor(fullPath, name, stat) {
  return {
    name,
    path: fullPath,
    type: entryType(stat),
    size: stat.size,
    mode: modeString(stat.mode),
    modTime: stat.mtime.toISOString(),
    isDir: stat.isDirectory(),
  };
}

function walk(dir, visit) {
  for (const dirent of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, dirent.name);
    visit(full, dirent);
    if (dirent.isDirectory()) {
      walk(full, visit);
    }
  }
}

const operations = {
  write(req, data) {
    if (req.mkdirParents) {
      fs.mkdirSync(path.dirname(req.path), { recursive: true, mode: 0o755 });
    }
    const mode = typeof req.mode === "number" ? req.mode : 0o644;
    const fd = fs.openSync(req.path, "w", mode);
    try {
      if (typeof req.mode === "number") {
        fs.fchmodSync(fd, req.mode);
      }
      fs.writeFileSync(fd, data);
      const stat = fs.fstatSync(fd);
      return { result: { size: stat.size, mode: modeString(stat.mode) } };
    } finally {
      fs.closeSync(fd);
    }
  },

  list(req) {
    // A link to a directory lists the directory; anything else describes the path itself (lstat).
    const stat = fs.statSync(req.path);
    if (!stat.isDirectory()) {
      return { result: { entries: [entryFor(req.path, path.basename(req.path), fs.lstatSync(req.path))] } };
    }
    const entries = [];
    if (req.recursive) {
      walk(req.path, (full) => {
        entries.push(entryFor(full, path.relative(req.path, full), fs.lstatSync(full)));
      });
    } else {
      for (const name of fs.readdirSync(req.path)) {
        const full = path.join(req.path, name);
        entries.push(entryFor(full, name, fs.lstatSync(full)));
      }
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { result: { entries } };
  },

  delete(req) {
    const stat = fs.lstatSync(req.path);
    let count = 1;
    if (stat.isDirectory()) {
      if (req.recursive) {
        walk(req.path, () => {
          count += 1;
        });
        fs.rmSync(req.path, { recursive: true });
      } else {
        fs.rmdirSync(req.path);
      }
    } else {
      fs.unlinkSync(req.path);
    }
    return { result: { count } };
  },

  rename(req) {
    fs.renameSync(req.source, req.dest);
    return { result: {} };
  },

  copy(req) {
    const stat = fs.lstatSync(req.source);
    if (stat.isDirectory() && !req.recursive) {
      throw new HelperError(
        "EISDIR",
        `EISDIR: '${req.source}' is a directory (copy it with recursive: true)`,
      );
    }
    fs.cpSync(req.source, req.dest, {
      recursive: true,
      verbatimSymlinks: true,
      preserveTimestamps: Boolean(req.preserveAttrs),
      force: true,
    });
    return { result: {} };
  },

  chmod(req) {
    const apply = (target) => {
      if (!fs.lstatSync(target).isSymbolicLink()) {
        fs.chmodSync(target, req.mode);
      }
    };
    apply(req.path);
    if (req.recursive && fs.lstatSync(req.path).isDirectory()) {
      walk(req.path, (full) => apply(full));
    }
    return { result: { mode: modeString(req.mode) } };
  },

  chown(req) {
    const current = fs.lstatSync(req.path);
    const uid = req.uid ?? current.uid;
    const gid = req.gid ?? current.gid;
    fs.lchownSync(req.path, uid, gid);
    if (req.recursive && current.isDirectory()) {
      walk(req.path, (full) => fs.lchownSync(full, uid, gid));
    }
    return { result: {} };
  },
};

function formatBytes(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

function frame(json, data) {
  const head = Buffer.from(JSON.stringify(json), "utf8");
  const body = data ?? Buffer.alloc(0);
  const lengths = Buffer.alloc(4);
  lengths.writeUInt32BE(head.length);
  const dataLength = Buffer.alloc(4);
  dataLength.writeUInt32BE(body.length);
  return Buffer.concat([lengths, head, dataLength, body]);
}

function errorFrame(error) {
  const code = KNOWN_CODES.has(error?.code) ? error.code : error?.code === "EDQUOT" ? "ENOSPC" : "EIO";
  const message = error instanceof Error ? error.message : String(error);
  return frame({ ok: false, code, message });
}

/** Writes respecting the pipe's backpressure, so a large read never piles up in this process. */
function send(buffer) {
  if (process.stdout.write(buffer)) {
    return Promise.resolve();
  }
  return new Promise((resolve) => process.stdout.once("drain", resolve));
}

/**
 * Stats first and refuses a file over `maxBytes` without reading a byte of it; otherwise streams it
 * in chunks. O_NONBLOCK so a FIFO planted at the path cannot hang the helper on open.
 */
async function streamRead(req) {
  let fd;
  try {
    fd = fs.openSync(req.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) {
      throw new HelperError("EISDIR", `EISDIR: illegal operation on a directory, read '${req.path}'`);
    }
    if (!stat.isFile()) {
      throw new HelperError(
        "EINVAL",
        `'${req.path}' is not a regular file (a device, FIFO or socket cannot be read here)`,
      );
    }
    const maxBytes = typeof req.maxBytes === "number" ? req.maxBytes : Number.POSITIVE_INFINITY;
    if (stat.size > maxBytes) {
      // Exact figures when rounding would show the two as equal ("1.0 KiB; the limit is 1.0 KiB").
      const exact = formatBytes(stat.size) === formatBytes(maxBytes);
      const size = exact ? `${stat.size} bytes` : formatBytes(stat.size);
      const limit = exact ? `${maxBytes} bytes` : formatBytes(maxBytes);
      throw new HelperError(
        "EFBIG",
        `file is ${size}; the limit is ${limit} for reads through the filesystem API. Read it in parts with exec (e.g. head -c, split) instead`,
      );
    }
    await send(frame({ ok: true, result: { size: stat.size }, stream: true }));
    // Exactly the size announced: a file growing meanwhile does not push past the limit.
    let remaining = stat.size;
    while (remaining > 0) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, remaining));
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) {
        throw new HelperError("EIO", `'${req.path}' shrank while it was being read`);
      }
      remaining -= read;
      await send(frame({ chunk: true }, chunk.subarray(0, read)));
    }
    await send(frame({ ok: true, end: true }));
  } catch (error) {
    await send(errorFrame(error));
  } finally {
    if (fd !== undefined) {
      fs.closeSync(fd);
    }
  }
}

async function handle(request, data) {
  if (request.op === "read") {
    await streamRead(request);
    return;
  }
  try {
    const operation = operations[request.op];
    if (!operation) {
      throw new HelperError("EINVAL", `unknown filesystem operation '${request.op}'`);
    }
    const { result, data: output } = operation(request, data);
    await send(frame({ ok: true, result }, output));
  } catch (error) {
    await send(errorFrame(error));
  }
}

// Incoming bytes are kept as a list of chunks and joined once per message: concatenating on every
// chunk would copy a large upload over and over.
const chunks = [];
let buffered = 0;

function take(length) {
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  while (offset < length) {
    const head = chunks[0];
    const needed = length - offset;
    if (head.length <= needed) {
      head.copy(out, offset);
      offset += head.length;
      chunks.shift();
    } else {
      head.copy(out, offset, 0, needed);
      chunks[0] = head.subarray(needed);
      offset += needed;
    }
  }
  buffered -= length;
  return out;
}

function peekUInt32(offset) {
  const bytes = Buffer.alloc(4);
  let index = 0;
  let skip = offset;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    for (let i = skip; i < chunk.length && index < 4; i += 1) {
      bytes[index] = chunk[i];
      index += 1;
    }
    skip = 0;
    if (index === 4) {
      break;
    }
  }
  return bytes.readUInt32BE(0);
}

const queue = [];
let working = false;

async function work() {
  if (working) {
    return;
  }
  working = true;
  while (queue.length > 0) {
    const { request, data } = queue.shift();
    await handle(request, data);
  }
  working = false;
}

process.stdin.on("data", (chunk) => {
  chunks.push(chunk);
  buffered += chunk.length;
  while (buffered >= 4) {
    const jsonLength = peekUInt32(0);
    if (buffered < 8 + jsonLength) {
      break;
    }
    const dataLength = peekUInt32(4 + jsonLength);
    if (buffered < 8 + jsonLength + dataLength) {
      break;
    }
    take(4);
    const request = JSON.parse(take(jsonLength).toString("utf8"));
    take(4);
    queue.push({ request, data: take(dataLength) });
  }
  void work();
});
process.stdin.on("end", () => {
  const finish = () => process.exit(0);
  if (!working && queue.length === 0) {
    finish();
    return;
  }
  const wait = setInterval(() => {
    if (!working && queue.length === 0) {
      clearInterval(wait);
      finish();
    }
  }, 10);
});
