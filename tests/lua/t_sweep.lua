-- qs.sweep, qs.best, qs.pareto, qs.filter, qs.pivot: the product of the
-- axes, its order and columns, the sources (tensor, file, directory, list,
-- map), error rows, and rows equal to direct qs.quantize results.
local src = os.getenv("top_srcdir") or ".."
local data = src .. "/tests/data/sweep"
local n, plan = 0, 37
print("1.." .. plan)
local function ok(c, name, diag)
  n = n + 1
  print((c and "ok " or "not ok ") .. n .. " - " .. name)
  if not c and diag ~= nil then print("# " .. tostring(diag):gsub("\n", "\n# ")) end
  return c
end
local function raises(f, pat, name)
  local s, e = pcall(f)
  return ok(not s and tostring(e):find(pat, 1, true) ~= nil, name, e)
end
local function col(rows, k)
  local t = {}
  for i, r in ipairs(rows) do t[i] = tostring(r[k]) end
  return table.concat(t, ",")
end

local a = assert(qs.load(data .. "/a.npy"))
local b = assert(qs.load(data .. "/b.npy"))

-- the product, in axis order, last axis fastest
local r = qs.sweep{tensors = a, formats = {"int", "uint"}, bits = {4, 8},
  calib = {"minmax", "mse"}, progress = false}
