-- which-calib.lua: the best calibration method for each tensor of a
-- directory (a model's layers), at one format and granularity.
--
--   qscope scripts/which-calib.lua [dir [format [granularity [out.csv]]]]
--
-- Defaults: samples/, int4, per tensor.  Prints, per tensor, the best
-- method by MSE, its SQNR, the gain over min/max and the runner-up; with
-- out.csv (or .json, .md) also saves every measurement.
local dir = arg[1] or qs.samples_dir
local format = arg[2] or "int4"
local granularity = arg[3] or "tensor"
local out = arg[4]

local methods = {}
for _, m in ipairs(qs.calib_methods()) do
  if m ~= "none" and m ~= "fixed" then methods[#methods + 1] = m end
end

local rows = qs.sweep{tensors = dir, format = format, granularity = granularity,
  calib = methods}
if #rows == 0 then
  io.stderr:write("which-calib: no .npy files in " .. dir .. "\n")
  os.exit(1)
end

-- per tensor: the best, the runner-up and min/max
local summary = {}
for _, best in ipairs(qs.best(rows, {by = "mse"})) do
  local mine = qs.filter(rows, {tensor = best.tensor})
  local minmax = qs.filter(mine, {calib = "minmax"})[1]
  local second = qs.best(qs.filter(mine, function(r) return r.calib ~= best.calib end),
    {by = "mse"})[1]
  summary[#summary + 1] = {tensor = best.tensor, shape = best.shape, best = best.calib,
    sqnr_db = best.sqnr_db, gain_db = minmax and best.sqnr_db - minmax.sqnr_db,
    clipped = best.clipped, runner_up = second and second.calib,
    runner_up_db = second and second.sqnr_db}
end
print(("best calibration per tensor (%s, per %s, lowest MSE):"):format(format, granularity))
print(qs.rows(summary, {"tensor", "shape", "best", "sqnr_db", "gain_db", "clipped",
  "runner_up", "runner_up_db"}))

-- which method wins most often
local wins = {}
for _, s in ipairs(summary) do wins[s.best] = (wins[s.best] or 0) + 1 end
local list = {}
for m, n in pairs(wins) do list[#list + 1] = {calib = m, tensors = n} end
table.sort(list, function(a, b)
  if a.tensors ~= b.tensors then return a.tensors > b.tensors end
  return a.calib < b.calib
end)
print()
print("wins:")
print(qs.rows(list, {"calib", "tensors"}))

local errs = qs.filter(rows, function(r) return r.error ~= nil end)
for _, r in ipairs(errs) do
  io.stderr:write(("which-calib: %s %s: %s\n"):format(r.tensor, r.calib or "?", r.error))
end
if out then
  assert(qs.report.save(rows, out))
  print()
  print("wrote " .. out)
end
