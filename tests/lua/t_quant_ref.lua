-- Integer quantization against reference values computed independently
-- with numpy and PyTorch (scripts/make-fixtures.py -> tests/data/quant/):
-- per case, the scales, zero points and calibrated ranges bit for bit
-- (q.* and qs.calibrate), every code and dequantized float32 value (or an
-- FNV-1a checksum of them for the 70007-element input), q.bits, the NaN/Inf
-- counts, and the metrics of qs.error to 1e-6 relative (the engine sums in float lanes flushed to double; docs/architecture.md), both for q and for
-- the dequantized tensor.
local tap = require "tap"
local top = assert(os.getenv("top_srcdir"), "top_srcdir is not set")
local dir = top .. "/tests/data/quant/"

local special = {nan = 0 / 0, inf = math.huge, ["-inf"] = -math.huge}
local function num(w) return special[w] or tonumber(w) end
local function nums(s)
  local t = {}
  for w in s:gmatch("%S+") do t[#t + 1] = assert(num(w), w) end
  return t
end

-- the cases of ref.txt: key -> rest of line
local cases, cur = {}, nil
for line in io.lines(dir .. "ref.txt") do
  if not line:match("^#") then
    local k, v = line:match("^(%S+)%s*(.*)$")
    if k == "case" then
      cur = {name = v}
    elseif k == "end" then
      cases[#cases + 1] = cur
      cur = nil
    elseif cur and k then
      cur[k] = v
    end
  end
end

local PER_CASE = 10
tap.plan(#cases * PER_CASE)

local function parse_spec(s)
  local spec = {}
  for k, v in s:gmatch("(%w+)=(%S+)") do
    if v == "true" then spec[k] = true
    elseif v == "false" then spec[k] = false
    else spec[k] = math.tointeger(tonumber(v)) or tonumber(v) or v end
  end
  return spec
end

-- The generated input (see gen_tensor in scripts/make-fixtures.py).
local gen
local function gen_tensor()
  if not gen then
    local list = {}
    for i = 0, 7 * 10001 - 1 do
      local v = ((i * 7919) % 20011 - 10005) / 1000
      if i % 9973 == 17 then v = v * 8 end
      list[i + 1] = v
    end
    gen = qs.tensor(list, {7, 10001})
  end
  return gen
end

local inputs = {}
local function input(name)
  if name == "gen" then return gen_tensor() end
  if not inputs[name] then inputs[name] = assert(qs.load(dir .. name)) end
  return inputs[name]
end

local function show(v)
  if math.type(v) == "float" then return ("%a"):format(v) end
  return tostring(v)
end

local function shape_str(t) return table.concat(t.shape, ",") end

-- values of a number or tensor as a list
local function values(v)
  if type(v) == "number" then return {v} end
  local t = {}
  for i = 1, v.size do t[i] = v[i] end
  return t
end

local function same(a, b)
  if a ~= a then return b ~= b end
  return a == b
end

-- A per-tensor parameter must be a number, else a float32 tensor of the
-- parameter shape; every value equal.
local function check_params(got, want, pshape)
  if pshape == "-" then
    if type(got) ~= "number" then return false, "not a number: " .. tostring(got) end
  else
    if type(got) ~= "userdata" then return false, "not a tensor: " .. tostring(got) end
    if got.dtype ~= "float32" or shape_str(got) ~= pshape then
      return false, ("got %s [%s], want float32 [%s]"):format(got.dtype, shape_str(got), pshape)
    end
  end
  local g = values(got)
  if #g ~= #want then return false, ("%d values, want %d"):format(#g, #want) end
  for i = 1, #want do
    if not same(g[i], want[i]) then
      return false, ("value %d: got %s, want %s"):format(i, show(g[i]), show(want[i]))
    end
  end
  return true
end

local function fnv_init() return 0xcbf29ce484222325 end
local function fnv_step(h, w) return (h ~ w) * 0x100000001b3 end

-- codes: an integer tensor of the input's shape; all codes or a checksum
local function check_codes(codes, c, spec_line)
  if type(codes) ~= "userdata" then return false, "q.codes is not a tensor" end
  if not (codes.dtype:match("^u?int%d+$")) then return false, "q.codes dtype " .. codes.dtype end
  if shape_str(codes) ~= c.shape then
    return false, ("q.codes shape [%s], want [%s]"):format(shape_str(codes), c.shape)
  end
  local how, rest = spec_line:match("^(%S+)%s*(.*)$")
  if how == "full" then
    local want = nums(rest)
    if codes.size ~= #want then return false, "size " .. codes.size end
    for i = 1, #want do
      if codes[i] ~= want[i] then
        return false, ("code %d: got %s, want %d"):format(i, tostring(codes[i]), want[i])
      end
    end
    return true
  end
  local want_h, want_sum = rest:match("^(%S+) (%S+)$")
  local h, sum = fnv_init(), 0
  for i = 1, codes.size do
    local v = math.tointeger(codes[i])
    if not v then return false, ("code %d is not an integer: %s"):format(i, tostring(codes[i])) end
    h = fnv_step(h, v & 0xFFFFFFFF)
    sum = sum + v
  end
  local ok = h == math.tointeger(tonumber(want_h)) and sum == tonumber(want_sum)
  return ok, ("checksum 0x%016x sum %d, want %s %s"):format(h, sum, want_h, want_sum)
end

-- dequantized: a float32 tensor of the input's shape, bit for bit
local function check_dequant(y, c)
  if type(y) ~= "userdata" then return false, "q:dequant() is not a tensor" end
  if y.dtype ~= "float32" or shape_str(y) ~= c.shape then
    return false, ("got %s [%s], want float32 [%s]"):format(y.dtype, shape_str(y), c.shape)
  end
  local how, rest = c.dequant:match("^(%S+)%s*(.*)$")
  if how == "full" then
    local want = nums(rest)
    if y.size ~= #want then return false, "size " .. y.size end
    for i = 1, #want do
      local g = y[i]
      if not same(g, want[i]) or (want[i] == 0 and 1 / g ~= 1 / want[i]) then
        return false, ("element %d: got %s, want %s"):format(i, show(g), show(want[i]))
      end
    end
    return true
  end
  local h = fnv_init()
  for i = 1, y.size do
    h = fnv_step(h, (string.unpack("<I4", string.pack("<f", y[i]))))
  end
  return h == math.tointeger(tonumber(rest)), ("checksum 0x%016x, want %s"):format(h, rest)
end

local METRICS = {"mse", "rmse", "sqnr_db", "max_abs", "mean_abs", "cosine", "clipped"}

local function rel_ok(got, want, tol)
  if type(got) ~= "number" then return false end
  if want ~= want then return got ~= got end
  if want == math.huge or want == -math.huge then return got == want end
  return math.abs(got - want) <= tol * math.abs(want)
end

local function check_metrics(e, c, clipped_override)
  if type(e) ~= "table" then return false, "not a table: " .. tostring(e) end
  local bad = {}
  for _, k in ipairs(METRICS) do
    local want = clipped_override and k == "clipped" and 0 or num(c[k])
    if not rel_ok(e[k], want, 1e-6) then
      bad[#bad + 1] = ("%s: got %s, want %s"):format(k, show(e[k]), show(want))
    end
  end
  return #bad == 0, table.concat(bad, "\n")
end

for _, c in ipairs(cases) do
  local name = c.name
  local spec = parse_spec(c.spec)
  local x = input(c.input)
  local good, q = pcall(qs.quantize, x, spec)
  if not good or type(q) ~= "userdata" and type(q) ~= "table" then
    tap.ok(false, name .. ": quantize", tostring(q))
    tap.skip("no quantization", PER_CASE - 1)
  else
    tap.ok(true, name .. ": quantize {" .. c.spec .. "}")
    local ok_s, why_s = check_params(q.scale, nums(c.scale), c.pshape)
    local ok_z, why_z = check_params(q.zero_point, nums(c.zero_point), c.pshape)
    tap.ok(ok_s and ok_z, name .. ": scales and zero points bit for bit",
      (why_s or "") .. (why_z and ("\nzero point: " .. why_z) or ""))
    local ok_lo, why_lo = check_params(q.lo, nums(c.lo), c.pshape)
    local ok_hi, why_hi = check_params(q.hi, nums(c.hi), c.pshape)
    tap.ok(ok_lo and ok_hi, name .. ": q.lo, q.hi (calibrated range)",
      (why_lo or "") .. (why_hi and ("\nhi: " .. why_hi) or ""))
    local cg, lo, hi = pcall(qs.calibrate, x, spec)
    local ok_clo, why_clo = cg and check_params(lo, nums(c.lo), c.pshape)
    local ok_chi, why_chi = cg and check_params(hi, nums(c.hi), c.pshape)
    tap.ok(cg and ok_clo and ok_chi, name .. ": qs.calibrate",
      not cg and lo or ((why_clo or "") .. (why_chi and ("\nhi: " .. why_chi) or "")))
    local ok_c, why_c = check_codes(q.codes, c, c.codes)
    tap.ok(ok_c, name .. ": codes", why_c)
    local dg, y = pcall(function() return q:dequant() end)
    if dg then
      local ok_y, why_y = check_dequant(y, c)
      tap.ok(ok_y, name .. ": dequantized values bit for bit", why_y)
    else
      tap.ok(false, name .. ": dequantized values", y)
    end
    tap.rel(q.bits, tonumber(c.bits), 1e-12, name .. ": q.bits")
    local st = x:stats()
    tap.ok(st.nan == tonumber(c.nan) and st.inf == tonumber(c.inf), name .. ": NaN and Inf counted",
      ("stats: nan %s inf %s, want %s %s"):format(tostring(st.nan), tostring(st.inf), c.nan, c.inf))
    local eg, e = pcall(qs.error, x, q)
    tap.ok(eg and check_metrics(e, c), name .. ": qs.error(x, q) metrics to 1e-6",
      select(2, check_metrics(eg and e or nil, c)))
    if dg then
      local eg2, e2 = pcall(qs.error, x, y)
      tap.ok(eg2 and check_metrics(e2, c, true),
        name .. ": qs.error(x, dequantized) metrics to 1e-6, nothing clipped",
        select(2, check_metrics(eg2 and e2 or nil, c, true)))
    else
      tap.skip("no dequantized tensor")
    end
  end
end
tap.done()
