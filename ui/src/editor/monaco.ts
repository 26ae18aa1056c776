// Monaco, loaded only when an editor opens (this module is imported
// dynamically): the editor, JavaScript highlighting, the TypeScript service (top-level `typescript`
// export of monaco-editor ≥ 0.55) and only two workers, the editor's and
// TypeScript's. The in-function API (sdk-js/types/quasm.d.ts) is added as
// an extra lib, so `env.KV.`, `ctx.` and `Response.json` complete.

// The whole editor (its contributions and their styles: a hand-picked
// subset rendered the suggest list without its labels). Languages other
// than JavaScript stay unloaded chunks; no worker but the two below starts.
import * as monaco from "monaco-editor";
import { javascriptDefaults } from "monaco-editor/languages/features/typescript/register";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import TsWorker from "monaco-editor/languages/features/typescript/ts.worker?worker";
// Bundled so the editor completes at once; replaced by the server's
// GET /api/v1/types (the same API plus the tenant's service bindings).
import quasmTypes from "../../../sdk-js/types/quasm.d.ts?raw";

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    return label === "typescript" || label === "javascript" ? new TsWorker() : new EditorWorker();
  },
};

javascriptDefaults.setCompilerOptions({
  target: 99, // ESNext
  module: 99,
  allowJs: true,
  checkJs: true,
  allowNonTsExtensions: true,
  noEmit: true,
  // quasm.d.ts is self-contained and clashes with lib.dom.
  lib: ["es2023"],
});
javascriptDefaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false });
javascriptDefaults.setEagerModelSync(true);
let apiLib = javascriptDefaults.addExtraLib(quasmTypes, "file:///quasm.d.ts");
let serverTypes: Promise<void> | undefined;
/** Swaps the bundled declarations for the server's once (they add the
 *  tenant's service bindings, `env.HOST.` and its typed methods). */
export function loadServerTypes(fetchTypes: () => Promise<string>): Promise<void> {
  serverTypes ??= fetchTypes().then(
    (text) => {
      apiLib.dispose();
      apiLib = javascriptDefaults.addExtraLib(text, "file:///quasm.d.ts");
    },
    // An older server, or no connection: the bundled declarations stay.
    () => {},
  );
  return serverTypes;
}

let envLib: monaco.IDisposable | undefined;
/** Declares the function's own variable names on `Env`. */
export function setEnvNames(names: string[]): void {
  envLib?.dispose();
  const fields = names.map((n) => `  readonly ${JSON.stringify(n)}: string;`).join("\n");
  envLib = javascriptDefaults.addExtraLib(`interface Env {\n${fields}\n}\n`, "file:///quasm-env.d.ts");
}

/** Follows the system's light or dark theme. */
export function theme(): string {
  return matchMedia("(prefers-color-scheme: dark)").matches ? "vs-dark" : "vs";
}
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => monaco.editor.setTheme(theme()));

export { monaco };
