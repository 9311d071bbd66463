-- sweep_bench.lua: the issue's sweep figure: 50 tensors of 1M float32
-- elements (.npy files in a temporary directory) x 4 calibration methods
-- x 6 bit widths, on one engine thread by default; then the CSV write.
--
--   qscope tests/bench/sweep_bench.lua [threads [tensors [elements [methods]]]]
--
-- methods: comma-separated; by default two sets are timed, the
-- histogram percentile (minmax,percentile_hist,mse,entropy) and the exact
-- one by selection (minmax,percentile,mse,entropy).
--
-- Prints "name value unit" lines (as tests/bench/bench does).  The target
-- is under 10 s on one core.
local threads = math.tointeger(tonumber(arg[1] or "1")) or 1
local ntensors = math.tointeger(tonumber(arg[2] or "50")) or 50
local n = math.tointeger(tonumber(arg[3] or "1048576")) or 1048576
qs.threads(threads)

-- the files: 5 distributions, each rotated to give distinct tensors
local dir = (os.getenv("TMPDIR") or "/tmp") .. "/qs_sweep_bench." ..
  math.floor(qs.clock() * 1e6) % 100000000
assert(os.execute("mkdir -p '" .. dir .. "'"))
local t0 = qs.clock()
local header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" .. n .. ",), }"
header = header .. (" "):rep(64 - (10 + #header + 1) % 64) .. "\n"
header = "\147NUMPY\1\0" .. string.pack("<I2", #header) .. header
local bases = {}
for i, spec in ipairs{{dist = "normal"}, {dist = "laplace"}, {dist = "uniform"},
    {dist = "relu"}, {dist = "normal", scale = 0.02}} do
  spec.seed = i
  local t = qs.random(n, spec)
  assert(qs.save(t, dir .. "/base.npy"))
  local f = assert(io.open(dir .. "/base.npy", "rb"))
  local bytes = f:read("a")
  f:close()
  bases[i] = bytes:sub(-4 * n) -- the data, after qs.save's header
end
os.remove(dir .. "/base.npy")
local files = {}
for i = 1, ntensors do
  local data = bases[(i - 1) % #bases + 1]
  local k = 4 * ((i * 7919) % n)
  local p = ("%s/t%03d.npy"):format(dir, i)
  local f = assert(io.open(p, "wb"))
  f:write(header, data:sub(k + 1), data:sub(1, k))
  f:close()
  files[#files + 1] = p
end
local setup = qs.clock() - t0

local function run(list)
  local methods = {}
  for m in list:gmatch("[^,]+") do methods[#methods + 1] = m end
  local bits = {2, 3, 4, 5, 6, 8}
  collectgarbage()
  local t1 = qs.clock()
  local rows = qs.sweep{tensors = dir, format = "int", bits = bits, calib = methods,
    progress = false}
  local secs = qs.clock() - t1
  local bad = 0
  for _, r in ipairs(rows) do if r.error then bad = bad + 1 end end
  print(("sweep_%dx%d_%dmethods_%dbits %.3f s (%s; %d runs, %d errors, %d thread%s, %.2f ms/run, target < 10 s)"):format(
    ntensors, n, #methods, #bits, secs, list, #rows, bad, threads,
    threads == 1 and "" or "s", 1000 * secs / #rows))
  for _, m in ipairs(methods) do
    local ms = 0
    for _, r in ipairs(rows) do if r.calib == m then ms = ms + r.ms end end
    print(("  method %s %.3f s"):format(m, ms / 1000))
  end
  return rows
end

print(("sweep_setup %.3f s (%d files of %d float32)"):format(setup, ntensors, n))
local rows
if arg[4] then
  rows = run(arg[4])
else
  rows = run("minmax,percentile_hist,mse,entropy")
  run("minmax,percentile,mse,entropy")
end
t0 = qs.clock()
local csv = dir .. "/sweep.csv"
assert(qs.report.save(rows, csv))
local csv_secs = qs.clock() - t0
local back = assert(qs.report.read_csv(csv))
print(("sweep_csv_write %.3f s (%d rows; read back %d)"):format(csv_secs, #rows, #back))

for _, p in ipairs(files) do os.remove(p) end
os.remove(csv)
os.remove(dir)
