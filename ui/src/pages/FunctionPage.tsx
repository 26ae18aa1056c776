// A function's page, the console's centre of gravity: its header (name,
// enabled, live version) and tabs Code · Runs · Versions · Triggers ·
// Settings, each a URL of its own.

import type { QFunction } from "../sdk";
import { useApi } from "../lib/data";
import { Link } from "../lib/router";
import { Loaded } from "../components/ui";
import { CodeTab } from "./function/CodeTab";
import { VersionsTab } from "./function/VersionsTab";
import { TriggersTab } from "./function/TriggersTab";
import { SettingsTab } from "./function/SettingsTab";
import { ExecutionsTable } from "./Executions";

const TABS: [string, string][] = [
  ["code", "Code"],
  ["runs", "Runs"],
  ["versions", "Versions"],
  ["triggers", "Triggers"],
  ["settings", "Settings"],
];

export function FunctionPage({ name, tab }: { name: string; tab: string }) {
  const fn = useApi((q) => q.functions.get(name), [name]);
  const base = `/functions/${encodeURIComponent(name)}`;
  return (
    <section class="function-page">
      <div class="page-head">
        <h1>
          <Link href="/functions" class="crumb">
            Functions
          </Link>{" "}
          / {name}
        </h1>
        {fn.data && (
          <span class="q-muted">
            <span class={`q-dot ${fn.data.enabled ? "q-on" : "q-off"}`} aria-hidden="true" />
            {fn.data.enabled ? "enabled" : "disabled"} ·{" "}
            {fn.data.live_version != null ? `v${fn.data.live_version} live` : "no live version"}
          </span>
        )}
      </div>
      <nav class="q-tabs" aria-label="Function">
        {TABS.map(([t, label]) => (
          <Link key={t} href={t === "code" ? base : `${base}/${t}`} aria-current={tab === t ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      <Loaded state={fn} what="the function">
        {(f: QFunction) => (
          <>
            {tab === "code" && <CodeTab fn={f} reload={fn.reload} />}
            {tab === "runs" && <ExecutionsTable fixedFunction={f.name} />}
            {tab === "versions" && <VersionsTab fn={f} reload={fn.reload} />}
            {tab === "triggers" && <TriggersTab fn={f} />}
            {tab === "settings" && <SettingsTab fn={f} reload={fn.reload} />}
            {!TABS.some(([t]) => t === tab) && <p>No tab “{tab}”.</p>}
          </>
        )}
      </Loaded>
    </section>
  );
}
