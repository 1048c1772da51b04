// Performs filesystem operations for the sprites-local filesystem API.
// It runs inside the sprite's sandbox as the sprite's own user, so whatever a path or symlink
// resolves to, an operation can only touch what the sprite itself could touch.
// Plain JavaScript: it is started with the bare `node` binary inside the sandbox, without tsx.
//
// One helper serves many requests, one at a time. Every message in both directions is
// [u32 json length][json][u32 data length][data]; replies are {ok:true, result} or {ok:false, code, message}.
import fs from "node:fs";
import path from "node:path";

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
  read(req) {
    const fd = fs.openSync(req.path, "r");
    try {
      if (fs.fstatSync(fd).isDirectory()) {
        throw new HelperError("EISDIR", `EISDIR: illegal operation on a directory, read '${req.path}'`);
      }
      return { result: {}, data: fs.readFileSync(fd) };
    } finally {
      fs.closeSync(fd);
    }
  },

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

function frame(json, data) {
  const head = Buffer.from(JSON.stringify(json), "utf8");
  const body = data ?? Buffer.alloc(0);
  const lengths = Buffer.alloc(4);
  lengths.writeUInt32BE(head.length);
  const dataLength = Buffer.alloc(4);
  dataLength.writeUInt32BE(body.length);
  return Buffer.concat([lengths, head, dataLength, body]);
}

function handle(request, data) {
  try {
    const operation = operations[request.op];
    if (!operation) {
      throw new HelperError("EINVAL", `unknown filesystem operation '${request.op}'`);
    }
    const { result, data: output } = operation(request, data);
    return frame({ ok: true, result }, output);
  } catch (error) {
    const code = KNOWN_CODES.has(error?.code) ? error.code : "EIO";
    const message = error instanceof Error ? error.message : String(error);
    return frame({ ok: false, code, message });
  }
}

let buffer = Buffer.alloc(0);
process.stdin.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  while (buffer.length >= 4) {
    const jsonLength = buffer.readUInt32BE(0);
    if (buffer.length < 8 + jsonLength) {
      return;
    }
    const dataLength = buffer.readUInt32BE(4 + jsonLength);
    const total = 8 + jsonLength + dataLength;
    if (buffer.length < total) {
      return;
    }
    const request = JSON.parse(buffer.subarray(4, 4 + jsonLength).toString("utf8"));
    const data = buffer.subarray(8 + jsonLength, total);
    buffer = buffer.subarray(total);
    process.stdout.write(handle(request, data));
  }
});
process.stdin.on("end", () => process.exit(0));
