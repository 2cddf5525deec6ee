/**
 * Every name a testbed makes derives from the testbed's name, so several testbeds coexist and `down`
 * removes exactly what its `up` made: namespaces "NAME-NODE", containers "icon-tb-NAME-NODE", the
 * state file /run/icon-testbed/NAME.json. NFQUEUE numbers live inside each namespace (the kernel keeps
 * queues per network namespace), so they never collide between testbeds.
 */
import { join } from "node:path";
import { IconError } from "../errors.ts";

export const DEFAULT_NAME = "icon";
export const STATE_DIR = process.env.ICON_TESTBED_STATE_DIR ?? "/run/icon-testbed";
/** The image that owns IEP namespaces in --docker mode, built locally (no registry). */
export const PAUSE_IMAGE = "icon-testbed-pause:latest";
/** Docker label on every container a testbed makes; its value is the testbed name. */
export const LABEL = "icon.testbed";

const TESTBED_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$/;

/** The testbed name from --name, else $ICON_TESTBED, else "icon". */
export function testbedName(flag?: unknown): string {
  const name = typeof flag === "string" && flag ? flag : process.env.ICON_TESTBED || DEFAULT_NAME;
  if (!TESTBED_NAME.test(name))
    throw new IconError("USAGE", `testbed name "${name}" is not 1-20 letters, digits, _ or -`, "Give --name a short plain name such as dht1.");
  return name;
}

export const netnsName = (testbed: string, node: string) => `${testbed}-${node}`;
export const containerName = (testbed: string, node: string) => `icon-tb-${testbed}-${node}`;
export const statePath = (testbed: string) => join(STATE_DIR, `${testbed}.json`);
export const delaydLogPath = (testbed: string) => join(STATE_DIR, `${testbed}.delayd.log`);
/** A home router's miniupnpd: config, log and pid file (removed whole by `down`). */
export const upnpDir = (testbed: string, node: string) => join(STATE_DIR, `${testbed}-${node}`);
