-- qscope's API written in Lua: row tables that print as aligned tables,
-- and qs.compare.  Loaded by the C module with the module table as its
-- argument (src/lua/host.c).
local qs = ...

local fmt, concat = string.format, table.concat

-- Rows -------------------------------------------------------------------

local Rows = {}
Rows.__index = Rows

local function cell(v)
  local ty = type(v)
  if ty == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" end
    if v == -math.huge then return "-inf" end
    local a = math.abs(v)
    if a ~= 0 and (a < 1e-3 or a >= 1e6) then return fmt("%.4g", v) end
    return fmt("%.5g", v)
  elseif ty == "boolean" then
    return v and "yes" or "no"
  elseif v == nil then
    return ""
  elseif ty == "userdata" then
    local ok, s = pcall(function() return v:stats() end)
    if ok then return fmt("%.4g..%.4g", s.min, s.max) end
  end
  return tostring(v)
end
qs.cell = cell

--- qs.format_table(rows [, columns]) -> string: an aligned text table.
function qs.format_table(rows, columns)
  columns = columns or rows.columns
  if not columns then
    local seen = {}
    columns = {}
    for _, r in ipairs(rows) do
      for k in pairs(r) do
        if not seen[k] then seen[k] = true; columns[#columns + 1] = k end
      end
    end
    table.sort(columns)
  end
  local width, cells = {}, {}
  for j, c in ipairs(columns) do width[j] = #c end
  for i, r in ipairs(rows) do
    cells[i] = {}
    for j, c in ipairs(columns) do
      local s = cell(r[c])
      cells[i][j] = s
      if utf8.len(s) and utf8.len(s) > width[j] then width[j] = utf8.len(s) end
    end
  end
  local function line(vals, numeric)
    local out = {}
    for j, s in ipairs(vals) do
      local pad = string.rep(" ", width[j] - (utf8.len(s) or #s))
      out[j] = numeric and numeric[j] and pad .. s or s .. pad
    end
    return (concat(out, "  "):gsub("%s+$", ""))
  end
  local numeric = {}
  for j, c in ipairs(columns) do
    numeric[j] = rows[1] ~= nil and type(rows[1][c]) == "number"
  end
  local out = {line(columns)}
  local rule = {}
  for j = 1, #columns do rule[j] = string.rep("-", width[j]) end
  out[#out + 1] = concat(rule, "  ")
  for i = 1, #rows do out[#out + 1] = line(cells[i], numeric) end
  return concat(out, "\n")
end

Rows.__tostring = function(rows) return qs.format_table(rows) end

--- qs.rows(list [, columns]) -> the list, printing as a table.
function qs.rows(list, columns)
  list.columns = columns or list.columns
  return setmetatable(list, Rows)
end

-- shards ------------------------------------------------------------------

qs.shard = qs.shard or {index = 1, count = 1}

--- qs.shard_select(list) -> the items of this shard: with `qscope --shard
-- I/N`, items I, I+N, I+2N, ... (all of them without --shard), so that N
-- processes started by a scheduler split a list between them.
function qs.shard_select(list)
  local i, n = qs.shard.index, qs.shard.count
  local out = {}
  for p, v in ipairs(list) do
    if (p - 1) % n == i - 1 then out[#out + 1] = v end
  end
  return out
end

-- compare -------------------------------------------------------------------

local compare_columns = {"calib", "format", "granularity", "lo", "hi", "scale",
  "zero_point", "sqnr_db", "mse", "max_abs", "mean_abs", "cosine", "clipped",
  "bias", "ms"}

local function copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

local function is_list(t)
  return type(t) == "table" and (#t > 0 or next(t) == nil)
end

--- qs.compare(t [, specs]) -> rows.
-- specs is a list of spec tables (one row each, in order), or one spec
-- table: then every calibration method that needs no parameters runs with
-- that spec's format, scheme and granularity, best (lowest MSE) first.
function qs.compare(t, specs)
  if type(t) ~= "userdata" then
    error("bad argument #1 to 'compare' (tensor expected, got " .. type(t) .. ")", 2)
  end
  if specs ~= nil and type(specs) ~= "table" then
    error("bad argument #2 to 'compare' (table of specs expected, got " .. type(specs) .. ")", 2)
  end
  local list, sort = {}, false
  if specs == nil or not is_list(specs) or next(specs) == nil then
    local base = copy(specs)
    base.lo, base.hi, base.amax = nil, nil, nil
    for _, m in ipairs(qs.calib_methods()) do
      if m ~= "none" and m ~= "fixed" then
        local s = copy(base)
        s.calib = m
        list[#list + 1] = s
      end
    end
    sort = true
  else
    for i, s in ipairs(specs) do
      if type(s) ~= "table" then
        error(fmt("bad argument #2 to 'compare' (spec %d is a %s, not a table)", i, type(s)), 2)
      end
      list[i] = s
    end
  end
  local rows = {}
  for i, s in ipairs(list) do
    local t0 = qs.clock()
    local ok, q = pcall(qs.quantize, t, s)
    local ms = (qs.clock() - t0) * 1000
    local row
    if ok then
      local e = q.metrics
      local sp = q.spec
      row = {calib = sp.calib, format = sp.format, granularity = sp.granularity,
        scheme = sp.scheme, lo = q.lo, hi = q.hi, scale = q.scale,
        zero_point = q.zero_point, bits = q.bits, ms = ms, q = q}
      for k, v in pairs(e) do row[k] = v end
    else
      row = {calib = s.calib or "minmax", format = s.format or "int8",
        error = tostring(q):gsub("^.-: ", ""), ms = ms}
    end
    row.spec = s
    rows[i] = row
  end
  if sort then
    table.sort(rows, function(a, b)
      local x, y = a.mse or math.huge, b.mse or math.huge
      if x ~= y then return x < y end
      return a.calib < b.calib
    end)
  end
  local cols = copy(compare_columns)
  for _, r in ipairs(rows) do
    if r.error then cols[#cols + 1] = "error" break end
  end
  return qs.rows(rows, cols)
end

-- sweeps, reports, mixed precision, layer outputs, teaching ------------------
for _, m in ipairs{"report", "sweep", "mixed", "layer", "teach"} do
  assert(loadfile(qs.lua_dir .. "/qscope/" .. m .. ".lua", "t"))(qs)
end
