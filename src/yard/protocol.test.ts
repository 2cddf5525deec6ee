import { expect, test } from "bun:test";
import * as lib from "../../icon-runtime/src/protocol.ts";
import * as mine from "./protocol.ts";

test("the orchestrator's protocol constants equal the icon-runtime library's", () => {
  expect(mine.PROTOCOL_VERSION).toBe(lib.PROTOCOL_VERSION);
  expect(mine.SOCKET_DIR).toBe(lib.SOCKET_DIR);
  expect(mine.SOCKET_PATH).toBe(lib.SOCKET_PATH);
  expect(mine.MAX_LINE_BYTES).toBe(lib.MAX_LINE_BYTES);
  expect([...mine.POLICY_FIELDS]).toEqual([...lib.POLICY_FIELDS]);
});
