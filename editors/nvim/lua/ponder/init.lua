-- ponder for Neovim: starts `ponder serve` with vim.lsp.start (one server per project root),
-- asks ponder/reason and streams its reasoning into a float, shows answers as inlay hints after
-- their code, sends ponder/accept / ponder/reject, cancels with $/cancelRequest.
local M = {}

M.defaults = {
  cmd = { "ponder", "serve" }, -- how to start the server
  filetypes = nil, -- nil: every buffer with a file on disk; or a list of filetypes
  settings = {}, -- initializationOptions, e.g. { model = "qwen2.5-coder-0.5b", reason = { strategy = "self_consistency" } }
  keys = { accept = "a", reject = "r", check = "c", yank = "y", close = "q" }, -- in the answer float
  float = { width = 90, max_height = 30, border = "rounded" },
  inlay_hints = true, -- show answers after their code (vim.lsp.inlay_hint) in ponder's buffers
  root_markers = { ".git", "pyproject.toml", "package.json", "Cargo.toml", "go.mod", "Makefile" },
}

M.config = vim.deepcopy(M.defaults)
M.state = { last = nil, pending = nil, float = nil, last_stored = nil, last_error = nil, streamed = "" }
local PARTIAL_TOKEN = "ponder-nvim-reasoning"

local function notify(msg, level)
  vim.notify("ponder: " .. msg, level or vim.log.levels.INFO)
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  local group = vim.api.nvim_create_augroup("ponder", { clear = true })
  vim.api.nvim_create_autocmd({ "FileType", "BufReadPost" }, {
    group = group,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      M.attach(buf)
    end
  end
end

local function wanted(buf)
  local name = vim.api.nvim_buf_get_name(buf)
  if name == "" or vim.bo[buf].buftype ~= "" or vim.fn.filereadable(name) == 0 then
    return false
  end
  local fts = M.config.filetypes
  return fts == nil or vim.tbl_contains(fts, vim.bo[buf].filetype)
end

-- Lua's empty table is sent as a JSON array: send settings as an object, always.
local function as_object(t)
  return next(t) == nil and vim.empty_dict() or t
end

-- $/progress: ponder's streamed reasoning (and the greedy path's first answer, when it comes
-- before the other paths) goes to the float; the rest to Neovim's handler.
local function on_progress(err, params, ctx, config)
  local value = params and params.token == PARTIAL_TOKEN and type(params.value) == "table" and params.value
  if value and (value.reasoning or value.firstAnswer) then
    M.state.streamed = M.state.streamed .. (value.reasoning or "")
    M.state.first_answer = value.firstAnswer or M.state.first_answer
    pcall(M.show_thinking, M.state.streamed, M.state.first_answer)
    return
  end
  return vim.lsp.handlers["$/progress"](err, params, ctx, config)
end

function M.attach(buf)
  if not wanted(buf) then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(buf)
  -- One server per project (not per folder): the model loads once per project.
  local root = vim.fs.root(buf, M.config.root_markers) or vim.fn.getcwd()
  local id = vim.lsp.start({
    name = "ponder",
    cmd = M.config.cmd,
    root_dir = root,
    init_options = as_object(M.config.settings),
    settings = { ponder = as_object(M.config.settings) },
    handlers = { ["$/progress"] = on_progress },
  }, { bufnr = buf })
  if id and M.config.inlay_hints then
    vim.lsp.inlay_hint.enable(true, { bufnr = buf })
  end
  return id
end

function M.client(buf)
  buf = buf or vim.api.nvim_get_current_buf()
  return vim.lsp.get_clients({ name = "ponder", bufnr = buf })[1]
end

local function one_line(text)
  return (tostring(text):gsub("%s*\n%s*", " "))
end

-- "`[1]` × 4, `[2]` × 1" when the paths gave more than one answer (beside an uncertain
-- answer, the right one is often among them), else nil.
function M.votes_text(result)
  local candidates = result.candidates or {}
  if #candidates < 2 then
    return nil
  end
  local parts = {}
  for _, c in ipairs(candidates) do
    local answer = c.answer ~= "" and ("`" .. one_line(c.answer) .. "`") or "no answer"
    table.insert(parts, string.format("%s × %d", answer, c.count))
  end
  return table.concat(parts, ", ")
end

-- "confident · confidence 0.88", "UNCERTAIN · confidence 0.36", "UNCERTAIN · not calibrated:
-- <why>" where no table covers the answer (a raw signal is never shown as a number), or "free
-- text, not checked" for an explanation, which nothing weighs.
function M.verdict_text(result)
  if result.verdict == "unchecked" then
    return "free text, not checked"
  end
  local word = result.verdict == "confident" and "confident" or "UNCERTAIN"
  if type(result.confidence) ~= "number" then -- null arrives as vim.NIL
    local why = type(result.uncalibrated) == "string" and result.uncalibrated or "not calibrated"
    return string.format("%s · %s", word, why)
  end
  return string.format("%s · confidence %.2f", word, result.confidence)
end

-- What checking by running found, as server/render.py says it.
function M.check_text(checked)
  if checked.verdict == "could not run" then
    return "could not run it: " .. one_line(checked.actual)
  end
  return string.format("%s: running it gives %s", checked.verdict, one_line(checked.actual))
end

function M.lines_of(result)
  local out = { "# " .. (result.answer ~= "" and one_line(result.answer) or "(no answer)"), "" }
  local agreement = result.agreement or {}
  local vote = (agreement.paths or 1) > 1 and string.format(" · %d of %d paths agree", agreement.agree, agreement.paths) or ""
  -- Names as code spans: markdown would read self_consistency's "_" as emphasis (a red cell).
  table.insert(out, string.format("%s%s · `%s` · `%s`", M.verdict_text(result), vote, result.strategy or "", result.model))
  local votes = M.votes_text(result)
  if votes then
    table.insert(out, "votes: " .. votes)
  end
  if type(result.checked) == "table" then
    vim.list_extend(out, { "", "**Checked by running:** " .. M.check_text(result.checked) })
    if result.checked.explanation and result.checked.explanation ~= "" then
      vim.list_extend(out, { "" })
      vim.list_extend(out, vim.split(result.checked.explanation, "\n"))
    end
  end
  if result.principle and result.principle ~= vim.NIL and result.principle ~= "" then
    vim.list_extend(out, { "", "## Principle", "" })
    vim.list_extend(out, vim.split(result.principle, "\n"))
  end
  vim.list_extend(out, { "", "## Reasoning", "" })
  vim.list_extend(out, vim.split(result.rationale or "", "\n"))
  if result.memories and #result.memories > 0 then
    vim.list_extend(out, { "", "## Memories used", "" })
    for _, m in ipairs(result.memories) do
      table.insert(out, string.format("- %s → %s (%.2f)", one_line(m.question), one_line(m.answer), m.similarity))
    end
  end
  local k = M.config.keys
  vim.list_extend(out, { "", string.format("[%s] accept  [%s] reject  [%s] check by running  [%s] yank answer  [%s] close", k.accept, k.reject, k.check, k.yank, k.close) })
  return out
end

function M.close_float()
  local f = M.state.float
  if f and vim.api.nvim_win_is_valid(f.win) then
    vim.api.nvim_win_close(f.win, true)
  end
  M.state.float = nil
end

local function open_float(lines, enter)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = "markdown"
  vim.bo[buf].modifiable = false
  local cfg = M.config.float
  local width = math.min(cfg.width, vim.o.columns - 4)
  local height = math.min(#lines, cfg.max_height, math.max(1, vim.o.lines - 4))
  local win = vim.api.nvim_open_win(buf, enter, {
    relative = "cursor", row = 1, col = 0, width = width, height = height,
    style = "minimal", border = cfg.border, title = " ponder ", title_pos = "center",
  })
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true -- wrap at word boundaries, not in mid-word
  return win, buf
end

--- The reasoning so far, while the answer is being written (the float does not take focus), then
--- the greedy path's first answer while the other paths check it.
function M.show_thinking(text, first_answer)
  local lines = vim.list_extend({ "# thinking…", "" }, vim.split(text, "\n"))
  if first_answer then
    vim.list_extend(lines, { "", "**first answer: `" .. one_line(first_answer) .. "`** · checking with more paths…" })
  end
  local f = M.state.float
  if f and f.thinking and vim.api.nvim_win_is_valid(f.win) then
    vim.bo[f.buf].modifiable = true
    vim.api.nvim_buf_set_lines(f.buf, 0, -1, false, lines)
    vim.bo[f.buf].modifiable = false
    local height = math.min(#lines, M.config.float.max_height, math.max(1, vim.o.lines - 4))
    vim.api.nvim_win_set_height(f.win, height)
    return f.win
  end
  M.close_float()
  local win, buf = open_float(lines, false)
  M.state.float = { win = win, buf = buf, thinking = true }
  return win
end

function M.show(result)
  M.close_float()
  local win, buf = open_float(M.lines_of(result), true)
  M.state.float = { win = win, buf = buf }
  local k, map = M.config.keys, function(lhs, fn)
    vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, silent = true })
  end
  map(k.accept, function() M.accept() end)
  map(k.reject, function() M.reject() end)
  map(k.check, function() M.check() end)
  map(k.yank, function()
    vim.fn.setreg(vim.v.register, result.answer)
    notify("answer yanked")
  end)
  map(k.close, M.close_float)
  return win
end

--- Ask ponder about a range (1-based lines, inclusive) or, without one, the function at the cursor.
function M.reason(question, line1, line2)
  local buf = vim.api.nvim_get_current_buf()
  local client = M.client(buf) or (M.attach(buf) and M.client(buf))
  if not client then
    notify("no ponder server for this buffer (is it a file on disk?)", vim.log.levels.ERROR)
    return
  end
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) } }
  if line1 and line2 then
    local last = vim.api.nvim_buf_get_lines(buf, line2 - 1, line2, false)[1] or ""
    params.range = { start = { line = line1 - 1, character = 0 }, ["end"] = { line = line2 - 1, character = #last } }
  else
    local pos = vim.api.nvim_win_get_cursor(0)
    params.position = { line = pos[1] - 1, character = pos[2] }
  end
  if question and question ~= "" then
    params.question = question
  end
  params.partialResultToken = PARTIAL_TOKEN
  M.state.streamed = ""
  M.state.first_answer = nil
  M.state.last_error = nil
  local ok, id = client:request("ponder/reason", params, function(err, result)
    M.state.pending = nil
    if err then
      if M.state.float and M.state.float.thinking then
        M.close_float()
      end
      M.state.last_error = err
      if err.code ~= -32800 then
        notify(err.message, vim.log.levels.ERROR)
      else
        notify("cancelled")
      end
      return
    end
    M.state.last = result
    M.state.last_uri = params.textDocument.uri
    M.state.answered_by = client
    local shown, show_err = pcall(M.show, result)
    if not shown then
      M.state.last_error = { message = tostring(show_err) }
      notify("cannot show the answer: " .. tostring(show_err), vim.log.levels.ERROR)
    end
  end, buf)
  if ok then
    M.state.pending = { client = client, id = id }
  end
  return ok and id or nil
end

function M.cancel()
  local p = M.state.pending
  if not p then
    notify("nothing to cancel")
    return
  end
  p.client:cancel_request(p.id)
  -- Neovim drops the handler of a cancelled request: report it ourselves.
  M.state.pending = nil
  if M.state.float and M.state.float.thinking then
    M.close_float()
  end
  M.state.last_error = { code = -32800, message = "cancelled" }
  notify("cancelled")
end

local function store(method, extra)
  local last = M.state.last
  if not last then
    notify("no answer to " .. (method == "ponder/accept" and "accept" or "reject") .. " yet", vim.log.levels.WARN)
    return
  end
  -- The client that answered: each project has its own server, and only it knows the answer.
  local client = M.state.answered_by or M.client()
  local params = vim.tbl_extend("force", { id = last.id }, extra or {})
  client:request(method, params, function(err, result)
    if err then
      notify(err.message, vim.log.levels.ERROR)
      return
    end
    M.state.last_stored = result
    notify((method == "ponder/accept" and "remembered " or "rejection recorded ") .. result.memoryId)
    M.close_float()
  end)
end

function M.accept(answer)
  store("ponder/accept", answer and answer ~= "" and { answer = answer } or nil)
end

function M.reject()
  store("ponder/reject")
end

--- Run the last answer's call (a "what does f(…) return?" answer) and show the verdict. The
--- server refuses unless `settings = { checkByRunning = true }`: running is never automatic.
function M.check()
  local last = M.state.last
  if not last then
    notify("no answer to check yet", vim.log.levels.WARN)
    return
  end
  local client = M.state.answered_by or M.client()
  local params = { textDocument = { uri = M.state.last_uri }, id = last.id }
  notify("checking by running…")
  client:request("ponder/check", params, function(err, result)
    if err then
      M.state.last_error = err
      notify(err.message, vim.log.levels.ERROR)
      return
    end
    last.checked = result
    notify(M.check_text(result))
    M.show(last)
  end)
end

function M.memory(query)
  -- `ponder serve [--backend-url URL]` → `ponder memory search QUERY`
  local cmd = {}
  for _, part in ipairs(M.config.cmd) do
    if part == "serve" then
      break
    end
    table.insert(cmd, part)
  end
  vim.list_extend(cmd, { "memory", "search", query })
  local out = vim.fn.systemlist(cmd)
  vim.fn.setqflist({}, " ", { title = "ponder memory: " .. query, lines = out })
  vim.cmd("copen")
end

return M
