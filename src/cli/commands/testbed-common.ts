/** Flags every `icon testbed` command shares. */
import type { OptionSpec } from "../command.ts";

export const NAME_OPTION: Record<string, OptionSpec> = {
  name: { type: "string", arg: "NAME", doc: 'Which testbed (default: $ICON_TESTBED or "icon"); names its namespaces NAME-NODE.' },
};
