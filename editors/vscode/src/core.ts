// The parts of the extension that do not need VS Code: settings → server command line and
// initializationOptions, request params, and the answer panel's HTML. Unit-tested with node:test.
import * as path from "path";

export interface PonderConfig {
  serverPath: string;
  model: string;
  strategy: string;
  samples: number;
  stepBack: boolean;
  memoryPath: string;
  backendUrl?: string; // a team's model server (machine-scoped: a workspace cannot set it)
  backendModel?: string;
  trusted?: boolean; // VS Code's workspace trust: "check by running" runs code only where it is
}

export interface ServerCommand {
  command: string;
  args: string[];
}

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

export interface Candidate { answer: string; count: number }
export interface Memory { id: string; question: string; answer: string; similarity: number }
/** What "check by running" found (ponder/check). */
export interface Checked { verdict: "verified" | "refuted" | "could not run"; actual: string; explanation: string }
export interface ReasonResult {
  id: string;
  answer: string;
  /** Calibrated: the share of such answers that were right; null where no table covers the answer. */
  confidence: number | null;
  /** The raw signal, not a probability. */
  signal?: { kind: "agreement" | "margin"; value: number };
  /** Why there is no confidence, in words. */
  uncalibrated?: string | null;
  agreement?: { agree: number; paths: number };
  verdict?: "confident" | "uncertain" | "unchecked";
  principle: string | null;
  rationale: string;
  candidates: Candidate[];
  memories: Memory[];
  usage: { promptTokens: number; completionTokens: number; seconds: number };
  model: string;
  strategy?: string;
  checked?: Checked | null;
}

/** How the extension starts the server: the configured path, else `ponder` on PATH, else the
 * workspace's .venv/bin/ponder. `exists` and `onPath` are injected so tests need no filesystem. */
export function serverCommand(
  config: PonderConfig,
  workspaceRoots: string[],
  exists: (p: string) => boolean,
  onPath: (name: string) => boolean,
): ServerCommand {
  const args = ["serve"];
  if (config.backendUrl) {
    args.push("--backend-url", config.backendUrl);
    if (config.backendModel) {
      args.push("--backend-model", config.backendModel);
    }
  }
  if (config.serverPath) {
    return { command: config.serverPath, args };
  }
  if (!onPath("ponder")) {
    for (const root of workspaceRoots) {
      const candidate = path.join(root, ".venv", "bin", "ponder");
      if (exists(candidate)) {
        return { command: candidate, args };
      }
    }
  }
  return { command: "ponder", args };
}

/** Why the server command cannot start, or undefined when it can: the first thing a new user
 * meets when ponder is not installed where the extension looks. */
export function missingServer(
  server: ServerCommand,
  exists: (p: string) => boolean,
  onPath: (name: string) => boolean,
): string | undefined {
  const found = server.command.includes("/") ? exists(server.command) : onPath(server.command);
  if (found) {
    return undefined;
  }
  return (
    `ponder: cannot find the ponder server "${server.command}". Install ponder (\`make setup\` in its ` +
    "checkout puts it in .venv/bin/ponder) and set ponder.serverPath to it, or put ponder on PATH."
  );
}

/** VS Code settings → the server's settings (camelCase, the shape of agent/settings.py). */
export function initializationOptions(config: PonderConfig): Record<string, unknown> {
  const options: Record<string, unknown> = {
    model: config.model,
    reason: { strategy: config.strategy, samples: config.samples, stepBack: config.stepBack },
    checkByRunning: config.trusted === true,
  };
  if (config.memoryPath) {
    options.memory = { path: config.memoryPath };
  }
  return options;
}

