-- Layer outputs: qs.matmul against sums in Lua, qs.int_matmul's int32
-- accumulators, multipliers and requantized codes recomputed step by step,
-- the TFLite reference vectors through qs.quantize_multiplier and
-- qs.requantize, and qs.layer_error's rows.
local n, plan = 0, 23
print("1.." .. plan)
local function ok(c, name, diag)
  n = n + 1
  print((c and "ok " or "not ok ") .. n .. " - " .. name)
  if not c and diag ~= nil then print("# " .. tostring(diag):gsub("\n", "\n# ")) end
  return c
end
local function f32(x) return (string.unpack("f", string.pack("f", x))) end
local function raises(f, pat, name)
  local s, e = pcall(f)
  return ok(not s and tostring(e):find(pat, 1, true) ~= nil, name, e)
end

local M, K, N = 6, 40, 7
local W = qs.random({M, K}, {seed = 11, scale = 0.05})
local X = qs.random({K, N}, {seed = 12, dist = "relu"})

-- float reference
local Y = qs.matmul(W, X)
local exact = true
for i = 0, M - 1 do
  for j = 0, N - 1 do
    local s = 0.0
    for k = 0, K - 1 do s = s + W[i * K + k + 1] * X[k * N + j + 1] end
    if f32(s) ~= Y[i * N + j + 1] then exact = false end
  end
end
ok(Y.shape[1] == M and Y.shape[2] == N and exact,
  "qs.matmul: each element is the double sum in k order, rounded to float32")
