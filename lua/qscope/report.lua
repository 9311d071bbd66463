-- qs.report: rows (a list of tables, as qs.sweep and qs.compare return)
-- as CSV, JSON or Markdown text, saved atomically, and CSV read back.
-- Loaded by lib.lua with the module table as its argument.
local qs = ...

local fmt, concat = string.format, table.concat

local report = {}
qs.report = report

-- Columns ------------------------------------------------------------------

local function scalar(v)
  local ty = type(v)
  return ty == "number" or ty == "string" or ty == "boolean"
end

--- report.columns(rows [, columns]) -> the list of columns written: the
-- given list, else rows.fields (every field a sweep fills), else
-- rows.columns (the printed ones), else every key holding a number,
-- string or boolean in some row, sorted.
function report.columns(rows, columns)
  if columns then return columns end
  if rows.fields then return rows.fields end
  if rows.columns then return rows.columns end
  local seen, out = {}, {}
  for _, r in ipairs(rows) do
    for k, v in pairs(r) do
      if type(k) == "string" and scalar(v) and not seen[k] then
        seen[k] = true
        out[#out + 1] = k
      end
    end
  end
  table.sort(out)
  return out
end

-- Numbers as the shortest decimal that reads back to the same double.
local function number(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  for _, p in ipairs{"%.6g", "%.9g", "%.12g", "%.15g", "%.16g", "%.17g"} do
    local s = fmt(p, v)
    if tonumber(s) == v then return s end
  end
  return fmt("%.17g", v)
end

-- CSV (RFC 4180) -------------------------------------------------------------

local function csv_field(v)
  local ty = type(v)
  if v == nil then return "" end
  if ty == "number" then return number(v) end
  if ty == "boolean" then return v and "true" or "false" end
  if ty ~= "string" then return "" end
  if v:find('[,"\r\n]') or v:find("^%s") or v:find("%s$") then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

--- report.csv(rows [, columns]) -> text: a header line, then one line per
-- row (RFC 4180: fields with commas, quotes or line breaks are quoted,
-- quotes doubled); numbers in the shortest exact decimal, nan/inf/-inf
-- as words, absent values empty.
function report.csv(rows, columns)
  local cols = report.columns(rows, columns)
  local out = {}
  local head = {}
  for j, c in ipairs(cols) do head[j] = csv_field(c) end
  out[1] = concat(head, ",")
  for i, r in ipairs(rows) do
    local f = {}
    for j, c in ipairs(cols) do f[j] = csv_field(r[c]) end
    out[i + 1] = concat(f, ",")
  end
  return concat(out, "\n") .. "\n"
end

-- JSON ---------------------------------------------------------------------

local escapes = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b",
  ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or fmt("\\u%04x", c:byte())
  end) .. '"'
end

local function json_value(v)
  local ty = type(v)
  if ty == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return number(v)
  elseif ty == "boolean" then
    return v and "true" or "false"
  elseif ty == "string" then
    return json_string(v)
  end
  return "null"
end

--- report.json(rows [, columns]) -> text: an array of objects with the
-- columns as keys, in column order; absent values and nan/inf are null
-- (JSON has no infinities).
function report.json(rows, columns)
  local cols = report.columns(rows, columns)
  local out = {}
  for i, r in ipairs(rows) do
    local f = {}
    for j, c in ipairs(cols) do
      f[j] = json_string(c) .. ": " .. json_value(r[c])
    end
    out[i] = "  {" .. concat(f, ", ") .. "}"
  end
  if #out == 0 then return "[]\n" end
  return "[\n" .. concat(out, ",\n") .. "\n]\n"
end

-- Markdown -----------------------------------------------------------------

--- report.markdown(rows [, columns]) -> text: a GitHub table, numbers
-- right-aligned and printed as in the REPL's tables.
function report.markdown(rows, columns)
  local cols = columns or rows.columns or report.columns(rows)
  local function esc(s) return (s:gsub("|", "\\|"):gsub("\n", " ")) end
  local out = {"| " .. concat((function()
    local h = {}
    for j, c in ipairs(cols) do h[j] = esc(c) end
    return h
  end)(), " | ") .. " |"}
  local rule = {}
  for j, c in ipairs(cols) do
    local numeric = false
    for _, r in ipairs(rows) do
      if r[c] ~= nil then numeric = type(r[c]) == "number" break end
    end
    rule[j] = numeric and "---:" or "---"
  end
  out[2] = "| " .. concat(rule, " | ") .. " |"
  for _, r in ipairs(rows) do
    local f = {}
    for j, c in ipairs(cols) do f[j] = esc(qs.cell(r[c])) end
    out[#out + 1] = "| " .. concat(f, " | ") .. " |"
  end
  return concat(out, "\n") .. "\n"
end

-- Saving -------------------------------------------------------------------

local writers = {csv = report.csv, json = report.json, md = report.markdown,
  markdown = report.markdown, txt = function(rows, columns)
    return qs.format_table(rows, columns) .. "\n"
  end}

local serial = 0

--- report.write(path, text) -> true | nil, message: write text to a
-- temporary file next to path, then rename it into place (a failure
-- leaves an existing file untouched).
function report.write(path, text)
  serial = serial + 1
  local tmp = fmt("%s.tmp%d.%d", path, math.floor(qs.clock() * 1e6) % 1000000,
    serial)
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  local cok, cerr = f:close()
  if not ok or not cok then
    os.remove(tmp)
    return nil, fmt("%s: %s", path, tostring(werr or cerr))
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    return nil, rerr
  end
  return true
end

--- report.save(rows, path [, {format = "csv"|"json"|"md"|"txt",
--   columns = {...}}]) -> true | nil, message.  The format comes from the
-- extension (.csv, .json, .md/.markdown, .txt) unless given.
function report.save(rows, path, opts)
  if type(rows) ~= "table" then
    error("bad argument #1 to 'save' (rows expected, got " .. type(rows) .. ")", 2)
  end
  if type(path) ~= "string" then
    error("bad argument #2 to 'save' (file name expected, got " .. type(path) .. ")", 2)
  end
  opts = opts or {}
  local kind = opts.format or path:match("%.([%w]+)$")
  kind = kind and kind:lower()
  local w = writers[kind or ""]
  if not w then
    error(fmt("bad argument #2 to 'save' (cannot tell the format of '%s': " ..
      "use .csv, .json, .md or .txt, or give opts.format)", path), 2)
  end
  return report.write(path, w(rows, opts.columns))
end

-- Reading CSV ----------------------------------------------------------------

-- Split CSV text into records of fields (RFC 4180, quoted fields may hold
-- commas, doubled quotes and line breaks).
local function csv_records(text)
  local recs, rec, i, n = {}, {}, 1, #text
  local field = {}
  local function endfield() rec[#rec + 1] = concat(field); field = {} end
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' and #field == 0 then
      local j = i + 1
      while true do
        local q = text:find('"', j, true)
        if not q then error("unterminated quoted field", 0) end
        field[#field + 1] = text:sub(j, q - 1)
        if text:sub(q + 1, q + 1) == '"' then
          field[#field + 1] = '"'
          j = q + 2
        else
          i = q + 1
          break
        end
      end
    elseif c == "," then
      endfield()
      i = i + 1
    elseif c == "\n" or c == "\r" then
      endfield()
      recs[#recs + 1] = rec
      rec = {}
      if c == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      i = i + 1
    else
      local j = text:find('[,\r\n]', i) or n + 1
      field[#field + 1] = text:sub(i, j - 1)
      i = j
    end
  end
  if #field > 0 or #rec > 0 then endfield(); recs[#recs + 1] = rec end
  return recs
end

local words = {nan = 0 / 0, inf = math.huge, ["-inf"] = -math.huge,
  ["true"] = true, ["false"] = false}

--- report.read_csv(path) -> rows | nil, message: a CSV file with a header
-- line as rows; numbers become numbers, nan/inf and true/false their
-- values, empty fields nil.
function report.read_csv(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  local ok, recs = pcall(csv_records, text)
  if not ok then return nil, path .. ": " .. recs end
  local head = recs[1] or {}
  local rows = {}
  for i = 2, #recs do
    local r = {}
    for j, c in ipairs(head) do
      local s = recs[i][j]
      if s ~= nil and s ~= "" then
        local v = words[s]
        if v == nil then v = tonumber(s) or s end
        r[c] = v
      end
    end
    rows[#rows + 1] = r
  end
  return qs.rows(rows, head)
end
