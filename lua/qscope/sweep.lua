-- qs.sweep: many quantization choices over many tensors, as rows; qs.best,
-- qs.pareto and qs.filter over those rows.  Data-driven: format, method
-- and rounding names go unchanged to qs.quantize, so whatever the engine
-- accepts can be swept.  Loaded by lib.lua with the module table.
local qs = ...

local fmt, concat = string.format, table.concat

--- qs.samples_dir: the sample tensors shipped with qscope ($QSCOPE_SAMPLES,
-- else the samples/ directory next to qscope's Lua directory).
qs.samples_dir = os.getenv("QSCOPE_SAMPLES") or
  (((qs.lua_dir or "."):match("^(.*)/[^/]*$") or ".") .. "/samples")

-- Tensors --------------------------------------------------------------------

local function basename(p)
  return (p:match("([^/]+)$") or p)
end

local function stem(p)
  return (basename(p):gsub("%.npy$", ""))
end

local function is_tensor(v)
  local mt = type(v) == "userdata" and getmetatable(v)
  return type(mt) == "table" and mt.__name == "tensor"
end
qs.is_tensor = is_tensor

local function is_list(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

--- qs.npy_files(dir) -> sorted list of the paths of the .npy files in dir,
-- or nil, message.
function qs.npy_files(dir)
  local names, err = qs.listdir(dir)
  if not names then return nil, err end
  local out = {}
  for _, n in ipairs(names) do
    if n:match("%.npy$") then out[#out + 1] = dir:gsub("/$", "") .. "/" .. n end
  end
  return out
end

-- The tensors of a sweep as a list of {name, path, tensor}: one tensor, a
-- file, a directory (every .npy in it), a list of those, or a table
-- name -> tensor/path.  Files are loaded later, one at a time.
local function sources(spec, fname)
  local out = {}
  local function add(v, name)
    if is_tensor(v) then
      out[#out + 1] = {name = name or (v.name and stem(v.name)) or
        ("tensor" .. (#out + 1)), path = v.name, tensor = v}
    elseif type(v) == "string" then
      local files = qs.npy_files(v)
      if files then
        for _, p in ipairs(files) do out[#out + 1] = {name = stem(p), path = p} end
      else
        out[#out + 1] = {name = name or stem(v), path = v}
      end
    else
      error(fmt("bad argument #1 to '%s' (tensors: a tensor, a .npy file, " ..
        "a directory or a list of them expected, got %s)", fname, type(v)), 4)
    end
  end
  if spec == nil then
    error(fmt("bad argument #1 to '%s' (no tensors: give tensors = a tensor, " ..
      "a .npy file, a directory or a list)", fname), 3)
  elseif type(spec) == "table" and not is_tensor(spec) then
    if is_list(spec) then
      for _, v in ipairs(spec) do add(v) end
    else
      local keys = {}
      for k in pairs(spec) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      for _, k in ipairs(keys) do add(spec[k], k) end
    end
  else
    add(spec)
  end
  -- names must tell the tensors apart: fall back to paths for duplicates
  local count = {}
  for _, s in ipairs(out) do count[s.name] = (count[s.name] or 0) + 1 end
  for i, s in ipairs(out) do
    if count[s.name] > 1 then s.name = s.path or (s.name .. "#" .. i) end
  end
  return out
end

-- Specs ----------------------------------------------------------------------

-- keys of the sweep call that are not spec axes
local control = {tensors = true, specs = true, progress = true, keep = true,
  shard = true, on_row = true, bits = true, columns = true}
-- plural spellings of spec keys
local plural = {formats = "format", calibs = "calib", methods = "calib",
  granularities = "granularity", roundings = "rounding", schemes = "scheme",
  axes = "axis", groups = "group", presets = "preset",
  percentiles = "percentile"}
-- the order of axes in the product and in the columns
local axis_order = {"format", "bits", "scheme", "granularity", "axis",
  "group", "calib", "percentile", "rounding", "preset"}
local axis_rank = {}
for i, k in ipairs(axis_order) do axis_rank[k] = i end

local function as_list(v)
  if type(v) == "table" and is_list(v) then return v end
  return {v}
end

-- The number in a format name ("int4" -> 4, "fp8_e4m3" -> 8).
local function name_bits(f)
  local d = type(f) == "string" and f:match("%d+")
  return d and tonumber(d) or nil
end

-- A format name takes a bit width when it is letters only ("int", "uint").
local function takes_bits(f)
  return type(f) == "string" and f:match("^%a+$") ~= nil
end

local function spec_key(s)
  local keys = {}
  for k in pairs(s) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. tostring(s[k]) end
  return concat(out, ";")
end

local function sorted_axes(names)
  table.sort(names, function(a, b)
    local x, y = axis_rank[a] or 100, axis_rank[b] or 100
    if x ~= y then return x < y end
    return a < b
  end)
  return names
end

-- The list of specs of a sweep call (the cartesian product of its axes,
-- without duplicates), each with its nominal bit width, and the names of
-- the axes.
local function expand(opts)
  if opts.specs then
    local list, names, seen = {}, {}, {}
    for i, s in ipairs(opts.specs) do
      if type(s) ~= "table" then
        error(fmt("bad argument #1 to 'sweep' (specs[%d] is a %s, not a table)",
          i, type(s)), 3)
      end
      local c = {}
      for k, v in pairs(s) do
        c[k] = v
        if not seen[k] and k ~= "label" then seen[k] = true; names[#names + 1] = k end
      end
      list[#list + 1] = {spec = c, bits = name_bits(c.format or "int8"),
        label = s.label}
      c.label = nil
    end
    return list, sorted_axes(names)
  end
  local axes = {}
  for k, v in pairs(opts) do
    if type(k) == "string" and not control[k] then
      local key = plural[k] or k
      if axes[key] then
        error(fmt("bad argument #1 to 'sweep' ('%s' given twice)", key), 3)
      end
      axes[key] = as_list(v)
    end
  end
  local bits = opts.bits and as_list(opts.bits)
  if bits then
    for _, b in ipairs(bits) do
      if math.type(b) ~= "integer" then
        error(fmt("bad argument #1 to 'sweep' (bits must be integers, got %s)",
          tostring(b)), 3)
      end
    end
  end
  axes.format = axes.format or {bits and "int" or "int8"}
  local names = {}
  for k in pairs(axes) do names[#names + 1] = k end
  if bits then names[#names + 1] = "bits" end
  sorted_axes(names)
  -- cartesian product in axis order, the last axis varying fastest
  local list, seen = {}, {}
  local cur = {}
  local function rec(i)
    if i > #names then
      local s, b = {}, nil
      for k, v in pairs(cur) do if k ~= "bits" then s[k] = v end end
      if cur.bits and takes_bits(s.format) then
        s.format = s.format .. cur.bits
        b = cur.bits
      else
        b = name_bits(s.format)
      end
      local key = spec_key(s)
      if not seen[key] then
        seen[key] = true
        list[#list + 1] = {spec = s, bits = b}
      end
      return
    end
    local k = names[i]
    for _, v in ipairs(k == "bits" and bits or axes[k]) do
      cur[k] = v
      rec(i + 1)
    end
    cur[k] = nil
  end
  rec(1)
  return list, names
end

-- Progress -------------------------------------------------------------------

-- A progress bar on stderr, shown once a run has taken a second (or at
-- once with progress = true); never with progress = false or
-- QSCOPE_PROGRESS=0, nor by default in the workbench (its output pane is
-- not a terminal line).
local function progress_bar(total, opt, what)
  local on = opt ~= false and os.getenv("QSCOPE_PROGRESS") ~= "0"
    and (opt == true or type(rawget(_G, "ui")) ~= "table")
  local t0, last, shown = qs.clock(), -1, false
  local function update(done)
    if not on then return end
    local now = qs.clock()
    if opt ~= true and now - t0 < 1 then return end
    if done < total and now - last < 0.2 then return end
    last = now
    local frac = total > 0 and done / total or 1
    local w = 30
    local fill = math.floor(frac * w + 0.5)
    local eta = frac > 0 and (now - t0) * (1 - frac) / frac or 0
    io.stderr:write(fmt("\r%s [%s%s] %d/%d %3d%%  %.0f s left ", what,
      ("#"):rep(fill), ("."):rep(w - fill), done, total,
      math.floor(frac * 100), eta))
    io.stderr:flush()
    shown = true
  end
  local function finish(done)
    if shown then
      io.stderr:write(fmt("\r%s: %d of %d runs in %.1f s%s\n", what, done,
        total, qs.clock() - t0, (" "):rep(30)))
      io.stderr:flush()
    end
  end
  return update, finish
end

-- The sweep ----------------------------------------------------------------

local metric_fields = {"storage_bits", "sqnr_db", "mse", "rmse", "max_abs",
  "mean_abs", "cosine", "clipped", "bias", "ms"}
local shown_metrics = {"storage_bits", "sqnr_db", "mse", "max_abs", "cosine",
  "clipped", "ms"}

local function shape_text(t)
  local s = {}
  for i, d in ipairs(t.shape) do s[i] = tostring(d) end
  return concat(s, "x")
end

--- qs.sweep(opts) -> rows.
-- opts.tensors: a tensor, a .npy path, a directory (every .npy in it), a
-- list of those, or a table name -> tensor or path.
-- Spec axes (a value or a list of values each): formats/format, bits,
-- schemes/scheme, granularities/granularity, calibs/calib,
-- roundings/rounding, and any other qs.quantize key (axis, group,
-- percentile, preset, ...).  A letters-only format ("int", "uint") takes
-- each of bits; other formats run once.  Or opts.specs: a list of spec
-- tables (each may carry a label).
-- opts.progress (true/false), opts.keep (keep each q in its row),
-- opts.shard (only this process's share of the tensors, see --shard),
-- opts.on_row(row) (called as each row is made).
function qs.sweep(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'sweep' (table expected, got " .. type(opts) .. ")", 2)
  end
  local srcs = sources(opts.tensors, "sweep")
  if opts.shard then srcs = qs.shard_select(srcs) end
  local specs, axes = expand(opts)
  local rows = {}
  local total = #srcs * #specs
  local update, finish = progress_bar(total, opts.progress, "sweep")
  local done = 0
  local function run()
    for _, src in ipairs(srcs) do
      local t, err = src.tensor, nil
      local owned = false
      if not t then
        t, err = qs.load(src.path)
        owned = t ~= nil and not opts.keep
      end
      if not t then
        local r = {tensor = src.name, path = src.path, error = err}
        rows[#rows + 1] = r
        if opts.on_row then opts.on_row(r) end
        done = done + #specs
        update(done)
      else
        local shape, numel = shape_text(t), t.size
        for _, e in ipairs(specs) do
          local t0 = qs.clock()
          local ok, q = pcall(qs.quantize, t, e.spec)
          local ms = (qs.clock() - t0) * 1000
          local r = {tensor = src.name, path = src.path, shape = shape,
            numel = numel, bits = e.bits, label = e.label, ms = ms, spec = e.spec}
          for k, v in pairs(e.spec) do r[k] = v end
          if ok then
            local sp = q.spec
            for k, v in pairs(sp) do
              if r[k] == nil or type(v) == type(r[k]) then r[k] = v end
            end
            for k, v in pairs(q.metrics) do r[k] = v end
            r.storage_bits = q.bits
            if opts.keep then r.q = q end
          else
            r.error = tostring(q):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1")
          end
          rows[#rows + 1] = r
          if opts.on_row then opts.on_row(r) end
          done = done + 1
          update(done)
        end
        if owned then getmetatable(t).__close(t) end
      end
    end
  end
  local ok, err = pcall(run)
  finish(done)
  if not ok then error(err, 0) end
  -- columns: the tensor, format and bits, every axis that varies, metrics
  local varies = {}
  for _, a in ipairs(axes) do
    local first, v = nil, false
    for _, r in ipairs(rows) do
      if not r.error then
        if first == nil then first = r[a] elseif r[a] ~= first then v = true break end
      end
    end
    varies[a] = v
  end
  local cols, fields = {"tensor", "format", "bits"}, {"tensor", "path",
    "shape", "numel", "format", "bits", "scheme", "granularity", "calib",
    "rounding"}
  local has = {}
  for _, c in ipairs(fields) do has[c] = true end
  for _, a in ipairs(axes) do
    if varies[a] and a ~= "format" and a ~= "bits" then cols[#cols + 1] = a end
    if not has[a] then fields[#fields + 1] = a; has[a] = true end
  end
  local labelled = false
  for _, r in ipairs(rows) do if r.label then labelled = true break end end
  if labelled then
    table.insert(cols, 2, "label")
    fields[#fields + 1] = "label"
  end
  for _, c in ipairs(shown_metrics) do cols[#cols + 1] = c end
  for _, c in ipairs(metric_fields) do fields[#fields + 1] = c end
  fields[#fields + 1] = "error"
  for _, r in ipairs(rows) do
    if r.error then cols[#cols + 1] = "error" break end
  end
  local out = qs.rows(rows, cols)
  out.fields = fields
  return out
end

-- Choosing rows ---------------------------------------------------------------

-- Metrics where a larger value is better; every other is "lower is
-- better" (bias by its magnitude).
local larger_better = {sqnr_db = true, cosine = true}
qs.larger_better = larger_better

local function keep_meta(src, list)
  local out = qs.rows(list, src.columns)
  out.fields = src.fields
  return out
end

local function matches(r, where)
  if where == nil then return true end
  if type(where) == "function" then return where(r) end
  for k, v in pairs(where) do
    if type(v) == "table" then
      local any = false
      for _, x in ipairs(v) do if r[k] == x then any = true break end end
      if not any then return false end
    elseif r[k] ~= v then
      return false
    end
  end
  return true
end

--- qs.filter(rows, where) -> rows: those for which where(row) is true, or
-- whose fields equal every key of the table where (a list value matches
-- any of its elements): qs.filter(rows, {bits = {4, 8}, calib = "mse"}).
function qs.filter(rows, where)
  local out = {}
  for _, r in ipairs(rows) do
    if matches(r, where) then out[#out + 1] = r end
  end
  return keep_meta(rows, out)
end

local function value(r, key)
  local v = r[key]
  if type(v) ~= "number" or v ~= v then return nil end
  if key == "bias" then return math.abs(v) end
  return v
end

local function direction(key, given)
  if given == "max" or given == true then return true end
  if given == "min" or given == false then return false end
  return larger_better[key] or false
end

-- Rows grouped by the field per (in order of first appearance); per false:
-- one group.
local function groups(rows, per, where)
  local order, by = {}, {}
  for _, r in ipairs(rows) do
    if not r.error and matches(r, where) then
      local k = per and tostring(r[per]) or ""
      if not by[k] then by[k] = {}; order[#order + 1] = k end
      local g = by[k]
      g[#g + 1] = r
    end
  end
  local out = {}
  for i, k in ipairs(order) do out[i] = by[k] end
  return out
end

--- qs.best(rows [, {by = "sqnr_db", per = "tensor", max = bool, where}])
-- -> rows: the best row of each tensor (or each value of `per`; per =
-- false: one row overall).  Larger is better for sqnr_db and cosine,
-- smaller for every other metric (|bias| for bias); `max` overrides.
-- Ties keep the earlier row; rows with an error or no value are skipped.
function qs.best(rows, opts)
  if type(rows) ~= "table" then
    error("bad argument #1 to 'best' (rows expected, got " .. type(rows) .. ")", 2)
  end
  opts = opts or {}
  local by = opts.by or "sqnr_db"
  local per = opts.per
  if per == nil then per = "tensor" end
  local maximize = direction(by, opts.max)
  local out = {}
  for _, g in ipairs(groups(rows, per, opts.where)) do
    local best, bv = nil, nil
    for _, r in ipairs(g) do
      local v = value(r, by)
      if v and (bv == nil or (maximize and v > bv) or (not maximize and v < bv)) then
        best, bv = r, v
      end
    end
    if best then out[#out + 1] = best end
  end
  return keep_meta(rows, out)
end

--- qs.pareto(rows [, {x = "storage_bits", y = "mse", per = "tensor",
--   x_dir = "min", y_dir = "min"|"max", where}]) -> rows: the frontier of
-- each tensor, x ascending: the rows no other row beats on both x and y
-- (smaller x, and smaller y, or larger for sqnr_db/cosine).
function qs.pareto(rows, opts)
  if type(rows) ~= "table" then
    error("bad argument #1 to 'pareto' (rows expected, got " .. type(rows) .. ")", 2)
  end
  opts = opts or {}
  local x, y = opts.x or "storage_bits", opts.y or "mse"
  local per = opts.per
  if per == nil then per = "tensor" end
  local xmax, ymax = direction(x, opts.x_dir), direction(y, opts.y_dir)
  local out = {}
  for _, g in ipairs(groups(rows, per, opts.where)) do
    local pts = {}
    for i, r in ipairs(g) do
      local a, b = value(r, x), value(r, y)
      if a and b then
        pts[#pts + 1] = {r = r, x = xmax and -a or a, y = ymax and -b or b, i = i}
      end
    end
    table.sort(pts, function(p, q)
      if p.x ~= q.x then return p.x < q.x end
      if p.y ~= q.y then return p.y < q.y end
      return p.i < q.i
    end)
    local besty = math.huge
    for _, p in ipairs(pts) do
      if p.y < besty then
        besty = p.y
        out[#out + 1] = p.r
      end
    end
  end
  return keep_meta(rows, out)
end

--- qs.pivot(rows, {row = "calib", col = "bits", value = "sqnr_db"}) ->
-- rows: one row per value of `row`, one column per value of `col` (named
-- by the value, in order of first appearance), holding `value` (the first
-- row seen for each pair; errors leave the cell empty).
function qs.pivot(rows, opts)
  if type(rows) ~= "table" then
    error("bad argument #1 to 'pivot' (rows expected, got " .. type(rows) .. ")", 2)
  end
  opts = opts or {}
  local rk, ck, vk = opts.row or "calib", opts.col or "bits", opts.value or "sqnr_db"
  local out, by, cols, seen = {}, {}, {rk}, {}
  for _, r in ipairs(rows) do
    local a, b = r[rk], r[ck]
    if a ~= nil and b ~= nil then
      local key = tostring(a)
      local o = by[key]
      if not o then
        o = {[rk] = a}
        by[key] = o
        out[#out + 1] = o
      end
      local c = tostring(b)
      if not seen[c] then seen[c] = true; cols[#cols + 1] = c end
      if o[c] == nil and not r.error then o[c] = r[vk] end
    end
  end
  return qs.rows(out, cols)
end
