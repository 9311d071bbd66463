-- sweep-bits.lua: every calibration method at every bit width on one
-- tensor; a table of SQNR (method x bits), a CSV of all the metrics and,
-- when qscope's plotting is available, a plot of SQNR against bits.
--
--   qscope scripts/sweep-bits.lua [tensor.npy [out-dir [bits...]]]
--
-- Defaults: samples/gaussian.npy, the current directory, bits 2..8.
-- Writes <out-dir>/<tensor>-bits.csv (and .png with a plot).
local path = arg[1] or (qs.samples_dir .. "/gaussian.npy")
local outdir = arg[2] or "."
local bits = {}
for i = 3, #arg do bits[#bits + 1] = assert(math.tointeger(tonumber(arg[i])), "bits: integers") end
if #bits == 0 then bits = {2, 3, 4, 5, 6, 7, 8} end

-- every method that needs no parameters (the list comes from the engine)
local methods = {}
for _, m in ipairs(qs.calib_methods()) do
  if m ~= "none" and m ~= "fixed" then methods[#methods + 1] = m end
end

local rows = qs.sweep{tensors = path, format = "int", bits = bits, calib = methods}
local failed = qs.filter(rows, function(r) return r.error ~= nil end)
if #failed == #rows then error("sweep-bits: " .. (rows[1] and rows[1].error or "nothing to do"), 0) end
for _, r in ipairs(failed) do
  io.stderr:write(("sweep-bits: %s %s: %s\n"):format(r.format or "?", r.calib or "?", r.error))
end

local name = (path:match("([^/]+)$") or path):gsub("%.npy$", "")
print(("SQNR (dB) of %s, symmetric int, per tensor: method x bits"):format(name))
print(qs.pivot(rows, {row = "calib", col = "bits", value = "sqnr_db"}))
print()
print("best method per bit width (by MSE):")
print(qs.format_table(qs.best(rows, {by = "mse", per = "bits"}),
  {"bits", "calib", "sqnr_db", "mse", "clipped"}))

local csv = outdir .. "/" .. name .. "-bits.csv"
assert(qs.report.save(rows, csv))
print()
print("wrote " .. csv)

-- the plot: SQNR against bits, one line per method, through gnuplot
-- (qs.plot.sweep{x, y, series, title, xlabel, ylabel, output})
if type(qs.plot) == "table" and type(qs.plot.sweep) == "function" then
  local png = outdir .. "/" .. name .. "-bits.png"
  local x, y, series = {}, {}, {}
  for _, r in ipairs(rows) do
    if not r.error then
      x[#x + 1], y[#y + 1], series[#series + 1] = r.bits, r.sqnr_db, r.calib
    end
  end
  local ok, res, err = pcall(qs.plot.sweep, {x = x, y = y, series = series,
    title = name .. ": SQNR by bit width", xlabel = "bits", ylabel = "SQNR (dB)",
    output = png})
  if ok and res then
    print("wrote " .. png)
  else
    io.stderr:write("sweep-bits: no plot: " .. tostring(ok and err or res) .. "\n")
  end
else
  io.stderr:write("sweep-bits: no plot: " .. (qs.plot and "qs.plot has no sweep function"
    or "this qscope has no qs.plot") .. " (the CSV has the data)\n")
end
