-- Commands only; `require("ponder").setup(opts)` starts the server.
if vim.g.loaded_ponder then
  return
end
vim.g.loaded_ponder = true

vim.api.nvim_create_user_command("PonderReason", function(args)
  local ponder = require("ponder")
  if args.range > 0 then
    ponder.reason(args.args, args.line1, args.line2)
  else
    ponder.reason(args.args)
  end
end, { nargs = "*", range = true, desc = "ponder: reason about the selection (or the function here)" })
vim.api.nvim_create_user_command("PonderAccept", function(args)
  require("ponder").accept(args.args)
end, { nargs = "*", desc = "ponder: remember the last answer (optionally an edited answer)" })
vim.api.nvim_create_user_command("PonderReject", function()
  require("ponder").reject()
end, { desc = "ponder: record the last answer as wrong" })
vim.api.nvim_create_user_command("PonderCheck", function()
  require("ponder").check()
end, { desc = "ponder: check the last answer by running its call (needs checkByRunning)" })
vim.api.nvim_create_user_command("PonderCancel", function()
  require("ponder").cancel()
end, { desc = "ponder: cancel the running request" })
vim.api.nvim_create_user_command("PonderMemory", function(args)
  require("ponder").memory(args.args)
end, { nargs = 1, desc = "ponder: search the memory of accepted reasoning" })
