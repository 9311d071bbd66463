-- qs.mixed_precision: the exact solver against brute force on random
-- instances, the greedy one within budget, weights and error metrics,
-- infeasible budgets, argument errors, and a real run on the samples.
local src = os.getenv("top_srcdir") or ".."
local n, plan = 0, 16
print("1.." .. plan)
local function ok(c, name, diag)
  n = n + 1
  print((c and "ok " or "not ok ") .. n .. " - " .. name)
  if not c and diag ~= nil then print("# " .. tostring(diag):gsub("\n", "\n# ")) end
  return c
end

-- a deterministic generator for the instances
local state = 12345
local function rnd()
  state = (state * 6364136223846793005 + 1442695040888963407)
  return ((state >> 11) & ((1 << 53) - 1)) / 2 ^ 53
end

-- an instance: tensors t1..tk, each with some (bits, mse) choices
local function instance()
  local rows = {}
  local k = 2 + math.floor(rnd() * 4)
  for t = 1, k do
    local numel = 100 * (1 + math.floor(rnd() * 20))
    local m = 2 + math.floor(rnd() * 4)
    for c = 1, m do
      local bits = 1 + math.floor(rnd() * 8) + (rnd() < 0.3 and 0.25 or 0)
      rows[#rows + 1] = {tensor = "t" .. t, numel = numel, storage_bits = bits,
        mse = rnd() * 2 ^ (-bits), bits = bits}
    end
  end
  return rows
end

-- brute force: every combination within budget
local function brute(rows, budget)
  local by, order = {}, {}
  for _, r in ipairs(rows) do
    if not by[r.tensor] then by[r.tensor] = {}; order[#order + 1] = r.tensor end
    table.insert(by[r.tensor], r)
  end
  local N = 0
  for _, t in ipairs(order) do N = N + by[t][1].numel end
  local B = math.floor(budget * N + 1e-6)
  local best = math.huge
  local function rec(i, cost, err)
    if i > #order then
      if cost <= B and err < best then best = err end
      return
    end
    for _, r in ipairs(by[order[i]]) do
      rec(i + 1, cost + math.floor(r.storage_bits * r.numel + 0.5), err + r.numel * r.mse)
    end
  end
  rec(1, 0, 0)
  return best
end

local agree, greedy_ok, feasible_seen, infeasible_seen, diag = true, true, 0, 0, nil
for trial = 1, 60 do
  local rows = instance()
  local budget = 1 + rnd() * 7
  local want = brute(rows, budget)
  local ex = qs.mixed_precision{rows = rows, budget = budget}
  local gr = qs.mixed_precision{rows = rows, budget = budget, method = "greedy"}
  if want == math.huge then
    infeasible_seen = infeasible_seen + 1
    if ex.feasible or gr.feasible then agree = false; diag = "trial " .. trial .. ": infeasible" end
  else
    feasible_seen = feasible_seen + 1
    if not ex.feasible or math.abs(ex.total_error - want) > 1e-12 * math.max(1, want) then
      agree = false
      diag = ("trial %d: exact %s, brute force %s"):format(trial, ex.total_error, want)
    end
    if not gr.feasible or gr.total_bits > gr.budget_bits or gr.total_error < want - 1e-12 then
      greedy_ok = false
    end
    if ex.total_bits > ex.budget_bits then agree = false; diag = "over budget" end
  end
end
ok(agree, ("exact equals brute force on %d feasible and %d infeasible random instances"):format(
  feasible_seen, infeasible_seen), diag)
ok(greedy_ok, "greedy stays within budget and never beats the optimum")
ok(feasible_seen > 20 and infeasible_seen > 0, "the instances cover both cases")

-- a hand-made case: the optimum is not the greedy one
local rows = {
  {tensor = "a", numel = 10, storage_bits = 1, mse = 10},
  {tensor = "a", numel = 10, storage_bits = 3, mse = 0},
  {tensor = "b", numel = 10, storage_bits = 1, mse = 5},
  {tensor = "b", numel = 10, storage_bits = 2, mse = 0},
}
local ex = qs.mixed_precision{rows = rows, budget = 2}
ok(ex.feasible and ex.total_error == 50 and ex.rows[1].storage_bits == 3 and
  ex.rows[2].storage_bits == 1, "budget 2: a at 3 bits, b at 1 bit (error 50)", tostring(ex))
ok(ex.achieved == 2 and ex.total_bits == 40 and ex.budget_bits == 40, "achieved bits per weight")
ok(tostring(ex):find("achieved 2.0000 bits/weight (40 of 40 bits)", 1, true) ~= nil,
  "prints the allocation and the achieved budget", tostring(ex))
local un = qs.mixed_precision{rows = rows, budget = 2, weight = "uniform"}
ok(un.total_error == 5, "weight uniform: errors are not scaled by size", un.total_error)
local wt = qs.mixed_precision{rows = rows, budget = 2, weight = {a = 0, b = 1}}
ok(wt.total_error == 0 and wt.rows[2].storage_bits == 2, "a weight table moves the bits to b")
local wf = qs.mixed_precision{rows = rows, budget = 2, weight = function(r) return r.tensor == "a" and 100 or 1 end}
ok(wf.rows[1].storage_bits == 3, "a weight function")
local inf = qs.mixed_precision{rows = rows, budget = 0.5}
ok(not inf.feasible and inf.summary:find("cannot be met", 1, true), "an impossible budget says so", inf.summary)

-- errors
local s, e = pcall(qs.mixed_precision, {rows = rows})
ok(not s and e:find("budget", 1, true), "a missing budget raises", e)
s, e = pcall(qs.mixed_precision, {rows = rows, budget = 2, method = "magic"})
ok(not s and e:find("unknown method 'magic' (accepted: exact, greedy)", 1, true), "an unknown method raises", e)
s, e = pcall(qs.mixed_precision, {rows = {{tensor = "a", error = "x"}}, budget = 2})
ok(not s and e:find("no measured choices", 1, true), "no usable rows raises", e)

-- a real run over the sample tensors
local res = qs.mixed_precision{tensors = src .. "/samples", budget = 4.5, progress = false}
ok(res.feasible and res.achieved <= 4.5 and #res.rows == 5, "samples at 4.5 bits/weight", tostring(res))
local sure = true
for _, a in ipairs(res.rows) do
  local q = qs.quantize(assert(qs.load(src .. "/samples/" .. a.tensor .. ".npy")),
    {format = a.format, granularity = a.granularity})
  if q.metrics.mse ~= a.mse or q.bits ~= a.storage_bits then sure = false end
end
ok(sure, "each chosen row is the measured quantization")
local g = qs.mixed_precision{tensors = src .. "/samples", budget = 4.5, error = "nmse",
  method = "greedy", progress = false}
ok(g.feasible and g.achieved <= 4.5 and g.error_metric == "nmse", "greedy with nmse on the samples")
