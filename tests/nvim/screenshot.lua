-- What a Neovim user sees: the plugin asks about a selection; the answer float and the inline
-- answer (an inlay hint after the code) are drawn. Run in a terminal by tests/e2e/test_nvim.py,
-- which renders the screen to a PNG once this script writes $PONDER_READY.
local root = vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p:h:h:h")
vim.opt.rtp:prepend(root .. "/editors/nvim")
vim.cmd("runtime plugin/ponder.lua")
vim.o.termguicolors = true
vim.o.number = true
vim.o.showmode = false
vim.cmd("syntax on")

dofile(root .. "/tests/nvim/redraw_on_refresh.lua")

local ponder = require("ponder")
ponder.setup({
  cmd = { os.getenv("PONDER_CMD") or "ponder", "serve" },
  settings = {
    model = os.getenv("PONDER_TEST_MODEL") or "smollm2-135m",
    reason = { maxTokens = 96, samples = 3 },
  },
  float = { width = 60, max_height = 14, border = "rounded" },
})

local file = vim.fn.tempname() .. "_inventory.py"
vim.fn.writefile({
  "def total(xs):",
  "    s = 0",
  "    for x in xs:",
  "        s += x * 2",
  "    return s",
  "",
  "",
  "def mean(xs):",
  "    return total(xs) / len(xs)",
}, file)
vim.cmd("edit " .. file)

local function ready(what)
  vim.fn.writefile({ what }, os.getenv("PONDER_READY"))
end

-- The inline answer as drawn: Neovim caches the hints first and sets their extmarks only in the
-- next redraw, so "cached" is not yet "on the screen".
local function drawn_hint(bufnr)
  for name, ns in pairs(vim.api.nvim_get_namespaces()) do
    if name:find("inlayhint", 1, true) then
      for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
        for _, chunk in ipairs(mark[4].virt_text or {}) do
          if chunk[1]:find("⟹", 1, true) then
            return true
          end
        end
      end
    end
  end
  return false
end

local asked = false
local waited = 0
local timer = vim.uv.new_timer()
timer:start(250, 250, vim.schedule_wrap(function()
  waited = waited + 250
  if not asked then
    local client = ponder.client()
    if waited > 180000 then -- a clear report before the test's own deadline (240 s)
      timer:stop()
      ready("error: the server did not initialize in 180 s (client " .. (client and "started" or "missing") .. ")")
    elseif client ~= nil and client.initialized then
      asked = true
      vim.api.nvim_win_set_cursor(0, { 9, 0 }) -- the float opens below the code, not over it
      local ok, err = pcall(vim.cmd, "1,5PonderReason What does total([1, 2]) return?")
      if not ok then
        timer:stop()
        ready("error: " .. tostring(err))
      end
    end
    return
  end
  local f = ponder.state.float
  local answered = f ~= nil and not f.thinking
  local bufnr = vim.fn.bufnr(file)
  local hints = vim.lsp.inlay_hint.get({ bufnr = bufnr })
  if answered and #hints > 0 and drawn_hint(bufnr) then
    timer:stop()
    vim.cmd("redraw!")
    ready("answered")
  elseif ponder.state.last_error or waited > 180000 then
    timer:stop()
    local why = #hints > 0 and "the inlay hint came but was never drawn" or "timed out"
    ready("error: " .. tostring(ponder.state.last_error or why))
  elseif answered and #hints > 0 then
    vim.cmd("redraw") -- draws the cached hint (sets its extmark)
  end
end))
