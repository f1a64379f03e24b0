-- :checkhealth ponder
local M = {}

function M.check()
  local ponder = require("ponder")
  local cmd = ponder.config.cmd
  vim.health.start("ponder")
  if vim.fn.executable(cmd[1]) == 0 then
    vim.health.error("server not found: " .. cmd[1], { "install ponder (make setup) and set cmd in setup()" })
    return
  end
  vim.health.ok("server: " .. table.concat(cmd, " "))
  local doctor = vim.deepcopy(cmd)
  doctor[#doctor] = "doctor"
  local out = vim.fn.systemlist(doctor)
  if vim.v.shell_error ~= 0 then
    vim.health.error("`ponder doctor` failed", out)
    return
  end
  for _, line in ipairs(out) do
    if line:match("^GPU offload") or line:match("^llama%-cpp%-python") or line:match("^model") or line:match("sha256") then
      vim.health.info(line)
    end
  end
  local client = vim.lsp.get_clients({ name = "ponder" })[1]
  if not client then
    vim.health.warn("no ponder client running (open a file after setup())")
    return
  end
  local res = client:request_sync("ponder/status", {}, 5000)
  if res and res.result then
    local s = res.result
    vim.health.ok(string.format("version %s, model %s (%s)", s.version, s.model.model, s.modelLoaded and "loaded" or "not loaded yet"))
    vim.health.info("GPU offload: " .. (s.gpuOffload and "yes" or "no"))
    vim.health.info("memory: " .. (s.memoryPath or "?"))
  else
    vim.health.warn("ponder/status did not answer")
  end
end

return M
