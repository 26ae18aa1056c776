// Monaco, loaded only when an editor opens (this module is imported
// dynamically): the editor API with the contributions the console uses,
// JavaScript highlighting, the TypeScript service (top-level `typescript`
// export of monaco-editor ≥ 0.55) and only two workers, the editor's and
// TypeScript's. The in-function API (sdk-js/types/quasm.d.ts) is added as
// an extra lib, so `env.KV.`, `ctx.` and `Response.json` complete.

import * as monaco from "monaco-editor/editor/editor.api";
import "monaco-editor/editor/browser/coreCommands";
import "monaco-editor/editor/browser/widget/codeEditor/codeEditorWidget";
import "monaco-editor/editor/browser/widget/diffEditor/diffEditor.contribution";
import "monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching";
import "monaco-editor/editor/contrib/clipboard/browser/clipboard";
import "monaco-editor/editor/contrib/comment/browser/comment";
import "monaco-editor/editor/contrib/contextmenu/browser/contextmenu";
import "monaco-editor/editor/contrib/cursorUndo/browser/cursorUndo";
import "monaco-editor/editor/contrib/folding/browser/folding";
import "monaco-editor/editor/contrib/gotoError/browser/gotoError";
import "monaco-editor/editor/contrib/hover/browser/hoverContribution";
import "monaco-editor/editor/contrib/indentation/browser/indentation";
import "monaco-editor/editor/contrib/linesOperations/browser/linesOperations";
import "monaco-editor/editor/contrib/multicursor/browser/multicursor";
import "monaco-editor/editor/contrib/parameterHints/browser/parameterHints";
import "monaco-editor/editor/contrib/snippet/browser/snippetController2";
import "monaco-editor/editor/contrib/suggest/browser/suggestController";
import "monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter";
import "monaco-editor/editor/contrib/wordOperations/browser/wordOperations";
import "monaco-editor/editor/contrib/find/browser/findController";
import "monaco-editor/editor/common/standaloneStrings";
import "monaco-editor/languages/definitions/javascript/register";
import { javascriptDefaults } from "monaco-editor/languages/features/typescript/register";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import TsWorker from "monaco-editor/languages/features/typescript/ts.worker?worker";
// Served from the console's own assets: the API has no /api/v1/types yet.
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
javascriptDefaults.addExtraLib(quasmTypes, "file:///quasm.d.ts");

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
