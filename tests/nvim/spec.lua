-- Headless Neovim spec: the real plugin, the real server, a real model.
--   PONDER_CMD=".venv/bin/ponder" PONDER_TEST_MODEL=smollm2-135m nvim --headless -u NONE -l tests/nvim/spec.lua
-- Prints "N passed, M failed" and exits non-zero on failure.
local root = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h:h")
vim.opt.rtp:prepend(root .. "/editors/nvim")
vim.cmd("runtime plugin/ponder.lua")

local ponder = require("ponder")
local passed, failed = 0, 0

local function test(name, fn)
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
    print("ok   " .. name)
  else
    failed = failed + 1
    print("FAIL " .. name .. ": " .. tostring(err))
  end
end

local function wait_for(what, cond, ms)
  if not vim.wait(ms or 60000, cond, 50) then
    error("timed out waiting for " .. what)
  end
end

ponder.setup({
  cmd = { os.getenv("PONDER_CMD") or "ponder", "serve" },
  settings = {
    model = os.getenv("PONDER_TEST_MODEL") or "smollm2-135m",
    reason = { maxTokens = 48 },
    memory = { embedder = "hashing" },
    checkByRunning = true,
  },
})

local dir = vim.fn.tempname()
vim.fn.mkdir(dir, "p")
local file = dir .. "/sample.py"
vim.fn.writefile({
  "def total(xs):",
  "    s = 0",
  "    for x in xs:",
  "        s += x * 2",
  "    return s",
}, file)
vim.cmd("edit " .. file)

test("the server starts for a file on disk", function()
  wait_for("the ponder client", function()
    return ponder.client() ~= nil and ponder.client().initialized
  end, 20000)
end)

