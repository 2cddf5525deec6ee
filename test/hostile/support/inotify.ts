/**
 * A watch on a directory through inotify(7) (bun:ffi on libc), for the local-files tests: it records
 * which names were created and which had their attributes changed (chmod), so a test can tell a file
 * created with its final mode from one created first and chmod'ed afterwards.
 */
import { ptr } from "bun:ffi";
import { EAGAIN, errno, openLibc } from "../../../src/util/libc.ts";

const IN_ATTRIB = 0x4;
const IN_MOVED_TO = 0x80;
const IN_CREATE = 0x100;
const IN_NONBLOCK = 0o4000;

const libc = () =>
  openLibc({
    inotify_init1: { args: ["i32"], returns: "i32" },
    inotify_add_watch: { args: ["i32", "cstring", "u32"], returns: "i32" },
    read: { args: ["i32", "ptr", "u64"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
  }, "the inotify test helper", "Run the test on Linux.");

export interface DirEvents {
  created: string[];
  /** Names whose mode or owner changed after they existed. */
  attrib: string[];
}

export function watchDir(dir: string): { events(): DirEvents; close(): void } {
  const c = libc();
  const fd = c.inotify_init1(IN_NONBLOCK);
  if (fd < 0) throw new Error(`inotify_init1 failed (errno ${errno(c)})`);
  if (c.inotify_add_watch(fd, Buffer.from(dir + "\0"), IN_ATTRIB | IN_CREATE | IN_MOVED_TO) < 0) throw new Error(`inotify_add_watch ${dir} failed (errno ${errno(c)})`);
  const seen: DirEvents = { created: [], attrib: [] };
  const buf = new Uint8Array(64 * 1024);
  const drain = () => {
    for (;;) {
      const n = Number(c.read(fd, ptr(buf), BigInt(buf.length)));
      if (n < 0) {
        if (errno(c) === EAGAIN) return;
        throw new Error(`inotify read failed (errno ${errno(c)})`);
      }
      const view = new DataView(buf.buffer, 0, n);
      for (let off = 0; off + 16 <= n; ) {
        const mask = view.getUint32(off + 4, true);
        const len = view.getUint32(off + 12, true);
        const name = Buffer.from(buf.subarray(off + 16, off + 16 + len)).toString().replace(/\0+$/, "");
        if (mask & (IN_CREATE | IN_MOVED_TO)) seen.created.push(name);
        if (mask & IN_ATTRIB) seen.attrib.push(name);
        off += 16 + len;
      }
    }
  };
  return {
    events: () => (drain(), { created: [...seen.created], attrib: [...seen.attrib] }),
    close: () => void c.close(fd),
  };
}