local Xt = qs.tensor((function()
  local l = {}
  for j = 0, N - 1 do for k = 0, K - 1 do l[#l + 1] = X[k * N + j + 1] end end
  return l
end)(), {N, K})
local Yt = qs.matmul(W, Xt, {transpose_b = true})
local same = true
for i = 1, M * N do if Yt[i] ~= Y[i] then same = false end end
ok(same, "transpose_b gives the same product")
raises(function() qs.matmul(W, Xt) end, "rows of 7 do not match the 40 columns",
  "a shape mismatch raises")

-- the integer path, recomputed here
local qw = qs.quantize(W, {format = "int8", granularity = "channel"})
local qx = qs.quantize(X, {format = "uint8", scheme = "asymmetric"})
local qy = qs.quantize(Y, {format = "int8", scheme = "asymmetric"})
local codes, deq, info = qs.int_matmul(qw, qx, qy, {acc = true})
ok(codes.dtype == "int8" and deq.dtype == "float32" and codes.shape[1] == M and
  codes.shape[2] == N, "codes int8 (M, N), dequantized float32")
local wc, xc = qw.codes, qx.codes
local zx, sx, zy, sy = qx.zero_point, qx.scale, qy.zero_point, qy.scale
local acc_ok, mult_ok, qm_ok, code_ok, near_ok, deq_ok = true, true, true, true, true, true
for i = 0, M - 1 do
  local zw, sw = qw.zero_point[i + 1], qw.scale[i + 1]
  local mult = sx * sw / sy
  if info.multiplier[i + 1] ~= mult then mult_ok = false end
  local qm, sh = qs.quantize_multiplier(mult)
  if info.qm[i + 1] ~= qm or info.shift[i + 1] ~= sh then qm_ok = false end
  for j = 0, N - 1 do
    local acc = 0
    for k = 0, K - 1 do
      acc = acc + (wc[i * K + k + 1] - math.tointeger(zw)) * (xc[k * N + j + 1] - zx)
    end
    if info.acc[i * N + j + 1] ~= acc then acc_ok = false end
    local r = qs.requantize(acc, qm, sh) + zy
    local c = math.min(math.max(r, qy.qmin), qy.qmax)
    if codes[i * N + j + 1] ~= c then code_ok = false end
    if math.abs(r - (zy + acc * mult)) > 1 then near_ok = false end
    if deq[i * N + j + 1] ~= f32((c - zy) * sy) then deq_ok = false end
  end
end
ok(acc_ok, "int32 accumulators: sum of (w - zw)(x - zx) over the codes")
ok(mult_ok, "one multiplier per output channel: S_x S_w / S_y in double")
ok(qm_ok, "multipliers quantized as qs.quantize_multiplier does")
ok(code_ok, "codes: clamp(z_y + requantize(acc, m, shift))")
ok(near_ok, "requantized values within 1 of z_y + acc M")
ok(deq_ok, "dequantized: (Q - z_y) S_y in float32")
ok(info.rounding == "double" and info.k == K and info.acc_max > 0, "info: rounding, k, acc_max")
local e_int, e_fq = qs.error(Y, deq), qs.error(Y, qs.matmul(qw:dequant(), qx:dequant()))
ok(e_int.sqnr_db > 25 and math.abs(e_int.sqnr_db - e_fq.sqnr_db) < 3,
  ("integer path %.2f dB close to float fake-quant %.2f dB"):format(e_int.sqnr_db, e_fq.sqnr_db))

local qxt = qs.quantize(Xt, {format = "uint8", scheme = "asymmetric"})
local c2 = qs.int_matmul(qw, qxt, qy, {transpose_x = true})
same = true
for i = 1, M * N do if c2[i] ~= codes[i] then same = false end end
ok(same, "transpose_x gives the same codes")
local c3, _, i3 = qs.int_matmul(qw, qx, qy, {rounding = "single"})
local diff = 0
for i = 1, M * N do diff = math.max(diff, math.abs(c3[i] - codes[i])) end
ok(i3.rounding == "single" and diff <= 1, "single rounding differs by at most one code")

raises(function() qs.int_matmul(qs.quantize(W, {format = "int8", group = 8}), qx, qy) end,
  "the weight must be quantized per tensor or per channel along axis 0",
  "per-group weights are refused")
raises(function() qs.int_matmul(qw, qs.quantize(X, {format = "int12"}), qy) end,
  "at most 8 bits", "codes wider than 8 bits are refused")
raises(function() qs.int_matmul(qw, qx, qy, {rounding = "odd"}) end,
  "unknown rounding 'odd' (accepted: double, single)", "an unknown rounding raises")

-- TFLite reference vectors ([dyadic], tests/data/matmul/dyadic.txt)
local a1, b1 = qs.quantize_multiplier(0.0072474273)
local a2, b2 = qs.quantize_multiplier(1.9999999999990905)
local a3, b3 = qs.quantize_multiplier(1e-10)
ok(a1 == 1992157647 and b1 == -7 and a2 == 1073741824 and b2 == 2 and a3 == 0 and b3 == 0,
  "QuantizeMultiplier reference rows")
local m, s = qs.quantize_multiplier(0.25)
ok(qs.requantize(-2, m, s) == -1 and qs.requantize(-2, m, s, "single") == 0 and
  qs.requantize(-6, m, s) == -2 and qs.requantize(-6, m, s, "single") == -1,
  "double vs single rounding on negative ties (-2, -6 times 0.25)")
raises(function() qs.quantize_multiplier(-1) end, "must be finite and >= 0",
  "a negative multiplier raises")

-- layer_error
local rows = qs.layer_error(W, X, {input = {format = "uint8", scheme = "asymmetric"}})
local stages = {}
for i, r in ipairs(rows) do stages[i] = r.stage end
ok(table.concat(stages, ",") == "weight,W q,W,X q,output grid,integer",
  "layer_error stages", table.concat(stages, ","))
ok(rows[1].sqnr_db == qw.metrics.sqnr_db and
  rows[2].sqnr_db == qs.error(Y, qs.matmul(qw:dequant(), X)).sqnr_db and
  rows[5].sqnr_db == e_int.sqnr_db, "layer_error rows are the direct measurements")
local r2 = qs.layer_error(W, Xt, {weight = {{format = "int4", group = 8}}, input = {format = "int8"}})
ok(r2[1].weight == "int4 g8" and r2[#r2].note:find("per tensor or per channel", 1, true)
  and r2[2].sqnr_db == qs.error(Y, qs.matmul(qs.quantize(W, {format = "int4", group = 8}):dequant(), X)).sqnr_db,
  "X given as (N, K) is used transposed; a stage that does not apply has a note")