test(":PonderReason on a selection opens the answer float", function()
  vim.cmd("1,5PonderReason What does total([1, 2]) return?")
  wait_for("the answer float", function()
    local f = ponder.state.float
    return (f ~= nil and not f.thinking) or ponder.state.last_error ~= nil
  end, 120000)
  assert(ponder.state.last_error == nil, vim.inspect(ponder.state.last_error))
  local lines = vim.api.nvim_buf_get_lines(ponder.state.float.buf, 0, -1, false)
  assert(lines[1]:match("^# ."), "answer heading: " .. lines[1])
  -- A calibrated confidence, or why there is none (the test model has no table).
  assert(lines[3]:match("^[%a]+ · confidence %d%.%d%d") or lines[3]:match("^[%a]+ · not calibrated"),
    "verdict and confidence line: " .. lines[3])
  assert(vim.tbl_contains(lines, "## Reasoning"), "reasoning section")
  assert(ponder.state.last.id and #ponder.state.last.id == 32)
  -- The reasoning was streamed into the float while it was written.
  assert(#ponder.state.streamed > 0, "no partial results arrived")
  assert(vim.lsp.inlay_hint.is_enabled({ bufnr = 0 }) or vim.lsp.inlay_hint.is_enabled({ bufnr = vim.fn.bufnr(file) }),
    "inlay hints are on in ponder's buffers")
end)

test(":PonderAccept stores the answer in the server's memory", function()
  vim.cmd("PonderAccept")
  wait_for("the memory id", function()
    return ponder.state.last_stored ~= nil
  end, 30000)
  assert(#ponder.state.last_stored.memoryId == 32, vim.inspect(ponder.state.last_stored))
  assert(ponder.state.float == nil, "the float closes after accepting")
  -- Asking the same question again finds it as a memory.
  local before = ponder.state.last.id
  vim.cmd("1,5PonderReason What does total([1, 2]) return?")
  wait_for("the second answer", function()
    return ponder.state.last.id ~= before
  end, 120000)
  assert(#ponder.state.last.memories == 1, vim.inspect(ponder.state.last.memories))
  assert(ponder.state.last.memories[1].id == ponder.state.last_stored.memoryId)
end)

test(":PonderCheck runs the call and shows the real value in the float", function()
  local last = ponder.state.last
  vim.cmd("PonderCheck")
  wait_for("the verdict", function()
    return last.checked ~= nil or ponder.state.last_error ~= nil
  end, 120000)
  assert(ponder.state.last_error == nil, vim.inspect(ponder.state.last_error))
  assert(last.checked.actual == "6", vim.inspect(last.checked))
  assert(last.checked.verdict == "verified" or last.checked.verdict == "refuted", vim.inspect(last.checked))
  local lines = vim.api.nvim_buf_get_lines(ponder.state.float.buf, 0, -1, false)
  local said = "**Checked by running:** " .. last.checked.verdict .. ": running it gives 6"
  assert(vim.tbl_contains(lines, said), vim.inspect(lines))
end)

test(":PonderCancel stops a long request and the server still answers", function()
  ponder.close_float()
  local client = ponder.client()
  -- Six paths: still running 1.5 s in (one path, as `auto` gives an explanation, can end sooner).
  local long = { maxTokens = 3000, strategy = "self_consistency" }
  client.notify("workspace/didChangeConfiguration", { settings = { ponder = { reason = long } } })
  vim.cmd("1,5PonderReason Explain this in great detail")
  assert(ponder.state.pending ~= nil, "a request is pending")
  vim.wait(1500)
  local started = vim.uv.hrtime()
  vim.cmd("PonderCancel")
  assert(ponder.state.pending == nil)
  -- The server's decode loop stops: a new short request is answered promptly.
  client.notify("workspace/didChangeConfiguration", { settings = { ponder = { reason = { maxTokens = 8, strategy = "auto" } } } })
  local before = ponder.state.last.id
  vim.cmd("1,5PonderReason")
  wait_for("an answer after cancelling", function()
    return ponder.state.last.id ~= before
  end, 15000)
  local seconds = (vim.uv.hrtime() - started) / 1e9
  assert(seconds < 15, "answer after cancel took " .. seconds .. " s")
end)

test(":checkhealth ponder reports the server", function()
  vim.cmd("checkhealth ponder")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  assert(text:match("server: "), text)
  assert(text:match("GPU offload"), text)
end)

test("the thinking float shows the greedy path's first answer under the reasoning", function()
  local win = ponder.show_thinking("x is 1", "[1,\n 2]")
  local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
  assert(lines[3] == "x is 1", vim.inspect(lines))
  assert(lines[#lines] == "**first answer: `[1, 2]`** · checking with more paths…", vim.inspect(lines))
  assert(vim.wo[win].wrap and vim.wo[win].linebreak, "the float wraps at word boundaries")
  ponder.close_float()
end)

test("the float says how far to trust the answer", function()
  local result = {
    answer = "it sums", confidence = 0.97, verdict = "unchecked", strategy = "greedy", model = "m",
    agreement = { agree = 1, paths = 1 }, rationale = "r", memories = {}, candidates = {},
  }
  assert(ponder.lines_of(result)[3] == "free text, not checked · `greedy` · `m`", ponder.lines_of(result)[3])
  result.verdict, result.confidence = "uncertain", 0.36
  assert(ponder.lines_of(result)[3] == "UNCERTAIN · confidence 0.36 · `greedy` · `m`", ponder.lines_of(result)[3])
  -- No table covers the answer: no number (the raw margin is not a probability), the reason instead.
  result.confidence, result.uncalibrated = vim.NIL, "not calibrated: the answer is not a Python value"
  result.signal = { kind = "margin", value = 0.97 }
  local said = ponder.lines_of(result)[3]
  assert(said == "UNCERTAIN · not calibrated: the answer is not a Python value · `greedy` · `m`", said)
end)

test("the float shows a check's verdict and the second look", function()
  local result = {
    answer = "[1]", confidence = 0.36, verdict = "uncertain", strategy = "greedy", model = "m",
    agreement = { agree = 1, paths = 1 }, rationale = "r", memories = {}, candidates = {},
    checked = { verdict = "refuted", actual = "[2]", explanation = "Line 3 skips the last item." },
  }
  local lines = ponder.lines_of(result)
  assert(vim.tbl_contains(lines, "**Checked by running:** refuted: running it gives [2]"), vim.inspect(lines))
  assert(vim.tbl_contains(lines, "Line 3 skips the last item."), vim.inspect(lines))
  result.checked = { verdict = "could not run", actual = "the code did not load: ImportError", explanation = "" }
  assert(vim.tbl_contains(ponder.lines_of(result), "**Checked by running:** could not run it: the code did not load: ImportError"))
end)

test("the float lists the paths' answers when they differ", function()
  local result = {
    answer = "[1]", confidence = 0.36, verdict = "uncertain", strategy = "self_consistency", model = "m",
    agreement = { agree = 3, paths = 6 }, rationale = "r", memories = {},
    candidates = { { answer = "[1]", count = 3 }, { answer = "[2]", count = 2 }, { answer = "", count = 1 } },
  }
  local lines = ponder.lines_of(result)
  assert(vim.tbl_contains(lines, "votes: `[1]` × 3, `[2]` × 2, no answer × 1"), vim.inspect(lines))
  result.candidates = { { answer = "[1]", count = 6 } }
  for _, line in ipairs(ponder.lines_of(result)) do
    assert(not line:find("votes:", 1, true), "one answer: no votes line")
  end
end)

print(string.format("%d passed, %d failed", passed, failed))
for _, c in ipairs(vim.lsp.get_clients({ name = "ponder" })) do
  c:stop()
end
vim.wait(2000, function()
  return #vim.lsp.get_clients({ name = "ponder" }) == 0
end)
os.exit(failed == 0 and 0 or 1)
