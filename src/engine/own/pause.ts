/**
 * The pause image of the node's own engine: one static program that sleeps until a signal (Kubernetes'
 * pause container, written here as a few bytes of machine code so that no image or toolchain is needed).
 * A container of it holds an ICON's network namespace (netns-holders.ts).
 */
import { IconError } from "../../errors.ts";
import { tarStream } from "../../util/tar.ts";
import type { ContainerEngine } from "../container-engine.ts";

export const PAUSE_IMAGE = "icon-pause:1";
export const PAUSE_PATH = "/pause";

/** Loops on a blocking system call; a signal's default action (SIGTERM from the init) ends it. */
const CODE: Record<string, { machine: number; code: number[] }> = {
  // mov eax, 34 (pause); syscall; jmp back
  x64: { machine: 0x3e, code: [0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7] },
  // arm64 has no pause: ppoll(NULL, 0, NULL, NULL) (x8 = 73, x0..x3 = 0); svc #0; b back
  arm64: { machine: 0xb7, code: [0xd2800928, 0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd4000001, 0x17fffffa].flatMap((w) => [w & 255, (w >> 8) & 255, (w >> 16) & 255, (w >>> 24) & 255]) },
};

const BASE = 0x400000;
const EHDR = 64;
const PHDR = 56;

/** A minimal static ELF64 executable for `arch` (process.arch): one loadable segment, no sections. */
export function pauseElf(arch: string = process.arch): Uint8Array {
  const a = CODE[arch];
  if (!a) throw new IconError("UNSUPPORTED", `no pause program for ${arch}`, "Run the node on x64 or arm64, or set engine to external.");
  const size = EHDR + PHDR + a.code.length;
  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // ELF, 64-bit, little endian, version 1
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, a.machine, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(BASE + EHDR + PHDR), true); // entry
  v.setBigUint64(32, BigInt(EHDR), true); // program headers right after this header
  v.setUint16(52, EHDR, true);
  v.setUint16(54, PHDR, true);
  v.setUint16(56, 1, true);
  v.setUint32(EHDR, 1, true); // PT_LOAD
  v.setUint32(EHDR + 4, 5, true); // read + execute
  v.setBigUint64(EHDR + 16, BigInt(BASE), true); // vaddr
  v.setBigUint64(EHDR + 24, BigInt(BASE), true); // paddr
  v.setBigUint64(EHDR + 32, BigInt(size), true); // filesz
  v.setBigUint64(EHDR + 40, BigInt(size), true); // memsz
  v.setBigUint64(EHDR + 48, 0x1000n, true); // align
  buf.set(a.code, EHDR + PHDR);
  return buf;
}

/** Imports the pause image into the engine unless it holds it. */
export async function ensurePauseImage(engine: ContainerEngine): Promise<void> {
  if (await engine.inspectImage(PAUSE_IMAGE)) return;
  const [repo, tag] = PAUSE_IMAGE.split(":") as [string, string];
  const tar = tarStream([{ path: PAUSE_PATH.slice(1), type: "file", mode: 0o755, data: pauseElf() }]);
  await engine.importImage(tar, { repo, tag, changes: [`ENTRYPOINT ["${PAUSE_PATH}"]`, "USER 65534:65534"] });
}
