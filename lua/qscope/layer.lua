-- qs.layer_error: the error of a layer's output W X when W (and X) are
-- quantized, next to the error of the weight itself, in float and in
-- integer-only arithmetic (int8 codes, int32 accumulators, TFLite's
-- fixed-point requantization; see qs.int_matmul).  Loaded by lib.lua.
local qs = ...

local fmt, concat = string.format, table.concat

local function tensor_arg(v, n)
  if type(v) == "string" then
    local t, err = qs.load(v)
    if not t then error(err, 3) end
    return t
  end
  if not qs.is_tensor(v) then
    error(fmt("bad argument #%d to 'layer_error' (tensor or .npy path expected, got %s)",
      n, type(v)), 3)
  end
  return v
end

local function spec_text(s)
  if s == nil then return "float" end
  if s.label then return s.label end
  local parts = {s.format or "int8"}
  if s.scheme == "asymmetric" then parts[#parts + 1] = "asym" end
  if s.granularity and s.granularity ~= "tensor" then
    parts[#parts + 1] = s.granularity == "group" and ("g" .. (s.group or 128))
      or "per-" .. s.granularity
  elseif s.group then
    parts[#parts + 1] = "g" .. s.group
  end
  if s.calib and s.calib ~= "minmax" then parts[#parts + 1] = s.calib end
  if s.rounding and s.rounding ~= "nearest" then parts[#parts + 1] = s.rounding end
  return concat(parts, " ")
end

local function strip(s)
  if s == nil then return nil end
  local c = {}
  for k, v in pairs(s) do if k ~= "label" then c[k] = v end end
  return c
end

local function add_metrics(row, m)
  for _, k in ipairs{"sqnr_db", "mse", "max_abs", "mean_abs", "cosine", "bias"} do
    row[k] = m[k]
  end
  return row
end

--- qs.layer_error(W, X [, opts]) -> rows.
-- W: the weight (out, in...) as a tensor or .npy path, used as a matrix
-- (shape[1], size / shape[1]); X: the input activation, (K, N) with K the
-- weight's columns, or (N, K) (rows of features, used transposed; guessed
-- from the shapes unless opts.transpose_x is given).
-- opts.weight: a spec or a list of specs for W (default int8 per channel);
-- opts.input: a spec for X (default none: X stays float; give one to see
-- W and X quantized and the integer-only path); opts.output: the spec of
-- the integer path's output, calibrated on the float output (default
-- int8 asymmetric); opts.rounding: "double" (gemmlowp, default) or
-- "single" (TFLITE_SINGLE_ROUNDING).
-- One row per weight spec and stage: "weight" (W against its
-- quantization), "W q" (W^ X against W X), "W,X q" (W^ X^), "output
-- grid" (W X quantized to the output grid: the floor of the integer
-- path), "integer" (int8 x int8 -> int32 -> requantized codes,
-- dequantized).  Stages that do not apply carry a note.
function qs.layer_error(W, X, opts)
  W = tensor_arg(W, 1)
  X = tensor_arg(X, 2)
  opts = opts or {}
  local k = W.size // math.max(W.shape[1] or 1, 1)
  if #W.shape < 2 then
    error("bad argument #1 to 'layer_error' (the weight needs two or more dimensions)", 2)
  end
  local tx = opts.transpose_x
  if tx == nil then
    local first, last = X.shape[1], X.shape[#X.shape]
    tx = first ~= k and last == k and #X.shape >= 2
  end
  local wspecs = opts.weight or {format = "int8", granularity = "channel"}
  if wspecs[1] == nil then wspecs = {wspecs} end
  local xspec = opts.input
  local yspec = opts.output or {format = "int8", scheme = "asymmetric"}
  local mm = {transpose_b = tx}
  local ok, Y = pcall(qs.matmul, W, X, mm)
  if not ok then
    error("bad argument #2 to 'layer_error' (" ..
      tostring(Y):gsub("^.-%((.*)%)$", "%1") .. ")", 2)
  end
  local qx, Xh
  if xspec then
    qx = qs.quantize(X, strip(xspec))
    Xh = qx:dequant()
  end
  local qy = qs.quantize(Y, strip(yspec))
  local rows = {}
  local xname = spec_text(xspec)
  for _, ws in ipairs(wspecs) do
    local wname = spec_text(ws)
    local base = function(stage)
      return {weight = wname, input = xname, stage = stage}
    end
    local qw = qs.quantize(W, strip(ws))
    rows[#rows + 1] = add_metrics(base("weight"), qw.metrics)
    rows[#rows].bits = qw.bits
    local Wh = qw:dequant()
    rows[#rows + 1] = add_metrics(base("W q"), qs.error(Y, qs.matmul(Wh, X, mm)))
    if qx then
      rows[#rows + 1] = add_metrics(base("W,X q"), qs.error(Y, qs.matmul(Wh, Xh, mm)))
      rows[#rows + 1] = add_metrics(base("output grid"), qs.error(Y, qy))
      local iok, codes, deq, info = pcall(qs.int_matmul, qw, qx, qy,
        {transpose_x = tx, rounding = opts.rounding})
      if iok then
        local r = add_metrics(base("integer"), qs.error(Y, deq))
        local lo, hi = math.huge, -math.huge
        for _, m in ipairs(info.multiplier) do
          if m < lo then lo = m end
          if m > hi then hi = m end
        end
        r.note = fmt("acc max %d of 2^31; M %s", info.acc_max,
          lo == hi and fmt("%.4g", lo) or fmt("%.4g..%.4g", lo, hi))
        r.codes, r.info = codes, info
        rows[#rows + 1] = r
      else
        local r = base("integer")
        r.note = tostring(codes):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1")
        rows[#rows + 1] = r
      end
    end
  end
  local cols = {"weight"}
  if xspec then cols[#cols + 1] = "input" end
  for _, c in ipairs{"stage", "bits", "sqnr_db", "mse", "max_abs", "cosine"} do
    cols[#cols + 1] = c
  end
  for _, r in ipairs(rows) do
    if r.note then cols[#cols + 1] = "note" break end
  end
  local out = qs.rows(rows, cols)
  out.fields = {"weight", "input", "stage", "bits", "sqnr_db", "mse",
    "max_abs", "mean_abs", "cosine", "bias", "note"}
  out.output = Y
  return out
end
