import { resolveConfig } from "../../config/resolve.ts";
import { SCHEMA, type ConfigKey } from "../../config/schema.ts";
import { createLogger } from "../../log.ts";
import { defineCommand } from "../command.ts";

type SettingFlag = { type: "string"; multiple: boolean; arg: string; doc: string };

// Settings that have a flag become options of this command, named and documented by the schema.
const settingFlags: Record<string, SettingFlag> = {};
const flagToKey: Record<string, ConfigKey> = {};
for (const [key, spec] of Object.entries(SCHEMA) as [ConfigKey, (typeof SCHEMA)[ConfigKey]][]) {
  if (!("flag" in spec)) continue;
  settingFlags[spec.flag] = { type: "string", arg: spec.type === "list" ? "HOST:PORT" : spec.type === "int" ? "N" : "VALUE", doc: spec.doc, multiple: spec.type === "list" };
  flagToKey[spec.flag] = key;
}
const options: { config: SettingFlag & { multiple: false } } & Record<string, SettingFlag> = {
  config: { type: "string", arg: "FILE", doc: "JSON config file.", multiple: false },
  ...settingFlags,
};

export const command = defineCommand({
  name: "node start",
  usage: "icon node start [--config FILE] [--data-dir DIR] [--listen IP] [--dht-port N] [--peer-port N] [--bootstrap HOST:PORT]...",
  description:
    "Settings come from defaults, then the config file (--config, $ICON_CONFIG or <data-dir>/config.json),\n" +
    "then ICON_* environment variables, then flags. Several nodes can run side by side with different\n" +
    "data dirs and ports. On SIGINT/SIGTERM the node stops its ICONs and saves its state.",
  options,
  examples: [
    "icon node start --data-dir /tmp/n1 --dht-port 4100                       # as root: it starts its own Docker engine",
    "icon node start --data-dir /tmp/n2 --dht-port 4200 --peer-port 4201 --bootstrap 127.0.0.1:4100 --engine external   # without root: the host's Docker",
  ],
  async run({ values }) {
    const flags: Partial<Record<ConfigKey, unknown>> = {};
    for (const [flag, key] of Object.entries(flagToKey)) if (values[flag] !== undefined) flags[key] = values[flag];
    const { config, files } = await resolveConfig({ flags, configFile: values.config });
    const log = createLogger({ level: config.logLevel, format: config.logFormat });
    for (const f of files) log.info("loaded config file", { path: f });
    const { IconNode } = await import("../../node/node.ts");
    const node = await IconNode.create(config, log);
    await node.start();
    log.info("node started", { nodeId: node.nodeId, dataDir: config.dataDir, api: `${config.dataDir}/icon.sock` });

    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = (sig: string) => {
        if (stopping) {
          log.warn("second signal: exiting without a clean stop");
          process.exit(130);
        }
        stopping = true;
        log.info("stopping", { signal: sig });
        node.stop().then(resolve, (e) => {
          log.error("stop failed", { error: e });
          resolve();
        });
      };
      process.on("SIGINT", () => onSignal("SIGINT"));
      process.on("SIGTERM", () => onSignal("SIGTERM"));
    });
    log.info("node stopped");
    return 0;
  },
});
