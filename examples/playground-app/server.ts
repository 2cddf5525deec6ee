/**
 * A TypeScript playground as an ICON: its clients send TypeScript and get JavaScript back from the
 * TypeScript compiler, over the sample protocol's websocket (a `compile` message) or `POST /compile`.
 * Its dependencies are real npm packages (typescript and hono: about 27 MB) installed from the npm
 * registry into a layer of their own, as a real ICON carries them: the benchmark's large sample app
 * (`icon bench migrate --case cold-large`). Built by build.sh; the migration part is the shared sample server.
 */
import ts from "typescript";
import { serveSample } from "../migrate-app/sample-server.ts";

function compile(code: string): { js: string; diagnostics: string[] } {
  const out = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext }, reportDiagnostics: true });
  return { js: out.outputText, diagnostics: (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")) };
}

await serveSample({
  onAppMessage(msg, send) {
    if (msg.type !== "compile" || typeof msg.code !== "string") return false;
    send({ type: "compiled", ...compile(msg.code) });
    return true;
  },
  routes: (app) => app.post("/compile", async (c) => c.json(compile(await c.req.text()))),
});
