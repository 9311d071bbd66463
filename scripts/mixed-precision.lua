-- mixed-precision.lua: a bit width (and granularity) for each tensor of a
-- directory under a budget of bits per weight, against uniform choices.
--
--   qscope scripts/mixed-precision.lua [dir [budget [error]]]
--
-- Defaults: samples/, 4.5 bits per weight (scales included), error "nmse"
-- (each tensor's noise relative to its own power, weighted by its size:
-- tensors of different scales count alike; "mse" weighs absolute error).
local dir = arg[1] or qs.samples_dir
local budget = tonumber(arg[2] or "4.5") or error("budget: a number")
local metric = arg[3] or "nmse"

-- measure every candidate once; both solvers reuse the rows
local rows = qs.sweep{tensors = dir, format = "int", bits = {2, 3, 4, 5, 6, 8},
  granularity = {"tensor", "channel"}}

local exact = qs.mixed_precision{rows = rows, budget = budget, error = metric}
print("exact allocation (knapsack over the measured errors):")
print(exact)
local greedy = qs.mixed_precision{rows = rows, budget = budget, error = metric,
  method = "greedy"}
print()
print("greedy allocation:")
print(greedy.summary)

-- uniform baselines: one bit width for every tensor, the granularity of
-- each chosen within the same budget
local uniform = {}
for _, b in ipairs{2, 3, 4, 5, 6, 8} do
  local r = qs.mixed_precision{rows = qs.filter(rows, {bits = b}), budget = budget,
    error = metric}
  uniform[#uniform + 1] = {bits = b, fits = r.feasible,
    bits_per_weight = r.achieved, total_error = r.feasible and r.total_error or nil}
end
print()
print("one bit width for all (granularities chosen within the budget):")
print(qs.rows(uniform, {"bits", "fits", "bits_per_weight", "total_error"}))
local best_uniform
for _, u in ipairs(uniform) do
  if u.fits and (not best_uniform or u.total_error < best_uniform.total_error) then
    best_uniform = u
  end
end
if best_uniform and exact.feasible then
  print()
  print(("mixed precision: %.3g times less total %s than int%d everywhere"):format(
    best_uniform.total_error / exact.total_error, metric, best_uniform.bits))
end
