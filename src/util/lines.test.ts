import { expect, test } from "bun:test";
import { lines } from "./lines.ts";

async function collect(chunks: Uint8Array[]): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines((async function* () { yield* chunks; })())) out.push(l);
  return out;
}

test("lines split across chunks and a character cut between chunks come out whole; a cut-off last line is dropped", async () => {
  const bytes = new TextEncoder().encode('{"a":1}\n\n{"b":"é"}\n{"c":');
  const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
  expect(await collect([bytes.slice(0, 3), bytes.slice(3, cut), bytes.slice(cut)])).toEqual(['{"a":1}', "", '{"b":"é"}']);
});
