-- Makes Neovim's inlay-hint cache race certain: a full redraw right after each
-- workspace/inlayHint/refresh, before the hints' reply. Neovim (0.11) then marks the lines drawn
-- with the old hints and does not draw the answer's hint when it arrives for the same buffer
-- version; the server's second refresh, sent once the answer's hint was served
-- (server/features/inline.py), must get it drawn anyway. Without that the tests that load this
-- fail every run.
local refresh = vim.lsp.handlers["workspace/inlayHint/refresh"]
vim.lsp.handlers["workspace/inlayHint/refresh"] = function(...)
  local reply = refresh(...)
  vim.cmd("redraw!")
  return reply
end
