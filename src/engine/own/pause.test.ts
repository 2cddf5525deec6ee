import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryEngine } from "../memory-engine.ts";
import { ensurePauseImage, PAUSE_IMAGE, pauseElf } from "./pause.ts";

/** Runs a pause program: it must stay alive without using CPU, and end on SIGTERM. */
async function runPause(argv: string[]): Promise<{ alive: boolean; cpuTicks: number; signal: string | null }> {
  const p = Bun.spawn(argv, { stdout: "ignore", stderr: "ignore" });
  await Bun.sleep(300);
  const alive = p.exitCode === null;
  const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const cpuTicks = Number(stat[11]) + Number(stat[12]); // utime + stime (fields 14 and 15)
  p.kill("SIGTERM");
  await p.exited;
  return { alive, cpuTicks, signal: p.signalCode === null ? null : String(p.signalCode) };
}

describe("pause program", () => {
  test("a static ELF64 executable for x64 and arm64 whose entry is its code", () => {
    for (const [arch, machine] of [["x64", 0x3e], ["arm64", 0xb7]] as const) {
      const elf = pauseElf(arch);
      const v = new DataView(elf.buffer);
      expect([...elf.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
      expect(v.getUint16(18, true)).toBe(machine);
      expect(Number(v.getBigUint64(24, true))).toBe(0x400000 + 120);
      expect(Number(v.getBigUint64(64 + 32, true))).toBe(elf.length); // the one segment covers the file
    }
    expect(() => pauseElf("riscv64")).toThrow(/no pause program/);
  });

  const dir = mkdtempSync(join(tmpdir(), "icon-pause-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (arch: string) => {
    const path = join(dir, arch);
    writeFileSync(path, pauseElf(arch), { mode: 0o755 });
    return path;
  };

  test.if(process.arch === "x64")("on x64 it sleeps until SIGTERM ends it", async () => {
    expect(await runPause([write("x64")])).toEqual({ alive: true, cpuTicks: 0, signal: "SIGTERM" });
  });

  test.if(existsSync("/usr/bin/qemu-aarch64-static"))("on arm64 (qemu) it sleeps until SIGTERM ends it", async () => {
    const r = await runPause(["/usr/bin/qemu-aarch64-static", write("arm64")]);
    expect({ alive: r.alive, signal: r.signal }).toEqual({ alive: true, signal: "SIGTERM" });
  });

  test("the image is imported once", async () => {
    const engine = new MemoryEngine();
    await ensurePauseImage(engine);
    const id = (await engine.inspectImage(PAUSE_IMAGE))?.id;
    expect(id).toBeString();
    await ensurePauseImage(engine);
    expect(await engine.listImageIds()).toEqual([id!]);
  });
});
