-- Neovim's built-in LSP client against `deja lsp`, headless (`tests/lsp.rs` runs it; by hand:
-- see `neovim_shows_findings_hover_and_applies_the_quick_fix` there). Works on Neovim 0.7 to
-- 0.11: the client is set up by the README's line for the running version (DEJA_SETUP), with
-- `deja` on the PATH. Then, as a user would:
--   1. open the seed article (DEJA_SEED), wait for its diagnostics, hover on the first finding,
--      apply its "Delete the redundant paragraph" quick fix through `vim.lsp.buf.code_action`
--      (the picker, `vim.ui.select`, answered here), and wait for the diagnostics of the edit;
--   2. open a file of a workspace with a `deja.toml` (DEJA_COPY, which copies a paragraph of
--      DEJA_ORIGINAL), wait for its diagnostics, then open the original and wait for its note.
-- Everything seen is written as JSON to DEJA_OUT, then Neovim quits; the test judges it.

local out = { version = tostring(vim.version()) }

local function get_clients(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr })
  end
  return vim.lsp.buf_get_clients(bufnr)
end

-- The diagnostics of the current buffer as Neovim holds them (byte columns), sorted.
local function diagnostics()
  local ds = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    local lsp = (d.user_data or {}).lsp or {}
    local related = {}
    for _, r in ipairs(lsp.relatedInformation or {}) do
      table.insert(related, { uri = r.location.uri, line = r.location.range.start.line })
    end
    table.insert(ds, {
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      severity = d.severity,
      source = d.source,
      code = d.code or lsp.code,
      message = d.message,
      related = related,
    })
  end
  table.sort(ds, function(a, b)
    return a.lnum < b.lnum
  end)
  return ds
end

local changed = 0
vim.api.nvim_create_autocmd('DiagnosticChanged', {
  callback = function()
    changed = changed + 1
  end,
})

-- Opens `path` and waits for its first diagnostics (at least `min`).
local function open(path, min)
  local seen = changed
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  assert(vim.wait(20000, function()
    return #get_clients(0) > 0
  end, 10), 'no client attached to ' .. path .. ' (filetype ' .. vim.bo.filetype .. ')')
  assert(vim.wait(30000, function()
    return changed > seen and #vim.diagnostic.get(0) >= min
  end, 10), 'no diagnostics for ' .. path)
  return {
    filetype = vim.bo.filetype,
    lines = vim.api.nvim_buf_get_lines(0, 0, -1, false),
    diagnostics = diagnostics(),
  }
end

local function run()
  vim.cmd('filetype on')
  local setup = assert(os.getenv('DEJA_SETUP'), 'DEJA_SETUP: the README line')
  assert((loadstring or load)(setup))()

  -- 1. The seed.
  local seed = open(assert(os.getenv('DEJA_SEED')), 1)
  out.seed = seed
  local client = get_clients(0)[1]
  out.client = { name = client.name, offset_encoding = client.offset_encoding }
  local first = seed.diagnostics[1]
  vim.api.nvim_win_set_cursor(0, { first.lnum + 1, 5 })
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local hover = vim.lsp.buf_request_sync(0, 'textDocument/hover', params, 10000) or {}
  for _, r in pairs(hover) do
    out.hover = r.result and r.result.contents and r.result.contents.value
  end

  local titles = {}
  local chosen = false
  vim.ui.select = function(items, opts, on_choice)
    local pick
    for _, item in ipairs(items) do
      local title = opts.format_item(item)
      table.insert(titles, title)
      if not pick and title:find('^Delete the redundant paragraph') then
        pick = item
      end
    end
    chosen = pick ~= nil
    on_choice(pick)
  end
  local before = vim.api.nvim_buf_line_count(0)
  local seen = changed
  vim.lsp.buf.code_action()
  assert(vim.wait(10000, function()
    return chosen and vim.api.nvim_buf_line_count(0) < before
  end, 10), 'the quick fix was not applied')
  out.actions = titles
  -- The server checks the edit once the typing pauses; its diagnostics replace the old ones.
  assert(vim.wait(10000, function()
    return changed > seen
  end, 10), 'no diagnostics after the edit')
  out.edited = {
    lines = vim.api.nvim_buf_get_lines(0, 0, -1, false),
    diagnostics = diagnostics(),
  }

  -- 2. A workspace with a deja.toml: the copy, then the original.
  out.copy = open(assert(os.getenv('DEJA_COPY')), 1)
  out.original = open(assert(os.getenv('DEJA_ORIGINAL')), 1)
end

local ok, err = pcall(run)
if not ok then
  out.error = tostring(err)
end
local f = assert(io.open(assert(os.getenv('DEJA_OUT')), 'w'))
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qa!')
