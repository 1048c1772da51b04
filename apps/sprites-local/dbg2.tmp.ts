import fs from "node:fs";
import { Sandbox } from "./src/sandbox.js";

fs.mkdirSync("/tmp/exp/h", { recursive: true });
fs.mkdirSync("/tmp/exp/t", { recursive: true });
fs.writeFileSync("/tmp/exp/pw", "");
const s = new Sandbox({ mode: "bwrap-uid", readOnlyBinds: [] });
console.log(
  s
    .bwrapArgs(
      {
        name: "x",
        homeDir: "/tmp/exp/h",
        tmpDir: "/tmp/exp/t",
        passwdFile: "/tmp/exp/pw",
        groupFile: "/tmp/exp/pw",
        uid: null,
      },
      "/home/sprite",
    )
    .map((a) => `'${a}'`)
    .join(" "),
);
