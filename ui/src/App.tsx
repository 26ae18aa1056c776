// The shell: sign-in until a credential works, then the tenant's header,
// the left navigation and the page the URL names. Pages that need Monaco
// are loaded only when opened.

import { useEffect, useState } from "preact/hooks";
import { lazy, Suspense } from "preact/compat";
import { Link, match, useLocation } from "./lib/router";
import { can, restore, signOut, useSession } from "./lib/session";
import type { Role } from "./sdk";
import { onOffline } from "./lib/data";
import { SignIn } from "./pages/SignIn";
import { Home } from "./pages/Home";
import { Functions } from "./pages/Functions";
import { Executions } from "./pages/Executions";
import { ExecutionDetail } from "./pages/ExecutionDetail";
import { DeadLetters } from "./pages/DeadLetters";
import { Alerts, NewAlert } from "./pages/Alerts";
import { AlertDetail } from "./pages/AlertDetail";
import { NewWebhook, Webhooks } from "./pages/Webhooks";
import { WebhookDetail } from "./pages/WebhookDetail";
import { ApiKeys } from "./pages/ApiKeys";
import { Audit } from "./pages/Audit";
import { TenantSettings } from "./pages/TenantSettings";
import { Loading } from "./components/ui";

const NewFunction = lazy(() => import("./pages/NewFunction").then((m) => m.NewFunction));
const FunctionPage = lazy(() => import("./pages/FunctionPage").then((m) => m.FunctionPage));

/** Left navigation: path, label, and the role a page needs to be of use. */
const NAV: [string, string, Role?][] = [
  ["/", "Home"],
  ["/functions", "Functions"],
  ["/executions", "Executions"],
  ["/dead-letters", "Events & dead letters"],
  ["/alerts", "Alerts"],
  ["/webhooks", "Webhooks"],
  ["/api-keys", "API keys", "admin"],
  ["/audit", "Audit log", "admin"],
  ["/settings", "Tenant settings"],
];

export function App() {
  const s = useSession();
  const [restoring, setRestoring] = useState(true);
  useEffect(() => {
    restore().finally(() => setRestoring(false));
  }, []);
  if (restoring) return <Loading what="the console" />;
  if (!s) return <SignIn />;
  return <Shell />;
}

function Shell() {
  const s = useSession()!;
  const { path } = useLocation();
  const [offline, setOffline] = useState(false);
  useEffect(() => onOffline(setOffline), []);
  useEffect(() => {
    document.title = `${title(path)} · Quasm`;
  }, [path]);
  return (
    <div class="shell">
      <header class="q-top">
        <Link href="/" class="brand">
          Quasm
        </Link>
        <span class="tenant">
          tenant <strong>{s.who.tenant}</strong>
        </span>
        <span class="q-spacer" />
        <span class="who" title={s.who.subject}>
          {s.who.subject} · role: <strong>{s.who.role ?? "none"}</strong>
        </span>
        <button type="button" class="q-link" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <nav class="q-side" aria-label="Console">
        {NAV.map(([href, label, role]) => {
          const current = (href === "/" ? path === "/" : path.startsWith(href)) ? "page" : undefined;
          // Pages above the role stay reachable (they say which role they need), marked here.
          const locked = role !== undefined && !can(role);
          return (
            <Link
              key={href}
              href={href}
              aria-current={current}
              class={locked ? "q-locked" : undefined}
              title={locked ? `Needs the ${role} role` : undefined}
            >
              {label}
              {locked && <span class="q-role-note"> · {role}</span>}
            </Link>
          );
        })}
      </nav>
      <main class="q-main">
        {offline && (
          <div class="q-banner" role="status">
            Connection to the server lost — retrying…
          </div>
        )}
        <Suspense fallback={<Loading what="the page" />}>
          <Page path={path} />
        </Suspense>
      </main>
    </div>
  );
}

function Page({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === "/") return <Home />;
  if (path === "/functions") return <Functions />;
  if (path === "/functions/new") return <NewFunction />;
  if ((m = match("/functions/:name/:tab?", path))) return <FunctionPage name={m.name!} tab={m.tab ?? "code"} />;
  if (path === "/executions") return <Executions />;
  if ((m = match("/executions/:id", path))) return <ExecutionDetail id={m.id!} />;
  if (path === "/dead-letters") return <DeadLetters />;
  if (path === "/alerts") return <Alerts />;
  if (path === "/alerts/new") return <NewAlert />;
  if ((m = match("/alerts/:id", path)) && /^\d+$/.test(m.id!)) return <AlertDetail id={Number(m.id)} />;
  if (path === "/webhooks") return <Webhooks />;
  if (path === "/webhooks/new") return <NewWebhook />;
  if ((m = match("/webhooks/:id", path)) && /^\d+$/.test(m.id!)) return <WebhookDetail id={Number(m.id)} />;
  if (path === "/api-keys") return <ApiKeys />;
  if (path === "/audit") return <Audit />;
  if (path === "/settings") return <TenantSettings />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link href="/functions">Go to the functions</Link>.
      </p>
    </section>
  );
}

function title(path: string): string {
  if (path.startsWith("/functions/") && path !== "/functions/new") return decodeURIComponent(path.split("/")[2] ?? "");
  return NAV.find(([h]) => h !== "/" && path.startsWith(h))?.[1] ?? (path === "/" ? "Home" : "Quasm");
}
