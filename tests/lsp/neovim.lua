-- Drives `pgrisk lsp` from Neovim's built-in LSP client and writes what it saw as JSON.
-- Written for Neovim 0.7 (Debian bookworm): vim.lsp.start_client + buf_attach_client, as
-- vim.lsp.start and `nvim -l` came in 0.8 and 0.9.
-- Environment: PGRISK_BIN, MIGRATIONS (directory), RESULT (JSON file to write).

local bin = os.getenv('PGRISK_BIN')
local dir = os.getenv('MIGRATIONS')
local result_path = os.getenv('RESULT')
local result = { nvim_version = vim.version() }
local published = {}

local function diagnostics_of(rule, diagnostics)
  for _, d in ipairs(diagnostics) do
    if d.code == rule then
      return d
    end
  end
  error('no ' .. rule .. ' diagnostic in ' .. vim.inspect(diagnostics))
end

local function main()
  local client_id = vim.lsp.start_client({
    name = 'pgrisk',
    cmd = { bin, 'lsp' },
    root_dir = dir,
    handlers = {
      ['textDocument/publishDiagnostics'] = function(_, params)
        table.insert(published, params)
      end,
    },
  })
  assert(client_id, 'the client did not start')
  vim.cmd('edit ' .. vim.fn.fnameescape(dir .. '/0002_index_orders.sql'))
  local bufnr = vim.api.nvim_get_current_buf()
  assert(vim.lsp.buf_attach_client(bufnr, client_id), 'could not attach')

  -- the diagnostics for the buffer as it is now (the client sends the changes debounced)
  local function current_diagnostics()
    local ok = vim.wait(30000, function()
      local last = published[#published]
      return last ~= nil and last.version == vim.lsp.util.buf_versions[bufnr]
    end, 10)
    assert(ok, 'no diagnostics for version ' .. tostring(vim.lsp.util.buf_versions[bufnr]))
    return published[#published].diagnostics
  end

  local function code_actions(diagnostic)
    local params = {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      range = diagnostic.range,
      context = { diagnostics = { diagnostic } },
    }
    local responses = assert(vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, 30000))
    local response = responses[client_id]
    assert(response and not response.err, 'codeAction failed: ' .. vim.inspect(responses))
    return response.result
  end

  local function apply(actions, title)
    for _, action in ipairs(actions) do
      if action.title == title then
        vim.lsp.util.apply_workspace_edit(action.edit, 'utf-16')
        return
      end
    end
    error('no action "' .. title .. '" in ' .. vim.inspect(actions))
  end

  local function text()
    return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  end

  result.opened = current_diagnostics()
  local index = diagnostics_of('create-index-blocking', result.opened)
  local actions = code_actions(index)
  result.index_actions = vim.tbl_map(function(a) return a.title end, actions)
  for _, action in ipairs(actions) do
    if action.isPreferred then
      result.fix_title = action.title
    end
  end
  apply(actions, result.fix_title)
  result.text_after_fix = text()
  result.after_fix = current_diagnostics()

  -- an incremental change: a new line at the end of the buffer
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { '  ALTER TABLE orders ADD COLUMN total numeric NOT NULL;' })
  result.after_edit = current_diagnostics()
  local required = diagnostics_of('add-column-required', result.after_edit)
  apply(code_actions(required), 'Ignore add-column-required for this statement')
  result.text_after_ignore = text()
  result.after_ignore = current_diagnostics()

  vim.lsp.stop_client(client_id)
end

local ok, err = pcall(main)
if not ok then
  result.error = tostring(err)
end
local file = assert(io.open(result_path, 'w'))
file:write(vim.json.encode(result))
file:close()
vim.cmd(ok and 'qall!' or 'cquit 1')
