// The VS Code side, kept thin: everything testable lives in core.ts.
import { randomBytes, randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ProgressType, ServerOptions } from "vscode-languageclient/node";
import {
  answerHtml, Checked, checkText, initializationOptions, missingServer, PonderConfig, ReasonResult, reasonParams, serverCommand, StreamedReasoning,
  thinkingHtml,
} from "./core";

let client: LanguageClient | undefined;
let starting: Promise<void> | undefined;
let panel: vscode.WebviewPanel | undefined;
let status: vscode.StatusBarItem;
// Every request in flight (the status bar item cancels them all); each has its own token.
const running = new Set<vscode.CancellationTokenSource>();

function readConfig(): PonderConfig {
  const c = vscode.workspace.getConfiguration("ponder");
  return {
    serverPath: c.get<string>("serverPath", ""),
    model: c.get<string>("model", "qwen2.5-coder-1.5b"),
    strategy: c.get<string>("strategy", "auto"),
    samples: c.get<number>("samples", 6),
    stepBack: c.get<boolean>("stepBack", false),
    memoryPath: c.get<string>("memoryPath", ""),
    backendUrl: c.get<string>("backendUrl", ""),
    backendModel: c.get<string>("backendModel", ""),
    trusted: vscode.workspace.isTrusted,
  };
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, name)));
}

async function startClient(): Promise<void> {
  const config = readConfig();
  const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const { command, args } = serverCommand(config, roots, fs.existsSync, onPath);
  const missing = missingServer({ command, args }, fs.existsSync, onPath);
  if (missing) {
    throw new Error(missing);
  }
  // No `transport`: with TransportKind.stdio the client appends "--stdio" to the arguments
  // (found by running the extension in a real VS Code: test-real/run.mjs). Without it the
  // client still speaks over the process's stdin/stdout.
  const serverOptions: ServerOptions = { command, args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file" }],
    initializationOptions: initializationOptions(config),
    middleware: {
      // The lightbulb's "reason about this" runs here, so its answer streams into the same panel
      // as the command's: one way to show an answer (inlay hints and hover come on their own).
      // "Ponder: check by running" runs on the server (it says the verdict and the hint shows
      // it); the panel showing that answer shows it too.
      executeCommand: async (command, args, next) => {
        if (command === "ponder.reason" && args.length === 1) {
          return ask(args[0] as Record<string, unknown>);
        }
        const result = await next(command, args);
        if (command === "ponder.checkAnswer" && shown && (args[0] as { id?: string })?.id === shown.id) {
          showAnswer({ ...shown, checked: result as Checked });
        }
        return result;
      },
    },
  };
  client = new LanguageClient("ponder", "ponder", serverOptions, clientOptions);
  await client.start();
}

/** The server, started on first use (not with every window: it loads a model). */
async function ensureClient(): Promise<LanguageClient> {
  starting ??= startClient().catch((e) => {
    starting = undefined; // fixed settings take effect on the next try
    throw e;
  });
  await starting;
  return client!;
}

async function reasonAboutThis(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return;
  }
  const question = await vscode.window.showInputBox({ prompt: "Ask about this code (empty: reason about this)" });
  if (question === undefined) {
    return;
  }
  const s = editor.selection;
  const range = { start: { line: s.start.line, character: s.start.character }, end: { line: s.end.line, character: s.end.character } };
  try {
    await ensureClient();
  } catch (e) {
    vscode.window.showErrorMessage((e as Error).message);
    return;
  }
  await ask(reasonParams(editor.document.uri.toString(), range, question));
}

/** ponder/reason with the reasoning streamed into the panel, then the answer. */
async function ask(params: Record<string, unknown>): Promise<void> {
  const c = await ensureClient();
  const source = new vscode.CancellationTokenSource();
  running.add(source);
  status.text = "$(sync~spin) ponder: thinking… (click to cancel)";
  status.show();
  const token = `ponder-${randomUUID()}`;
  const streamed = new StreamedReasoning();
  const partial = c.onProgress(new ProgressType<unknown>(), token, (value) => {
    openPanel().webview.html = thinkingHtml(streamed.add(value), streamed.firstAnswer);
  });
  try {
    const result = await c.sendRequest<ReasonResult>("ponder/reason", { ...params, partialResultToken: token }, source.token);
    shownUri = (params.textDocument as { uri: string }).uri;
    showAnswer(result);
  } catch (e) {
    if (!source.token.isCancellationRequested) {
      vscode.window.showErrorMessage(`ponder: ${(e as Error).message}`);
    }
  } finally {
    partial.dispose();
    running.delete(source);
    if (running.size === 0) {
      status.hide();
    }
  }
}

function openPanel(): vscode.WebviewPanel {
  if (!panel) {
    panel = vscode.window.createWebviewPanel("ponder", "ponder", { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true });
    panel.onDidDispose(() => (panel = undefined));
    panel.webview.onDidReceiveMessage((m: { command: string; id: string }) =>
      m.command === "check" ? check() : store(m.command === "accept", m.id),
    );
  }
  return panel;
}

function showAnswer(result: ReasonResult): void {
  const view = openPanel();
  view.webview.html = answerHtml(result, randomBytes(16).toString("hex"));
  view.reveal(vscode.ViewColumn.Beside, true);
  lastId = result.id;
  shown = result;
}

let lastId: string | undefined;
let shown: ReasonResult | undefined; // the answer in the panel, and the document it is about
let shownUri: string | undefined;

/** ponder/check on the panel's answer: the server refuses unless the workspace is trusted. */
async function check(): Promise<void> {
  if (!client || !shown || !shownUri) {
    vscode.window.showInformationMessage("ponder: no answer to check yet");
    return;
  }
  const answer = shown;
  try {
    const checked = await client.sendRequest<Checked>("ponder/check", { textDocument: { uri: shownUri }, id: answer.id });
    vscode.window.showInformationMessage(`ponder: ${checkText(checked)}`);
    showAnswer({ ...answer, checked });
  } catch (e) {
    vscode.window.showErrorMessage(`ponder: ${(e as Error).message}`);
  }
}

async function store(accepted: boolean, id = lastId): Promise<void> {
  if (!client || !id) {
    vscode.window.showInformationMessage("ponder: no answer to accept or reject yet");
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
    vscode.commands.registerCommand("ponder.check", check),
    vscode.commands.registerCommand("ponder.cancel", () => running.forEach((source) => source.cancel())),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("ponder") && client) {
        client.sendNotification("workspace/didChangeConfiguration", { settings: { ponder: initializationOptions(readConfig()) } });
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      client?.sendNotification("workspace/didChangeConfiguration", { settings: { ponder: initializationOptions(readConfig()) } });
    }),
  );
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
