/**
 * The admission list on the local API, mounted at /v1/admission: `icon admission list | allow | deny |
 * mode` on a running node. Each change is written to `<data-dir>/admission.json` before it answers.
 */
import { Hono } from "hono";
import { jsonInput } from "../api/http.ts";
import { IconError } from "../errors.ts";
import type { Admission } from "./admission.ts";

const text = (body: Record<string, unknown>, key: string, required: boolean): string | undefined => {
  const v = body[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string") throw new IconError("INVALID_INPUT", `field "${key}" must be a string`);
  return v;
};

export function admissionRoutes(admission: () => Admission) {
  return new Hono()
    .get("/", (c) => c.json(admission().view()))
    .post("/owners", jsonInput((b) => ({ key: text(b, "key", true)!, note: text(b, "note", false) })), async (c) => {
      const { key, note } = c.req.valid("json");
      return c.json(await admission().allow(key, note));
    })
    .delete("/owners/:key", async (c) => c.json(await admission().deny(c.req.param("key"))))
    .put("/mode", jsonInput((b) => ({ mode: text(b, "mode", true)! })), async (c) => c.json(await admission().setMode(c.req.valid("json").mode)));
}