ok(#r == 8, "2 formats x 2 bits x 2 methods = 8 rows", #r)
ok(col(r, "format") == "int4,int4,int8,int8,uint4,uint4,uint8,uint8",
  "letters-only formats take each bit width, format outermost", col(r, "format"))
ok(col(r, "calib") == "minmax,mse,minmax,mse,minmax,mse,minmax,mse",
  "the method varies fastest", col(r, "calib"))
ok(col(r, "bits") == "4,4,8,8,4,4,8,8", "bits column")
ok(r[1].tensor == "a" and r[1].shape == "2x4" and r[1].numel == 8,
  "tensor name, shape and element count", r[1].tensor .. " " .. r[1].shape)

-- each row is exactly the direct quantization
local same = true
for _, row in ipairs(r) do
  local q = qs.quantize(a, {format = row.format, calib = row.calib})
  for _, k in ipairs{"sqnr_db", "mse", "max_abs", "cosine", "clipped", "bias"} do
    if q.metrics[k] ~= row[k] then same = false end
  end
  if q.bits ~= row.storage_bits then same = false end
end
ok(same, "every metric equals qs.quantize's for the same spec")

-- columns: fixed ones, the axes that vary, metrics
ok(table.concat(r.columns, " ") ==
  "tensor format bits calib storage_bits sqnr_db mse max_abs cosine clipped ms",
  "printed columns", table.concat(r.columns, " "))
ok(r.fields[1] == "tensor" and r.fields[#r.fields] == "error",
  "fields for saving start with tensor and end with error")
ok(tostring(r):match("^tensor%s+format%s+bits%s+calib") ~= nil, "rows print as a table")

-- formats that are full names run once whatever the bits
local r2 = qs.sweep{tensors = a, formats = {"int8", "int"}, bits = {4, 8}, progress = false}
ok(col(r2, "format") == "int8,int4", "int8 with bits {4, 8} runs once (duplicates dropped)",
  col(r2, "format"))
ok(r2[1].bits == 8, "the bit width of a named format comes from its name")

-- defaults
local r3 = qs.sweep{tensors = a, progress = false}
ok(#r3 == 1 and r3[1].format == "int8" and r3[1].calib == "minmax",
  "no axes: one int8 row with the engine's defaults")
local r3b = qs.sweep{tensors = a, bits = 3, progress = false}
ok(#r3b == 1 and r3b[1].format == "int3", "bits alone: format int", r3b[1].format)

-- any spec key is an axis
local r4 = qs.sweep{tensors = a, format = "int4", granularity = {"tensor", "channel"},
  axis = 0, scheme = {"symmetric", "asymmetric"}, progress = false}
ok(#r4 == 4 and col(r4, "scheme") == "symmetric,symmetric,asymmetric,asymmetric"
  and col(r4, "granularity") == "tensor,channel,tensor,channel",
  "scheme before granularity in the product", col(r4, "scheme") .. " / " .. col(r4, "granularity"))
ok(r4[2].storage_bits > r4[1].storage_bits, "per-channel scales cost storage bits")

-- a list of specs with labels
local r5 = qs.sweep{tensors = {a, b}, specs = {{label = "A", format = "int4"},
  {label = "B", format = "int8", scheme = "asymmetric"}}, progress = false}
ok(#r5 == 4 and col(r5, "label") == "A,B,A,B" and col(r5, "tensor") == "a,a,b,b",
  "specs x tensors, with labels", col(r5, "label") .. " " .. col(r5, "tensor"))
ok(r5.columns[2] == "label", "label is the second column")

-- sources: a directory (every .npy, sorted; bad files give an error row)
local r6 = qs.sweep{tensors = data, format = "int8", progress = false}
ok(col(r6, "tensor") == "a,b,broken", "a directory sweeps its .npy files in order",
  col(r6, "tensor"))
ok(r6[3].error ~= nil and r6[3].error:find("broken.npy", 1, true) ~= nil,
  "an unreadable file is an error row naming it", r6[3].error)
ok(r6.columns[#r6.columns] == "error", "an error column appears when a row failed")
local r7 = qs.sweep{tensors = {w1 = a, w2 = data .. "/b.npy"}, bits = 4, progress = false}
ok(col(r7, "tensor") == "w1,w2", "a map gives names, sorted", col(r7, "tensor"))

-- unknown values become error rows; bad calls raise
local r8 = qs.sweep{tensors = a, format = {"int4", "nosuchformat"}, progress = false}
ok(r8[1].error == nil and r8[2].error:find("unknown format 'nosuchformat'", 1, true),
  "an unknown format is an error row with the engine's message", r8[2].error)
raises(function() qs.sweep(5) end, "bad argument #1 to 'sweep' (table expected", "sweep(5) raises")
raises(function() qs.sweep{format = "int8"} end, "no tensors", "no tensors raises")
raises(function() qs.sweep{tensors = a, bits = 4.5} end, "bits must be integers",
  "fractional bits raise")
raises(function() qs.sweep{tensors = a, format = "int8", formats = {"int4"}} end,
  "'format' given twice", "format and formats together raise")

-- on_row, keep
local seen = 0
local r9 = qs.sweep{tensors = a, bits = {2, 4}, keep = true, progress = false,
  on_row = function() seen = seen + 1 end}
ok(seen == 2 and r9[1].q ~= nil and r9[1].q.spec.format == "int2",
  "on_row is called per row; keep keeps q")

-- best, pareto, filter, pivot
local rows = qs.rows({
  {tensor = "x", bits = 2, mse = 0.5, sqnr_db = 3},
  {tensor = "x", bits = 4, mse = 0.1, sqnr_db = 10},
  {tensor = "x", bits = 4, mse = 0.2, sqnr_db = 7},
  {tensor = "x", bits = 8, mse = 0.1, sqnr_db = 10},
  {tensor = "x", bits = 6, mse = 0.05, sqnr_db = 13},
  {tensor = "y", bits = 4, mse = 1.0, sqnr_db = 1, bias = -0.5},
  {tensor = "y", bits = 4, mse = 2.0, sqnr_db = 0, bias = 0.1},
  {tensor = "y", bits = 8, error = "failed"},
})
local best = qs.best(rows)
ok(#best == 2 and best[1] == rows[5] and best[2] == rows[6],
  "best by sqnr_db per tensor, skipping error rows")
ok(qs.best(rows, {by = "mse", per = false})[1] == rows[5], "best overall by mse")
ok(#qs.best(rows, {by = "bias"}) == 1 and qs.best(rows, {by = "bias"})[1] == rows[7],
  "bias: smallest magnitude wins; tensors without a value give no row")
ok(qs.best(rows, {by = "bits", max = true})[1] == rows[4], "max = true overrides the direction")
local front = qs.pareto(rows, {x = "bits", y = "mse"})
ok(#front == 4 and front[1] == rows[1] and front[2] == rows[2] and front[3] == rows[5]
  and front[4] == rows[6], "pareto: x ascending, dominated and equal points dropped")
local fr2 = qs.pareto(rows, {x = "bits", y = "sqnr_db", per = false})
ok(#fr2 == 3 and fr2[3] == rows[5], "pareto with a larger-better y, over all rows")
ok(#qs.filter(rows, {tensor = "x", bits = {4, 8}}) == 3, "filter by fields, lists match any")
ok(#qs.filter(rows, function(x) return (x.mse or 0) > 0.4 end) == 3, "filter by a function")
local pv = qs.pivot(r, {row = "calib", col = "bits", value = "mse"})
ok(#pv == 2 and pv[1].calib == "minmax" and pv[1]["4"] == r[1].mse and pv[2]["8"] == r[4].mse
  and table.concat(pv.columns, " ") == "calib 4 8", "pivot: methods x bits", table.concat(pv.columns, " "))
raises(function() qs.best(nil) end, "bad argument #1 to 'best'", "best(nil) raises")