export function reasonParams(
  uri: string,
  range: Range | null,
  question: string | undefined,
  partialResultToken?: string,
): Record<string, unknown> {
  const params: Record<string, unknown> = { textDocument: { uri } };
  if (partialResultToken) {
    params.partialResultToken = partialResultToken;
  }
  if (range && (range.start.line !== range.end.line || range.start.character !== range.end.character)) {
    params.range = range;
  } else if (range) {
    params.position = range.start;
  }
  if (question && question.trim()) {
    params.question = question.trim();
  }
  return params;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function voteSummary(result: ReasonResult): string {
  const a = result.agreement;
  return a && a.paths > 1 ? `${a.agree} of ${a.paths} paths agree` : "";
}

/** "<code>[1]</code> × 4, <code>[2]</code> × 1" (escaped) when the paths gave more than one answer, else "":
 * beside an uncertain answer, the right one is often among them. */
export function votesHtml(result: ReasonResult): string {
  if (result.candidates.length < 2) {
    return "";
  }
  return result.candidates
    .map((c) => (c.answer.trim() ? `<code>${escapeHtml(c.answer)}</code>` : "no answer") + ` × ${c.count}`)
    .join(", ");
}

/** "confident · confidence 0.88", a plain warning when the answer is not to be relied on (with
 * its confidence where one is calibrated, else why there is none), or "free text, not checked"
 * for an explanation, which nothing weighs. A raw signal is never shown as a number. */
export function verdictText(result: ReasonResult): string {
  if (result.verdict === "unchecked") {
    return "free text, not checked";
  }
  const word = result.verdict === "confident" ? "confident" : "UNCERTAIN — do not rely on this answer";
  const trust = typeof result.confidence === "number"
    ? `confidence ${result.confidence.toFixed(2)}`
    : result.uncalibrated || "not calibrated";
  return `${word} · ${trust}`;
}

/** Partial results of ponder/reason ({reasoning: next piece}) joined into the text so far, and
 * the greedy path's answer ({firstAnswer}) when it came before the other paths (a CPU's schedule). */
export class StreamedReasoning {
  text = "";
  firstAnswer = "";

  add(value: unknown): string {
    const partial = value as { reasoning?: unknown; firstAnswer?: unknown } | null;
    if (typeof partial?.reasoning === "string") {
      this.text += partial.reasoning;
    }
    if (typeof partial?.firstAnswer === "string") {
      this.firstAnswer = partial.firstAnswer;
    }
    return this.text;
  }
}

/** The panel while the answer is being written: the reasoning so far, then the first answer. */
export function thinkingHtml(reasoning: string, firstAnswer = ""): string {
  const first = firstAnswer
    ? `<p><strong>first answer: <code>${escapeHtml(firstAnswer)}</code></strong> · checking with more paths…</p>`
    : "";
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
</head><body>
<h1>thinking…</h1>
<pre style="white-space: pre-wrap">${escapeHtml(reasoning)}</pre>
${first}
</body></html>`;
}

/** What checking by running found, in words, as the server's hover says it. */
export function checkText(checked: Checked): string {
  if (checked.verdict === "could not run") {
    return `could not run it: ${checked.actual}`;
  }
  return `${checked.verdict}: running it gives ${checked.actual}`;
}

/** The answer panel: answer, confidence and vote, check, principle, reasoning, memories, buttons. */
export function answerHtml(result: ReasonResult, nonce: string): string {
  const vote = voteSummary(result);
  const votes = votesHtml(result);
  const principle = result.principle
    ? `<h2>Principle</h2><p>${escapeHtml(result.principle)}</p>`
    : "";
  const memories = result.memories.length
    ? `<h2>Memories used</h2><ul>${result.memories
        .map((m) => `<li>${escapeHtml(m.question)} → <code>${escapeHtml(m.answer)}</code> (${m.similarity.toFixed(2)})</li>`)
        .join("")}</ul>`
    : "";
  const checked = result.checked
    ? `<p><strong>Checked by running:</strong> ${escapeHtml(checkText(result.checked))}</p>` +
      (result.checked.explanation ? `<pre style="white-space: pre-wrap">${escapeHtml(result.checked.explanation)}</pre>` : "")
    : "";
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
</head><body>
<h1><code>${escapeHtml(result.answer || "(no answer)")}</code></h1>
<p><strong>${verdictText(result)}</strong>${vote ? " · " + vote : ""} · ${escapeHtml(result.strategy ?? "")} · ${escapeHtml(result.model)}</p>
${votes ? `<p>votes: ${votes}</p>` : ""}
${checked}
<button id="accept">Accept</button> <button id="reject">Reject</button> <button id="check">Check by running</button>
${principle}
<h2>Reasoning</h2><pre style="white-space: pre-wrap">${escapeHtml(result.rationale)}</pre>
${memories}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
document.getElementById("accept").onclick = () => vscode.postMessage({ command: "accept", id: ${JSON.stringify(result.id)} });
document.getElementById("reject").onclick = () => vscode.postMessage({ command: "reject", id: ${JSON.stringify(result.id)} });
document.getElementById("check").onclick = () => vscode.postMessage({ command: "check", id: ${JSON.stringify(result.id)} });
</script>
</body></html>`;
}
