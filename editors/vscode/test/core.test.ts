import { strict as assert } from "node:assert";
import { test } from "node:test";
import { answerHtml, checkText, initializationOptions, missingServer, PonderConfig, reasonParams, serverCommand, StreamedReasoning, thinkingHtml, verdictText, voteSummary } from "../src/core";

const config: PonderConfig = {
  serverPath: "", model: "qwen2.5-coder-0.5b", strategy: "self_consistency", samples: 7, stepBack: true, memoryPath: "",
};

test("server command: configured path first", () => {
  const c = serverCommand({ ...config, serverPath: "/opt/ponder" }, ["/ws"], () => true, () => true);
  assert.deepEqual(c, { command: "/opt/ponder", args: ["serve"] });
});

test("server command: the workspace .venv when ponder is not on PATH", () => {
  const c = serverCommand(config, ["/a", "/ws"], (p) => p === "/ws/.venv/bin/ponder", () => false);
  assert.deepEqual(c, { command: "/ws/.venv/bin/ponder", args: ["serve"] });
  const d = serverCommand(config, ["/ws"], () => true, () => true);
  assert.equal(d.command, "ponder");
});

test("server command: a team's model server goes on the command line", () => {
  const c = serverCommand({ ...config, backendUrl: "http://gpu-box:8080/v1", backendModel: "coder" }, [], () => false, () => true);
  assert.deepEqual(c.args, ["serve", "--backend-url", "http://gpu-box:8080/v1", "--backend-model", "coder"]);
  assert.deepEqual(serverCommand({ ...config, backendUrl: "" }, [], () => false, () => true).args, ["serve"]);
});

test("a server that is not there is named, with what to do", () => {
  const absent = missingServer({ command: "/opt/nowhere/ponder", args: ["serve"] }, () => false, () => true);
  assert.match(absent ?? "", /cannot find the ponder server "\/opt\/nowhere\/ponder".*ponder\.serverPath/);
  assert.match(missingServer({ command: "ponder", args: [] }, () => true, () => false) ?? "", /on PATH/);
  assert.equal(missingServer({ command: "ponder", args: [] }, () => false, () => true), undefined);
  assert.equal(missingServer({ command: "/x/ponder", args: [] }, () => true, () => false), undefined);
});

test("settings become the server's camelCase options", () => {
  assert.deepEqual(initializationOptions(config), {
    model: "qwen2.5-coder-0.5b",
    reason: { strategy: "self_consistency", samples: 7, stepBack: true },
    checkByRunning: false,
  });
  assert.deepEqual(initializationOptions({ ...config, memoryPath: "/m" }).memory, { path: "/m" });
  assert.equal(initializationOptions({ ...config, trusted: true }).checkByRunning, true); // workspace trust
});

test("reason params: a selection is a range, an empty one a position", () => {
  const sel = { start: { line: 1, character: 0 }, end: { line: 3, character: 4 } };
  assert.deepEqual(reasonParams("file:///x.py", sel, " why? "), { textDocument: { uri: "file:///x.py" }, range: sel, question: "why?" });
  const caret = { start: { line: 2, character: 1 }, end: { line: 2, character: 1 } };
  assert.deepEqual(reasonParams("file:///x.py", caret, ""), { textDocument: { uri: "file:///x.py" }, position: caret.start });
});

