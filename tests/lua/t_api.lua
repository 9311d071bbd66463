-- The surface of qscope's Lua API (docs/lua-api.md): tensors from lists
-- and files, shapes and dtype names, 1-based flat indexing (an index out
-- of range raises), stats, save/load round trips, the quantization spec
-- and its errors, q.bits, qs.error on exact and known reconstructions,
-- qs.clock.  Bad arguments raise "bad argument #k to '...name'"; input
-- failures (missing files) return nil and a message naming the file.
local tap = require "tap"
local top = assert(os.getenv("top_srcdir"), "top_srcdir is not set")
local npy = top .. "/tests/data/npy/"

local function f32(v) return (string.unpack("<f", string.pack("<f", v))) end
local function shape_of(t) return table.concat(t.shape, ",") end
local function values(t)
  local out = {}
  for i = 1, t.size do out[i] = t[i] end
  return out
end
local function list_eq(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if not (a[i] == b[i] or (a[i] ~= a[i] and b[i] ~= b[i])) then return false end
  end
  return true
end
local function badarg(n, fname) return ("bad argument #%d to '[%%w_.]-%s'"):format(n, fname) end

-- ---------------------------------------------------------------- tensors
do
  local t = qs.tensor({1, 2, 3, 4, 5, 6})
  tap.is(type(t), "userdata", "qs.tensor gives a tensor")
  tap.is(t.dtype, "float32", "qs.tensor: float32")
  tap.is(shape_of(t), "6", "qs.tensor without a shape: one dimension, the list's length")
  tap.is(t.size, 6, "t.size")
  tap.is(math.type(t.size), "integer", "t.size is an integer")

  local m = qs.tensor({1, 2, 3, 4, 5, 6}, {2, 3})
  tap.is(shape_of(m), "2,3", "qs.tensor with a shape {2, 3}")
  tap.is(#m.shape, 2, "t.shape is a list of the dimensions")
  tap.is(math.type(m.shape[1]), "integer", "dimensions are integers")
  tap.ok(m[1] == 1 and m[3] == 3 and m[4] == 4 and m[6] == 6, "t[i]: 1-based, flat, C order")
  tap.is(math.type(m[1]), "float", "float32 elements read as Lua floats")
  tap.is(qs.tensor({0.1})[1], f32(0.1), "values are rounded to float32")
  tap.is(qs.tensor({-0.0})[1], 0.0, "-0.0 kept")
  tap.ok(1 / qs.tensor({-0.0})[1] < 0, "the sign of zero kept")
  local s = qs.tensor({7.5}, {})
  tap.ok(#s.shape == 0 and s.size == 1 and s[1] == 7.5, "qs.tensor(list, {}) is 0-d with one element")
  local t3 = qs.tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    21, 22, 23, 24}, {2, 3, 4})
  tap.ok(shape_of(t3) == "2,3,4" and t3[24] == 24 and t3[13] == 13, "a 3-d tensor from a list")

  -- out of range: an error, not nil
  tap.raises(function() return m[0] end, "range", "t[0] raises (out of range)")
  tap.raises(function() return m[7] end, "range", "t[size + 1] raises (out of range)")
  tap.raises(function() return m[-1] end, "range", "t[-1] raises (out of range)")
  tap.raises(function() return m[1.5] end, nil, "t[1.5] raises (not an integer)")
  tap.ok(type(tostring(m)) == "string", "tostring(t)")

  tap.raises(function() return qs.tensor({1, 2, 3}, {2, 2}) end, badarg(2, "tensor"),
    "shape holding another element count: bad argument #2")
  tap.raises(function() return qs.tensor({1, 2}, {-1, -2}) end, badarg(2, "tensor"),
    "negative dimensions: bad argument #2")
  tap.raises(function() return qs.tensor("1, 2") end, badarg(1, "tensor"),
    "qs.tensor(string): bad argument #1")
  tap.raises(function() return qs.tensor({1, "a"}) end, badarg(1, "tensor"),
    "a list with a string: bad argument #1")
  tap.raises(function() return qs.tensor() end, badarg(1, "tensor"), "qs.tensor(): bad argument #1")
end

-- ---------------------------------------------------------------- stats
do
  local t = qs.tensor({1, -2, 3.5, 4, 0 / 0, 1 / 0, -1 / 0, 0.25})
  local st = t:stats()
  local fin = {1, -2, 3.5, 4, 0.25}
  local sum = 0
  for _, v in ipairs(fin) do sum = sum + v end
  local mean = sum / #fin
  local ss = 0
  for _, v in ipairs(fin) do ss = ss + (v - mean) ^ 2 end
  local std = math.sqrt(ss / #fin) -- population (ddof = 0)
  tap.is(type(st), "table", "t:stats() is a table")
  tap.is(st.min, -2, "stats.min over the finite values")
  tap.is(st.max, 4, "stats.max over the finite values")
  tap.is(st.absmax, 4, "stats.absmax over the finite values")
  tap.near(st.mean, mean, 1e-12, "stats.mean over the finite values")
  tap.near(st.std, std, 1e-12, "stats.std: population deviation over the finite values")
  tap.is(st.nan, 1, "stats.nan counts NaN")
  tap.is(st.inf, 2, "stats.inf counts +Inf and -Inf")
  local c = qs.tensor({-3, -3, -3}):stats()
  tap.ok(c.min == -3 and c.max == -3 and c.absmax == 3 and c.mean == -3 and c.std == 0
    and c.nan == 0 and c.inf == 0, "stats of a constant tensor")
  local w = assert(qs.load(top .. "/tests/data/quant/w.npy"))
  local ws = w:stats()
  local n, s1, mn, mx = w.size, 0, math.huge, -math.huge
  for i = 1, n do
    local v = w[i]
    s1 = s1 + v
    mn, mx = math.min(mn, v), math.max(mx, v)
  end
  local m1 = s1 / n
  local s2 = 0
  for i = 1, n do s2 = s2 + (w[i] - m1) ^ 2 end
  tap.ok(ws.min == mn and ws.max == mx and ws.absmax == math.max(-mn, mx), "stats min/max/absmax of w.npy")
  tap.near(ws.mean, m1, 1e-9, "stats.mean of w.npy")
  tap.near(ws.std, math.sqrt(s2 / n), 1e-9, "stats.std of w.npy (ddof = 0)")
end

-- ---------------------------------------------------------------- files
do
  local names = {
    {"f2_le_2x3_c.npy", "float16"}, {"f4_be_2x3_c.npy", "float32"}, {"f8_le_2x3_c.npy", "float64"},
    {"i1_na_2x3_c.npy", "int8"}, {"i2_be_2x3_c.npy", "int16"}, {"i4_le_2x3_c.npy", "int32"},
    {"i8_be_2x3_c.npy", "int64"}, {"u1_na_2x3_c.npy", "uint8"}, {"u2_le_2x3_c.npy", "uint16"},
    {"u4_be_2x3_c.npy", "uint32"}, {"u8_le_2x3_c.npy", "uint64"}, {"b1_na_2x3_c.npy", "bool"},
  }
  for _, p in ipairs(names) do
    local t, msg = qs.load(npy .. p[1])
    tap.ok(t and t.dtype == p[2] and shape_of(t) == "2,3", ("qs.load %s: %s (2, 3)"):format(p[1], p[2]),
      t and (t.dtype .. " " .. shape_of(t)) or msg)
  end
  local i8 = assert(qs.load(npy .. "i8_be_2x3_c.npy"))
  tap.ok(i8[1] == math.mininteger and math.type(i8[1]) == "integer", "int64 elements read as Lua integers")
  local b = assert(qs.load(npy .. "b1_na_2x3_c.npy"))
  tap.is(type(b[1]), "boolean", "bool elements read as booleans")

  local tmp = os.tmpname()
  local path = tmp .. ".npy"
  local t = qs.tensor({1.5, -2, 3.25, 0 / 0, 1 / 0, -0.0}, {3, 2})
  tap.is(qs.save(t, path), true, "qs.save returns true")
  local u, msg = qs.load(path)
  tap.ok(u and u.dtype == "float32" and shape_of(u) == "3,2" and list_eq(values(u), values(t)),
    "save + load: the same dtype, shape and values", msg)
  tap.ok(u and 1 / u[6] < 0, "save + load keeps the sign of zero")
  local e = qs.tensor({}, {0, 4})
  tap.ok(qs.save(e, path) == true and qs.load(path).size == 0 and shape_of(qs.load(path)) == "0,4",
    "save + load of an empty (0, 4) tensor")
  local z = qs.tensor({42}, {})
  tap.ok(qs.save(z, path) == true and #qs.load(path).shape == 0 and qs.load(path)[1] == 42,
    "save + load of a 0-d tensor")
  local i8p = tmp .. "-i8.npy"
  tap.ok(qs.save(i8, i8p) == true and list_eq(values(qs.load(i8p)), values(i8)) and qs.load(i8p).dtype == "int64",
    "save + load of an int64 tensor: exact")
  os.remove(path)
  os.remove(i8p)
  os.remove(tmp)

  local missing = tmp .. "-missing/none.npy"
  local r, m = qs.load(missing)
  tap.ok(r == nil and type(m) == "string" and m:find(missing, 1, true) ~= nil,
    "qs.load of a missing file: nil and a message naming it", m)
  local r2, m2 = qs.save(t, missing)
  tap.ok(r2 == nil and type(m2) == "string" and m2:find(missing, 1, true) ~= nil,
    "qs.save into a missing directory: nil and a message naming the file", m2)
  tap.raises(function() return qs.load() end, badarg(1, "load"), "qs.load(): bad argument #1")
  tap.raises(function() return qs.load({}) end, badarg(1, "load"), "qs.load(table): bad argument #1")
  tap.raises(function() return qs.save("x", path) end, badarg(1, "save"), "qs.save(string, path): bad argument #1")
  tap.raises(function() return qs.save(t) end, badarg(2, "save"), "qs.save(t): bad argument #2")
end

-- ---------------------------------------------------------------- quantize
do
  local t = qs.tensor({1, -2, 3, 4.5, 0, -7, 0.5, 2}, {2, 4})
  local q = qs.quantize(t, {})
  tap.is(q.scale, f32(f32(7) / f32(127)), "default spec: int8 symmetric per tensor, scale = amax / 127")
  tap.is(q.zero_point, 0, "default spec: zero point 0")
  tap.ok(q.lo == -7 and q.hi == 4.5, "q.lo, q.hi: the min/max range")
  tap.is(q.codes.dtype, "int8", "int8 codes are int8")
  tap.ok(shape_of(q.codes) == "2,4" and q.codes[6] == -127 and q.codes[5] == 0, "codes: the input's shape")
  tap.is(math.type(q.codes[1]), "integer", "codes read as Lua integers")
  local y = q:dequant()
  tap.ok(y.dtype == "float32" and shape_of(y) == "2,4" and y[6] == -7, "q:dequant(): float32, the input's shape")
  tap.ok(list_eq(values(q:dequant()), values(y)), "q:dequant() twice: the same values")
  local lo, hi = qs.calibrate(t, {})
  tap.ok(lo == -7 and hi == 4.5, "qs.calibrate: lo, hi numbers per tensor")
  local clo, chi = qs.calibrate(t, {granularity = "channel", axis = 1})
  tap.ok(type(clo) == "userdata" and shape_of(clo) == "4" and clo[1] == 0 and clo[2] == -7
    and chi[3] == 3 and chi[4] == 4.5, "qs.calibrate per channel: float32 tensors, one value per channel")

  -- code dtypes: wide enough and of the right sign
  local function code_ok(fmt, want_signed, min_bits)
    local c = qs.quantize(t, {format = fmt}).codes
    local sign, bits = c.dtype:match("^(u?)int(%d+)$")
    return sign ~= nil and (sign == "") == want_signed and tonumber(bits) >= min_bits, c.dtype
  end
  for _, f in ipairs({{"int2", true, 2}, {"int4", true, 4}, {"int12", true, 12}, {"int16", true, 16},
      {"uint4", false, 4}, {"uint8", false, 8}, {"uint16", false, 16}}) do
    local good, dt = code_ok(f[1], f[2], f[3])
    tap.ok(good, ("%s codes: an integer tensor able to hold them"):format(f[1]), dt)
  end

  -- granularity and the parameter shapes
  local w = qs.tensor((function()
    local l = {}
    for i = 1, 64 do l[i] = math.sin(i) * i end
    return l
  end)(), {4, 16})
  local qc = qs.quantize(w, {granularity = "channel", axis = 0})
  tap.ok(type(qc.scale) == "userdata" and qc.scale.dtype == "float32" and shape_of(qc.scale) == "4",
    "per channel axis 0: q.scale is a float32 tensor {4}")
  local q1 = qs.quantize(w, {granularity = "channel", axis = 1})
  tap.ok(shape_of(q1.scale) == "16" and shape_of(q1.zero_point) == "16" and shape_of(q1.lo) == "16"
    and shape_of(q1.hi) == "16", "per channel axis 1: scale, zero point, lo, hi have 16 values")
  local qm = qs.quantize(w, {granularity = "channel", axis = -1})
  tap.ok(list_eq(values(qm.scale), values(q1.scale)) and list_eq(values(qm.codes), values(q1.codes)),
    "axis -1 is the last axis")
  local qg = qs.quantize(w, {granularity = "group", group = 5})
  tap.is(qg.scale.size, 16, "groups of 5 along a last axis of 16: 4 per row (the last one shorter)")
  tap.is(qs.quantize(w, {granularity = "channel"}).scale.size, 4, "per channel: axis 0 by default")
  -- the channel's own range
  local okc = true
  for ch = 1, 4 do
    local amax = 0
    for j = 1, 16 do amax = math.max(amax, math.abs(w[(ch - 1) * 16 + j])) end
    okc = okc and qc.scale[ch] == f32(f32(amax) / 127)
  end
  tap.ok(okc, "per channel: each channel's scale = its amax / 127")

  -- q.bits = N + P * (32 + (asymmetric and N or 0)) / size
  local function bits(spec) return qs.quantize(w, spec).bits end
  tap.near(bits({format = "int8"}), 8 + 32 / 64, 1e-12, "bits int8 per tensor: 8 + 32/64")
  tap.near(bits({format = "int8", scheme = "asymmetric"}), 8 + 40 / 64, 1e-12,
    "bits int8 asymmetric: 8 + (32 + 8)/64")
  tap.near(bits({format = "uint8"}), 8 + 32 / 64, 1e-12, "bits uint8 symmetric: no zero point stored")
  tap.near(bits({format = "int4", granularity = "channel"}), 4 + 4 * 32 / 64, 1e-12,
    "bits int4 per channel (4): 4 + 4*32/64")
  tap.near(bits({format = "int4", scheme = "asymmetric", granularity = "channel"}), 4 + 4 * 36 / 64, 1e-12,
    "bits int4 asymmetric per channel: 4 + 4*(32 + 4)/64")
  tap.near(bits({format = "uint4", scheme = "asymmetric", granularity = "channel", axis = 1}),
    4 + 16 * 36 / 64, 1e-12, "bits uint4 asymmetric per channel (16): 4 + 16*36/64")
  tap.near(bits({format = "int4", granularity = "group", group = 8}), 4 + 8 * 32 / 64, 1e-12,
    "bits int4 groups of 8: 4 + 8*32/64")
  tap.near(bits({format = "int4", granularity = "group", group = 5}), 4 + 16 * 32 / 64, 1e-12,
    "bits int4 groups of 5 (16 groups): 4 + 16*32/64")
  tap.near(bits({format = "int16", scheme = "asymmetric"}), 16 + 48 / 64, 1e-12,
    "bits int16 asymmetric: 16 + (32 + 16)/64")

  -- narrow and asymmetric ranges
  local qn = qs.quantize(qs.tensor({-1, 1, 0.5}), {format = "int4", narrow = true})
  tap.ok(qn.codes[1] == -7 and qn.codes[2] == 7 and qn.scale == f32(1 / 7), "narrow int4: codes -7..7")
  local qa = qs.quantize(qs.tensor({0, 1, 2, 3}), {format = "uint2", scheme = "asymmetric"})
  tap.ok(qa.scale == 1 and qa.zero_point == 0 and list_eq(values(qa.codes), {0, 1, 2, 3}),
    "uint2 asymmetric on 0..3: scale 1, zero point 0, codes 0..3")
  local qu = qs.quantize(qs.tensor({-1, 0, 1, 3}), {format = "uint2"})
  tap.ok(qu.scale == 1 and qu.codes[1] == 0 and qs.error(qs.tensor({-1, 0, 1, 3}), qu).clipped == 0.25,
    "uint2 symmetric: negative values clip to code 0 (a quarter clipped)")
  local qz = qs.quantize(qs.tensor({0, 0, 0}), {format = "int8", scheme = "asymmetric"})
  tap.ok(qz.scale == 1 and qz:dequant()[1] == 0, "an all-zero tensor: scale 1, no division by zero")

  -- the spec's errors list the accepted values
  local function spec_err(spec, pattern, name)
    tap.raises(function() return qs.quantize(t, spec) end, pattern, name)
  end
  spec_err({bogus = 1}, badarg(2, "quantize"), "unknown spec key: bad argument #2")
  local _, m = pcall(qs.quantize, t, {bogus = 1})
  m = tostring(m)
  tap.ok(m:find("bogus", 1, true) and m:find("format", 1, true) and m:find("scheme", 1, true)
    and m:find("granularity", 1, true) and m:find("axis", 1, true) and m:find("group", 1, true)
    and m:find("narrow", 1, true) and m:find("calib", 1, true) and m:find("rounding", 1, true),
    "unknown key: the message names it and lists the accepted keys", m)
  spec_err({format = "int1"}, "int8", "format int1: rejected, the accepted ones listed")
  spec_err({format = "int17"}, "uintN", "format int17: rejected, the accepted ones listed")
  spec_err({format = "float8"}, badarg(2, "quantize"), "format float8: bad argument #2")
  spec_err({scheme = "sym"}, "asymmetric", "scheme sym: rejected, symmetric/asymmetric listed")
  spec_err({granularity = "row"}, "channel", "granularity row: rejected, tensor/channel/group listed")
  spec_err({calib = "bogus"}, "minmax", "calib bogus: rejected, minmax listed")
  spec_err({rounding = "bankers"}, "nearest", "rounding bankers: rejected, nearest listed")
  spec_err({format = 8}, badarg(2, "quantize"), "format = 8 (not a string): bad argument #2")
  spec_err({narrow = "yes"}, badarg(2, "quantize"), "narrow = 'yes' (not a boolean): bad argument #2")
  spec_err({granularity = "group", group = 0}, badarg(2, "quantize"), "group 0: bad argument #2")
  spec_err({granularity = "channel", axis = 2}, badarg(2, "quantize"),
    "axis 2 of a rank-2 tensor: bad argument #2")
  spec_err({granularity = "channel", axis = -3}, "axis", "axis -3 of a rank-2 tensor: an error naming the axis")
  tap.raises(function() return qs.quantize("x", {}) end, badarg(1, "quantize"), "qs.quantize(string): bad argument #1")
  tap.raises(function() return qs.quantize(t, 5) end, badarg(2, "quantize"), "qs.quantize(t, 5): bad argument #2")
  tap.raises(function() return qs.calibrate({}, {}) end, badarg(1, "calibrate"), "qs.calibrate(table): bad argument #1")
  tap.raises(function() return qs.calibrate(t, {bogus = true}) end, badarg(2, "calibrate"),
    "qs.calibrate, unknown key: bad argument #2")

  -- a non-float32 input is quantized as float32
  local i2 = assert(qs.load(npy .. "i2_le_2x3_c.npy"))
  local qi = qs.quantize(i2, {format = "int16"})
  tap.ok(qi:dequant().dtype == "float32" and shape_of(qi:dequant()) == "2,3", "an int16 input: dequantized as float32")
end

-- ---------------------------------------------------------------- error
do
  local x = qs.tensor({1, 2, 3, 4})
  local e = qs.error(x, x)
  tap.ok(e.mse == 0 and e.rmse == 0 and e.max_abs == 0 and e.mean_abs == 0,
    "qs.error(t, t): no error")
  tap.is(e.sqnr_db, math.huge, "qs.error(t, t): SQNR inf")
  tap.is(e.cosine, 1, "qs.error(t, t): cosine 1")
  tap.is(e.clipped, 0, "qs.error(t, t): nothing clipped")
  local y = qs.tensor({1, 2, 3, 5})
  local k = qs.error(x, y)
  tap.near(k.mse, 0.25, 1e-12, "qs.error: mse")
  tap.near(k.rmse, 0.5, 1e-12, "qs.error: rmse")
  tap.near(k.max_abs, 1, 1e-12, "qs.error: max_abs")
  tap.near(k.mean_abs, 0.25, 1e-12, "qs.error: mean_abs")
  tap.near(k.sqnr_db, 10 * math.log(30, 10), 1e-12, "qs.error: sqnr_db = 10 log10(sum x^2 / sum e^2)")
  tap.near(k.cosine, 34 / math.sqrt(30 * 39), 1e-12, "qs.error: cosine")
  tap.is(k.clipped, 0, "qs.error of two tensors: clipped 0")
  local xn = qs.tensor({1, 0 / 0, 3, 1 / 0})
  local yn = qs.tensor({1, 5, 2, 7})
  local kn = qs.error(xn, yn)
  tap.ok(kn.mse == 0.5 and kn.max_abs == 1, "qs.error: NaN/Inf in the reference are left out", kn.mse)
  local z = qs.tensor({0, 0})
  local kz = qs.error(z, z)
  tap.ok(kz.mse == 0 and kz.sqnr_db == math.huge and kz.cosine == 1, "qs.error of zeros against zeros: exact")
  tap.raises(function() return qs.error(x, qs.tensor({1, 2})) end, badarg(2, "error"), "sizes differ: bad argument #2")
  tap.raises(function() return qs.error(x, 5) end, badarg(2, "error"), "qs.error(t, 5): bad argument #2")
  tap.raises(function() return qs.error(5, x) end, badarg(1, "error"), "qs.error(5, t): bad argument #1")
end

-- ---------------------------------------------------------------- clock
do
  tap.is(type(qs.clock()), "number", "qs.clock() is a number")
  local prev, mono = qs.clock(), true
  for _ = 1, 10000 do
    local c = qs.clock()
    if c < prev then mono = false end
    prev = c
  end
  tap.ok(mono, "qs.clock never goes back")
  local c0, c1, spins = qs.clock(), nil, 0
  repeat
    c1 = qs.clock()
    spins = spins + 1
  until c1 > c0 or spins > 1e7
  tap.ok(c1 > c0 and c1 - c0 < 1, "qs.clock advances (seconds)")
  local t0, w0 = os.clock(), qs.clock()
  local x = 0
  for i = 1, 2e6 do x = x + i % 7 end
  local dt, dw = os.clock() - t0, qs.clock() - w0
  tap.ok(dw > 0 and dw < dt * 10 + 0.5 and dw > dt / 10, "qs.clock measures in seconds",
    ("qs.clock %.4f s, os.clock %.4f s"):format(dw, dt))
end

tap.done()
