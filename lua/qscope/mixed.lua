-- qs.mixed_precision: one format/bit width per tensor (a model's layers)
-- under a budget of storage bits per weight, minimizing the total weighted
-- error measured by a sweep.  Exact (a multiple-choice knapsack solved by
-- dynamic programming over Pareto-optimal partial allocations) or greedy
-- (upgrades by error saved per bit along each tensor's convex hull).
-- Loaded by lib.lua with the module table.
local qs = ...

local fmt, concat = string.format, table.concat

local own = {budget = true, rows = true, error = true, weight = true,
  method = true, max_states = true}
local sweep_ctl = {tensors = true, progress = true, shard = true, keep = true,
  on_row = true}

-- The error of a row under the chosen metric: "mse" (default), "nmse"
-- (noise over signal power, 10^(-SQNR/10)) or any other numeric field
-- where smaller is better.
local function row_error(r, metric)
  if metric == "nmse" then
    local s = r.sqnr_db
    if type(s) ~= "number" or s ~= s then return nil end
    return 10 ^ (-s / 10)
  end
  local v = r[metric]
  if type(v) ~= "number" or v ~= v then return nil end
  if qs.larger_better[metric] then
    error(fmt("bad argument #1 to 'mixed_precision' (error = '%s' is larger-better; " ..
      "use mse, nmse, max_abs, mean_abs ...)", metric), 4)
  end
  return v
end

local function row_weight(r, w)
  if w == nil or w == "numel" then return r.numel or 1 end
  if w == "uniform" then return 1 end
  if type(w) == "function" then return w(r) end
  if type(w) == "table" then return w[r.tensor] or 1 end
  error("bad argument #1 to 'mixed_precision' (weight: \"numel\", \"uniform\", " ..
    "a table tensor -> weight or a function(row) expected)", 4)
end

-- Choices sorted by cost with strictly falling error (the Pareto set).
local function pareto_choices(list)
  table.sort(list, function(a, b)
    if a.cost ~= b.cost then return a.cost < b.cost end
    return a.err < b.err
  end)
  local out, best = {}, math.huge
  for _, c in ipairs(list) do
    if c.err < best then out[#out + 1] = c; best = c.err end
  end
  return out
end

-- The lower convex hull of a Pareto set (cost ascending).
local function hull(ch)
  local h = {}
  for _, c in ipairs(ch) do
    while #h >= 2 do
      local a, b = h[#h - 1], h[#h]
      -- drop b when it lies on or above the segment a -> c
      if (b.err - a.err) * (c.cost - a.cost) >= (c.err - a.err) * (b.cost - a.cost) then
        h[#h] = nil
      else
        break
      end
    end
    h[#h + 1] = c
  end
  return h
end

local function solve_greedy(items, B)
  local pick, used = {}, 0
  for i, it in ipairs(items) do
    pick[i] = it.choices[1]
    used = used + it.choices[1].cost
  end
  if used > B then return pick, false end
  -- upgrades along each hull, best error saved per bit first
  local steps = {}
  for i, it in ipairs(items) do
    local h = hull(it.choices)
    for j = 2, #h do
      steps[#steps + 1] = {i = i, from = h[j - 1], to = h[j],
        slope = (h[j - 1].err - h[j].err) / (h[j].cost - h[j - 1].cost)}
    end
  end
  table.sort(steps, function(a, b)
    if a.slope ~= b.slope then return a.slope > b.slope end
    return a.i < b.i
  end)
  for _, s in ipairs(steps) do
    local d = s.to.cost - s.from.cost
    if pick[s.i] == s.from and used + d <= B then
      pick[s.i] = s.to
      used = used + d
    end
  end
  -- then any single change that lowers the error and still fits
  while true do
    local bi, bc, gain = nil, nil, 0
    for i, it in ipairs(items) do
      for _, c in ipairs(it.choices) do
        local d = c.cost - pick[i].cost
        local g = pick[i].err - c.err
        if g > gain and used + d <= B then bi, bc, gain = i, c, g end
      end
    end
    if not bi then break end
    used = used + bc.cost - pick[bi].cost
    pick[bi] = bc
  end
  return pick, true
end

-- Exact: the Pareto frontier of (cost, error) over the first i tensors,
-- extended one tensor at a time; partial allocations that cannot fit the
-- cheapest choices of the remaining tensors are dropped.
local function solve_exact(items, B, max_states)
  local n = #items
  local minrest = {[n] = 0}
  for i = n, 2, -1 do minrest[i - 1] = minrest[i] + items[i].choices[1].cost end
  local stages = {[0] = {{cost = 0, err = 0}}}
  for i = 1, n do
    local prev, cand = stages[i - 1], {}
    local limit = B - minrest[i]
    for si, s in ipairs(prev) do
      for _, c in ipairs(items[i].choices) do
        local cost = s.cost + c.cost
        if cost <= limit then
          cand[#cand + 1] = {cost = cost, err = s.err + c.err, p = si, c = c}
        end
      end
    end
    if #cand == 0 then return nil, false end
    table.sort(cand, function(a, b)
      if a.cost ~= b.cost then return a.cost < b.cost end
      return a.err < b.err
    end)
    local kept, best = {}, math.huge
    for _, s in ipairs(cand) do
      if s.err < best then kept[#kept + 1] = s; best = s.err end
    end
    if #kept > max_states then return nil, true end
    stages[i] = kept
  end
  -- the last state has the lowest error (errors fall as cost grows)
  local fin = stages[n]
  local s = fin[#fin]
  local pick = {}
  for i = n, 1, -1 do
    pick[i] = s.c
    s = stages[i - 1][s.p]
  end
  return pick, false
end

local function result_tostring(r)
  local lines = {qs.format_table(r.rows)}
  lines[#lines + 1] = ""
  lines[#lines + 1] = r.summary
  if r.note then lines[#lines + 1] = r.note end
  return concat(lines, "\n")
end

--- qs.mixed_precision(opts) -> result.
-- opts.budget: storage bits per weight (parameters included, as q.bits).
-- opts.tensors and sweep axes (default: format "int", bits {2, 3, 4, 5, 6,
-- 8}, granularity {"tensor", "channel"}: the allocation picks the
-- granularity too), or opts.rows: rows of an earlier qs.sweep.
-- opts.error: "mse" (default), "nmse" or another smaller-better field;
-- opts.weight: "numel" (default: total squared error), "uniform", a table
-- tensor -> weight, or function(row); opts.method: "exact" (default) or
-- "greedy"; opts.max_states (exact search limit, default 200000: past it
-- the greedy answer is returned with a note).
-- result.rows (the allocation, one row per tensor), result.budget,
-- .achieved (bits per weight), .total_bits, .budget_bits, .total_error,
-- .feasible, .method, .summary; it prints as the table and a summary.
function qs.mixed_precision(opts)
  if type(opts) ~= "table" then
    error("bad argument #1 to 'mixed_precision' (table expected, got " .. type(opts) .. ")", 2)
  end
  local budget = opts.budget
  if type(budget) ~= "number" or not (budget > 0) then
    error("bad argument #1 to 'mixed_precision' (budget: bits per weight > 0 expected)", 2)
  end
  local method = opts.method or "exact"
  if method ~= "exact" and method ~= "greedy" then
    error(fmt("bad argument #1 to 'mixed_precision' (unknown method '%s' " ..
      "(accepted: exact, greedy))", tostring(method)), 2)
  end
  local metric = opts.error or "mse"
  local rows = opts.rows
  if not rows then
    local sw, axes = {}, false
    for k, v in pairs(opts) do
      if not own[k] then
        sw[k] = v
        if not sweep_ctl[k] then axes = true end
      end
    end
    if not axes then
      sw.format, sw.bits = "int", {2, 3, 4, 5, 6, 8}
      sw.granularity = {"tensor", "channel"}
    end
    rows = qs.sweep(sw)
  end
  -- the choices of each tensor
  local items, by = {}, {}
  local errors = {}
  for _, r in ipairs(rows) do
    if r.error then
      errors[#errors + 1] = fmt("%s %s: %s", tostring(r.tensor), tostring(r.format), r.error)
    elseif r.numel and r.storage_bits then
      local e = row_error(r, metric)
      if e then
        local it = by[r.tensor]
        if not it then
          it = {tensor = r.tensor, numel = r.numel, choices = {}}
          by[r.tensor] = it
          items[#items + 1] = it
        end
        local w = row_weight(r, opts.weight)
        it.choices[#it.choices + 1] = {row = r, err = w * e,
          cost = math.floor(r.storage_bits * r.numel + 0.5)}
      end
    end
  end
  if #items == 0 then
    error("bad argument #1 to 'mixed_precision' (no measured choices" ..
      (errors[1] and (": " .. errors[1]) or "") .. ")", 2)
  end
  local N = 0
  for _, it in ipairs(items) do
    it.choices = pareto_choices(it.choices)
    N = N + it.numel
  end
  local B = math.floor(budget * N + 1e-6)
  local pick, feasible, note
  if method == "exact" then
    local too_big
    pick, too_big = solve_exact(items, B, opts.max_states or 200000)
    feasible = pick ~= nil
    if too_big then
      pick, feasible = solve_greedy(items, B)
      note = fmt("note: the exact search passed %d partial allocations; " ..
        "this is the greedy allocation", opts.max_states or 200000)
      method = "greedy"
    end
  else
    pick, feasible = solve_greedy(items, B)
  end
  if not pick then -- infeasible: the cheapest choice everywhere
    pick = {}
    for i, it in ipairs(items) do pick[i] = it.choices[1] end
  end
  local used, total = 0, 0
  for i = 1, #items do
    used = used + pick[i].cost
    total = total + pick[i].err
  end
  local alloc = {}
  local varies = {}
  for i, it in ipairs(items) do
    local r = pick[i].row
    local a = {tensor = it.tensor, numel = it.numel, format = r.format,
      bits = r.bits, scheme = r.scheme, granularity = r.granularity,
      calib = r.calib, rounding = r.rounding, label = r.label,
      storage_bits = r.storage_bits, sqnr_db = r.sqnr_db, mse = r.mse,
      weighted_error = pick[i].err,
      share = total > 0 and pick[i].err / total or 0, row = r}
    alloc[i] = a
  end
  for _, k in ipairs{"label", "scheme", "granularity", "calib", "rounding"} do
    local first
    for _, a in ipairs(alloc) do
      if first == nil then first = a[k] elseif a[k] ~= first then varies[k] = true end
    end
  end
  local cols = {"tensor", "numel", "format", "bits"}
  for _, k in ipairs{"label", "scheme", "granularity", "calib", "rounding"} do
    if varies[k] then cols[#cols + 1] = k end
  end
  for _, k in ipairs{"storage_bits", "sqnr_db", "mse", "weighted_error", "share"} do
    cols[#cols + 1] = k
  end
  local res = {rows = qs.rows(alloc, cols), budget = budget,
    achieved = used / N, total_bits = used, budget_bits = B,
    total_error = total, feasible = feasible, method = method,
    error_metric = metric, note = note}
  res.rows.fields = {"tensor", "numel", "format", "bits", "scheme",
    "granularity", "calib", "rounding", "label", "storage_bits", "sqnr_db",
    "mse", "weighted_error", "share"}
  if feasible then
    res.summary = fmt("budget %.4g bits/weight: achieved %.4f bits/weight " ..
      "(%d of %d bits), total weighted %s %.6g (%s)", budget, used / N, used,
      B, metric, total, method)
  else
    res.summary = fmt("budget %.4g bits/weight cannot be met: the cheapest " ..
      "choices need %.4f bits/weight (%d bits)", budget, used / N, used)
  end
  return setmetatable(res, {__tostring = result_tostring})
end