test("answer panel escapes model text and shows the vote", () => {
  const result = {
    id: "abc", answer: "<b>1</b>", confidence: 0.8, agreement: { agree: 4, paths: 5 }, verdict: "uncertain" as const, principle: "p & q", rationale: "r", model: "m", strategy: "self_consistency",
    candidates: [{ answer: "1", count: 4 }, { answer: "2", count: 1 }], memories: [],
    usage: { promptTokens: 1, completionTokens: 1, seconds: 1 },
  };
  const html = answerHtml(result, "n0nce");
  assert.ok(html.includes("&lt;b&gt;1&lt;/b&gt;") && !html.includes("<b>1</b>"));
  assert.ok(html.includes("p &amp; q"));
  assert.equal(voteSummary(result), "4 of 5 paths agree");
  assert.ok(html.includes("4 of 5 paths agree") && html.includes("nonce-n0nce"));
  assert.ok(html.includes("UNCERTAIN"), "an uncertain answer says so plainly");
  assert.ok(answerHtml({ ...result, verdict: "confident" }, "n").includes("<strong>confident · confidence 0.80</strong>"));
  const explained = answerHtml({ ...result, verdict: "unchecked", agreement: { agree: 1, paths: 1 } }, "n");
  assert.ok(explained.includes("<strong>free text, not checked</strong>") && !explained.includes("0.80"), "an explanation is not weighed");
  assert.ok(html.includes("<p>votes: <code>1</code> × 4, <code>2</code> × 1</p>"), "the paths' answers");
  const odd = answerHtml({ ...result, candidates: [{ answer: "<i>", count: 2 }, { answer: "", count: 1 }] }, "n");
  assert.ok(odd.includes("votes: <code>&lt;i&gt;</code> × 2, no answer × 1"), "escaped; a path without an answer named");
  assert.ok(!answerHtml({ ...result, candidates: [{ answer: "1", count: 5 }] }, "n").includes("votes:"));
});

test("the panel shows what checking by running found, with the model's second look", () => {
  const result = {
    id: "c", answer: "[[1, 2], [3, 4], [5]]", confidence: null, verdict: "uncertain" as const, principle: null,
    rationale: "r", model: "m", strategy: "self_consistency", candidates: [], memories: [],
    usage: { promptTokens: 1, completionTokens: 1, seconds: 1 },
    checked: { verdict: "refuted" as const, actual: "[[1, 2], [3, 4]]", explanation: "range stops at len(items) - size <" },
  };
  const html = answerHtml(result, "n");
  assert.ok(html.includes("<strong>Checked by running:</strong> refuted: running it gives [[1, 2], [3, 4]]"), html);
  assert.ok(html.includes("range stops at len(items) - size &lt;"), "the second look, escaped");
  assert.ok(html.includes('<button id="check">'), "a button to check");
  assert.equal(checkText({ verdict: "could not run", actual: "the code did not load: ImportError", explanation: "" }),
    "could not run it: the code did not load: ImportError");
  assert.ok(!answerHtml({ ...result, checked: null }, "n").includes("Checked by running"));
});

test("a raw signal is never shown as a number: the panel says why there is no confidence", () => {
  const cow = {
    id: "c", answer: "###the cow goes moo", confidence: null, signal: { kind: "margin" as const, value: 0.97 },
    uncalibrated: "not calibrated: the answer is not a Python value", agreement: { agree: 1, paths: 1 }, verdict: "uncertain" as const,
    principle: null, rationale: "r", model: "m", strategy: "greedy", candidates: [], memories: [],
    usage: { promptTokens: 1, completionTokens: 1, seconds: 1 },
  };
  assert.equal(verdictText(cow), "UNCERTAIN — do not rely on this answer · not calibrated: the answer is not a Python value");
  const html = answerHtml(cow, "n");
  assert.ok(html.includes("not calibrated: the answer is not a Python value") && !html.includes("0.97"));
  assert.equal(verdictText({ ...cow, confidence: 0.47, uncalibrated: null }), "UNCERTAIN — do not rely on this answer · confidence 0.47");
});

test("while thinking: the reasoning so far, then the greedy path's first answer", () => {
  const streamed = new StreamedReasoning();
  streamed.add({ reasoning: "x is 1\n" });
  assert.ok(!thinkingHtml(streamed.add({ reasoning: "y <- 2" }), streamed.firstAnswer).includes("first answer"));
  const html = thinkingHtml(streamed.add({ firstAnswer: "<3>" }), streamed.firstAnswer);
  assert.ok(html.includes("x is 1\ny &lt;- 2") && html.includes("first answer: <code>&lt;3&gt;</code>"), html);
});
