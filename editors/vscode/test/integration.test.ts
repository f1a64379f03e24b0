// Starts the server exactly as the extension would (serverCommand + initializationOptions) and
// drives it over stdio with vscode-jsonrpc: reason, accept, cancel.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, CancellationTokenSource } from "vscode-jsonrpc/node";
import { initializationOptions, reasonParams, ReasonResult, serverCommand, StreamedReasoning, thinkingHtml } from "../src/core";

const repo = path.resolve(__dirname, "..", "..", "..", "..");

test("the extension's server command answers, remembers and cancels", { timeout: 240_000 }, async (t) => {
  const config = {
    serverPath: "", model: process.env.PONDER_TEST_MODEL ?? "smollm2-135m", strategy: "greedy", samples: 3, stepBack: false,
    memoryPath: "",
  };
  const { command, args } = serverCommand(config, [repo], fs.existsSync, () => false);
  assert.equal(command, path.join(repo, ".venv", "bin", "ponder"));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "ponder-vscode-"));
  const proc = spawn(command, args, { env: { ...process.env, PONDER_HOME: home }, stdio: ["pipe", "pipe", "inherit"] });
  t.after(() => proc.kill()); // a failed assertion must not leave the server (and this test) running
  const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  conn.onRequest("window/workDoneProgress/create", () => null);
  const progress: string[] = [];
  const streamed = new StreamedReasoning();
  let panel = "";
  let partials = 0;
  let onLongRequestPartial = () => {};
  conn.onNotification("$/progress", (p: { token: string; value: { kind?: string } }) => {
    if (p.token === "partial-1") {
      partials += 1;
      panel = thinkingHtml(streamed.add(p.value)); // what the extension puts in its panel
    } else if (p.token === "partial-2") {
      onLongRequestPartial();
    } else if (p.value.kind) {
      progress.push(p.value.kind);
    }
  });
  conn.listen();

  const options = initializationOptions(config) as { reason: Record<string, unknown> };
  options.reason.maxTokens = 32;
  await conn.sendRequest("initialize", {
    processId: process.pid, rootUri: null, initializationOptions: options,
    capabilities: { window: { workDoneProgress: true } },
  });
  conn.sendNotification("initialized", {});
  const file = path.join(home, "sample.py");
  const text = "def double(xs):\n    return [x * 2 for x in xs]\n";
  fs.writeFileSync(file, text);
  const uri = "file://" + file;
  conn.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "python", version: 1, text } });

  const range = { start: { line: 0, character: 0 }, end: { line: 1, character: 30 } };
  const result = await conn.sendRequest<ReasonResult>(
    "ponder/reason", reasonParams(uri, range, "What does double([1]) return?", "partial-1"),
  );
  assert.equal(result.model, config.model);
  // The reasoning streamed into the panel before the answer came; the final reasoning goes on from it.
  assert.ok(partials > 0 && streamed.text.length > 0, `partial results: ${partials}`);
  assert.ok(panel.includes("thinking") && panel.includes(streamed.text.slice(0, 10).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")));
  assert.ok(result.rationale.startsWith(streamed.text), `${JSON.stringify(streamed.text)} vs ${JSON.stringify(result.rationale)}`);
  assert.ok(result.usage.completionTokens > 0);
  assert.ok(progress.includes("begin") && progress.includes("end"));
  const stored = await conn.sendRequest<{ memoryId: string }>("ponder/accept", { id: result.id });
  assert.equal(stored.memoryId.length, 32);

  // Cancel, as the status bar click does: the token cancels the request with -32800. It cancels
  // once the reasoning has begun to stream (a fixed delay raced the small model, which sometimes
  // finished within it).
  const source = new CancellationTokenSource();
  onLongRequestPartial = () => source.cancel();
  const long = conn.sendRequest("ponder/reason", { ...reasonParams(uri, range, "Explain at length", "partial-2"), options: { maxTokens: 3000 } }, source.token);
  await assert.rejects(long, (e: { code?: number }) => e.code === -32800);

  await conn.sendRequest("shutdown");
  conn.sendNotification("exit");
  const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
  assert.equal(code, 0);
  conn.dispose();
});
