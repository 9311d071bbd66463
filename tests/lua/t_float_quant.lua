-- Float formats through qs.quantize (calib = "none": a plain cast, scale 1)
-- against formats_vectors.txt: the code and the decoded value of every
-- vector, with the overflow policy each column names.
local path = (os.getenv("top_srcdir") or "..") .. "/tests/data/formats/formats_vectors.txt"
local names = {float8_e4m3fn = "fp8_e4m3", float8_e5m2 = "fp8_e5m2",
  float8_e4m3fnuz = "fp8_e4m3fnuz", float8_e5m2fnuz = "fp8_e5m2fnuz",
  float16 = "fp16", bfloat16 = "bf16", float6_e2m3fn = "fp6_e2m3",
  float6_e3m2fn = "fp6_e3m2", float4_e2m1fn = "fp4_e2m1"}
local cases, sec = {}, nil
for line in io.lines(path) do
  local s = line:match("^%[([%w_]+)%]")
  if s then sec = names[s]
  elseif sec and line:match("^[^#c].-,0x%x+,") then
    local f = {}
    for v in (line .. ","):gmatch("([^,]*),") do f[#f + 1] = v end
    -- case,f32_hex,f32_value,nonsat_bits,nonsat_value,sat_bits,sat_value
    cases[#cases + 1] = {fmt = sec, name = f[1], bits = tonumber(f[2]),
      nonsat = {tonumber(f[4]), f[5]}, sat = {tonumber(f[6]), f[7]}}
  end
end
local function value(s)
  if s == "nan" then return 0 / 0 end
  if s == "inf" then return math.huge end
  if s == "-inf" then return -math.huge end
  return tonumber(s)
end
local function same(a, b)
  if a ~= a then return b ~= b end
  return a == b and (a ~= 0 or 1 / a == 1 / b)
end
print("1.." .. (#cases * 2 + 2))
local n = 0
for _, c in ipairs(cases) do
  local x = string.unpack("<f", string.pack("<I4", c.bits))
  local t = qs.tensor({x})
  for _, pol in ipairs{"nonsat", "sat"} do
    n = n + 1
    local q = qs.quantize(t, {format = c.fmt, calib = "none",
      overflow = pol == "sat" and "saturate" or "ieee"})
    local code, y = q.codes[1], q:dequant()[1]
    local wc, wy = c[pol][1], value(c[pol][2])
    if not wc then
      print("ok " .. n .. " - " .. c.fmt .. " " .. pol .. " " .. c.name .. " # SKIP implementation-defined (no NaN in the format)")
      goto continue
    end
    local good = code == wc and same(y, wy)
    print((good and "ok " or "not ok ") .. n .. " - " .. c.fmt .. " " .. pol .. " " .. c.name)
    if not good then print(("# code 0x%X value %s, want 0x%X %s"):format(code, y, wc, c[pol][2])) end
    ::continue::
  end
end

-- codes of a tensor longer than one work chunk (65536) match the codes of
-- the same values one by one
for _, f in ipairs{"fp8_e4m3", "fp16"} do
  local vals = {}
  for i = 1, 150001 do vals[i] = math.sin(i * 0.37) * (1 + i % 50) end
  local codes = qs.quantize(qs.tensor(vals), {format = f, calib = "none"}).codes
  local good = codes.size == #vals
  for _, i in ipairs{1, 65536, 65537, 131073, 150001} do
    local one = qs.quantize(qs.tensor({vals[i]}), {format = f, calib = "none"}).codes[1]
    good = good and codes[i] == one
  end
  n = n + 1
  print((good and "ok " or "not ok ") .. n .. " - " .. f .. " codes across work chunks")
end
