-- Neovim WITHOUT ponder's plugin: plain vim.lsp.start, as any LSP editor would use ponder. The
-- answer shows as an inlay hint, in hover, and the accept code action stores it. Inlay hints are
-- drawn only with a UI, so this runs in a terminal (tests/e2e/test_nvim.py uses `script`):
--   PONDER_CMD=.venv/bin/ponder PONDER_SPEC_OUT=out.txt script -qec "nvim -u NONE -i NONE -c 'luafile tests/nvim/plain_spec.lua'" /dev/null
-- Writes "ok …" / "FAIL …" lines and "N passed, M failed" to $PONDER_SPEC_OUT; exits non-zero on failure.
local root = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h:h")
dofile(root .. "/tests/nvim/redraw_on_refresh.lua")
local passed, failed = 0, 0
local report = {}
local co -- the coroutine the spec runs in

local function test(name, fn)
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
    table.insert(report, "ok   " .. name)
  else
    failed = failed + 1
    table.insert(report, "FAIL " .. name .. ": " .. tostring(err))
  end
end

local function run()

-- The spec runs in a coroutine: waiting yields to Neovim's main loop, which redraws (and so
-- draws inlay hints) between checks; vim.wait would not.

local function sleep(ms)
  vim.defer_fn(function()
    assert(coroutine.resume(co))
  end, ms)
  coroutine.yield()
end

local function wait_for(what, cond, ms)
  local waited = 0
  while not cond() do
    if waited > (ms or 60000) then
      error("timed out waiting for " .. what)
    end
    sleep(100)
    waited = waited + 100
  end
end

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
local buf = vim.api.nvim_get_current_buf()
local shown = {}
local client_id = vim.lsp.start({
  name = "ponder-plain",
  cmd = { os.getenv("PONDER_CMD") or "ponder", "serve" },
  root_dir = dir,
  init_options = {
    model = os.getenv("PONDER_TEST_MODEL") or "smollm2-135m",
    reason = { maxTokens = 48, samples = 3 },
    memory = { embedder = "hashing" },
  },
  handlers = {
    ["window/showMessage"] = function(_, params)
      table.insert(shown, params.message)
    end,
  },
}, { bufnr = buf })
vim.lsp.inlay_hint.enable(true, { bufnr = buf })
local client = vim.lsp.get_client_by_id(client_id)

local function request(method, params)
  client:request(method, params, function(err, result)
    vim.schedule(function()
      assert(coroutine.resume(co, err, result))
    end)
  end, buf)
  local err, result = coroutine.yield()
  assert(err == nil, method .. ": " .. vim.inspect(err))
  return result
end

local answer
test("the command's answer appears as an inlay hint after the selection", function()
  wait_for("initialize", function() return client.initialized end, 20000)
  answer = request("workspace/executeCommand", {
    command = "ponder.reason",
    arguments = { {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      range = { start = { line = 0, character = 0 }, ["end"] = { line = 4, character = 12 } },
      question = "What does total([1, 2]) return?",
    } },
  })
  assert(answer and answer.id, vim.inspect(answer))
  -- The server asks for a refresh; Neovim re-requests hints and draws them as virtual text.
  local ns = vim.api.nvim_get_namespaces()["nvim.lsp.inlayhint"]
  local text = nil
  wait_for("the inlay hint extmark", function()
    for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, ns or -1, 0, -1, { details = true })) do
      local chunks = mark[4].virt_text or {}
      local parts = {}
      for _, chunk in ipairs(chunks) do
        table.insert(parts, chunk[1])
      end
      if mark[2] == 4 and #parts > 0 then
        text = table.concat(parts)
        return true
      end
    end
    return false
  end, 20000)

  assert(text:find("⟹", 1, true), text)
  assert(#shown == 0, "a client with inlay hints gets no message: " .. vim.inspect(shown))
end)

test("hover inside the range shows the answer", function()
  local result = request("textDocument/hover", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = 2, character = 4 },
  })
  local value = result.contents.value
  assert(value:find("paths agree", 1, true), value)
  assert(value:find(answer.answer:sub(1, 20), 1, true), value)
end)

test("the accept code action stores the answer in memory", function()
  local actions = request("textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = { line = 2, character = 0 }, ["end"] = { line = 2, character = 0 } },
    context = { diagnostics = {} },
  })
  local accept = nil
  for _, action in ipairs(actions) do
    if action.title == "Ponder: accept answer" then
      accept = action
    end
  end
  assert(accept, vim.inspect(actions))
  local stored = request("workspace/executeCommand", accept.command)
  assert(stored.memoryId and #stored.memoryId == 32, vim.inspect(stored))
end)

table.insert(report, string.format("%d passed, %d failed", passed, failed))
vim.fn.writefile(report, os.getenv("PONDER_SPEC_OUT") or "plain_spec.out")
client:stop()
wait_for("the server to stop", function() return client:is_stopped() end, 5000)
os.exit(failed == 0 and 0 or 1)
end

-- After startup, in the main loop, with the terminal UI attached (it draws the hints).
co = coroutine.create(function()
  local ok, err = pcall(run)
  if not ok then
    vim.fn.writefile({ "FAIL the spec: " .. tostring(err), "0 passed, 1 failed" }, os.getenv("PONDER_SPEC_OUT") or "plain_spec.out")
    os.exit(1)
  end
end)
vim.defer_fn(function()
  assert(coroutine.resume(co))
end, 100)
