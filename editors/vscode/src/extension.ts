// The VS Code side, kept thin: everything testable lives in core.ts.
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";
import { answerHtml, initializationOptions, PonderConfig, ReasonResult, reasonParams, serverCommand } from "./core";

let client: LanguageClient | undefined;
let panel: vscode.WebviewPanel | undefined;
let status: vscode.StatusBarItem;
let running: vscode.CancellationTokenSource | undefined;

function readConfig(): PonderConfig {
  const c = vscode.workspace.getConfiguration("ponder");
  return {
    serverPath: c.get<string>("serverPath", ""),
    model: c.get<string>("model", "qwen2.5-coder-1.5b"),
    strategy: c.get<string>("strategy", "greedy"),
    samples: c.get<number>("samples", 5),
    stepBack: c.get<boolean>("stepBack", false),
    memoryPath: c.get<string>("memoryPath", ""),
  };
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, name)));
}

async function startClient(): Promise<void> {
  const config = readConfig();
  const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const { command, args } = serverCommand(config, roots, fs.existsSync, onPath);
  const serverOptions: ServerOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file" }],
    initializationOptions: initializationOptions(config),
  };
  client = new LanguageClient("ponder", "ponder", serverOptions, clientOptions);
  await client.start();
}

async function reasonAboutThis(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) {
    return;
  }
  const question = await vscode.window.showInputBox({ prompt: "Ask about this code (empty: reason about this)" });
  if (question === undefined) {
    return;
  }
  const s = editor.selection;
  const range = { start: { line: s.start.line, character: s.start.character }, end: { line: s.end.line, character: s.end.character } };
  running = new vscode.CancellationTokenSource();
  status.text = "$(sync~spin) ponder: thinking… (click to cancel)";
  status.show();
  try {
    const result = await client.sendRequest<ReasonResult>(
      "ponder/reason",
      reasonParams(editor.document.uri.toString(), range, question),
      running.token,
    );
    showAnswer(result);
  } catch (e) {
    if (!running.token.isCancellationRequested) {
      vscode.window.showErrorMessage(`ponder: ${(e as Error).message}`);
    }
  } finally {
    status.hide();
    running = undefined;
  }
}

function showAnswer(result: ReasonResult): void {
  if (!panel) {
    panel = vscode.window.createWebviewPanel("ponder", "ponder", vscode.ViewColumn.Beside, { enableScripts: true });
    panel.onDidDispose(() => (panel = undefined));
    panel.webview.onDidReceiveMessage((m: { command: string; id: string }) => store(m.command === "accept", m.id));
  }
  const nonce = Math.random().toString(36).slice(2);
  panel.webview.html = answerHtml(result, nonce);
  panel.reveal(vscode.ViewColumn.Beside, true);
  lastId = result.id;
}

let lastId: string | undefined;

async function store(accepted: boolean, id = lastId): Promise<void> {
  if (!client || !id) {
    return;
  }
  try {
    const r = await client.sendRequest<{ memoryId: string }>(accepted ? "ponder/accept" : "ponder/reject", { id });
    vscode.window.showInformationMessage(`ponder: ${accepted ? "remembered" : "rejection recorded"} (${r.memoryId})`);
  } catch (e) {
    vscode.window.showErrorMessage(`ponder: ${(e as Error).message}`);
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left);
  status.command = "ponder.cancel";
  context.subscriptions.push(
    status,
    vscode.commands.registerCommand("ponder.reasonAboutThis", reasonAboutThis),
    vscode.commands.registerCommand("ponder.accept", () => store(true)),
    vscode.commands.registerCommand("ponder.reject", () => store(false)),
    vscode.commands.registerCommand("ponder.cancel", () => running?.cancel()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("ponder") && client) {
        client.sendNotification("workspace/didChangeConfiguration", { settings: { ponder: initializationOptions(readConfig()) } });
      }
    }),
  );
  await startClient();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
