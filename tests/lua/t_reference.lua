-- The integer quantizer against reference values computed independently
-- with numpy (tests/data/ref/make_ref.py): scales, zero points, every code
-- and dequantized value bit for bit, the metrics to 1e-6.
local dir = (os.getenv("top_srcdir") or "..") .. "/tests/data/ref/"
local n, failed = 0, 0
local function ok(cond, name, diag)
  n = n + 1
  print((cond and "ok " or "not ok ") .. n .. " - " .. name)
  if not cond then
    failed = failed + 1
    if diag then print("# " .. tostring(diag):gsub("\n", "\n# ")) end
  end
end

local special = {inf = math.huge, ["-inf"] = -math.huge, nan = 0 / 0}
local function num(w) return tonumber(w) or special[w] end

local function nums(s)
  local t = {}
  for w in s:gmatch("%S+") do t[#t + 1] = assert(tonumber(w), w) end
  return t
end

-- read the cases
local cases, cur = {}, nil
for line in io.lines(dir .. "ref.txt") do
  local k, v = line:match("^(%S+)%s*(.*)$")
  if k == "case" then cur = {name = v}
  elseif k == "end" then cases[#cases + 1] = cur; cur = nil
  elseif cur and k then cur[k] = v end
end
print("1.." .. (#cases * 5))

local function list(v, size)
  if type(v) == "number" then return {v} end
  local t = {}
  for i = 1, v.size do t[i] = v[i] end
  return t
end

for _, c in ipairs(cases) do
  local t = assert(qs.load(dir .. c.input))
  local spec = assert(load("return " .. c.spec))()
  local q = qs.quantize(t, spec)
  -- parameters
  local ws, wz = nums(c.scale), nums(c.zero_point)
  local gs, gz = list(q.scale), list(q.zero_point)
  local good, diag = #gs == #ws and #gz == #wz, ("%d scales, want %d"):format(#gs, #ws)
  for i = 1, #ws do
    if gs[i] ~= ws[i] or gz[i] ~= wz[i] then
      good, diag = false, ("param %d: scale %a zp %s, want %a zp %s"):format(i, gs[i] or 0, gz[i], ws[i], wz[i])
      break
    end
  end
  ok(good, c.name .. ": scales and zero points", diag)
  -- codes
  local wc, codes = nums(c.codes), q.codes
  good, diag = codes.size == #wc, "size"
  for i = 1, #wc do
    if codes[i] ~= wc[i] then
      good, diag = false, ("code %d: %s, want %s"):format(i, codes[i], wc[i]); break
    end
  end
  ok(good, c.name .. ": codes (" .. codes.dtype .. ")", diag)
  -- dequantized values, bit for bit
  local wd, y = nums(c.dequant), q:dequant()
  good, diag = y.size == #wd and y.dtype == "float32", "shape/dtype"
  for i = 1, #wd do
    if y[i] ~= wd[i] then
      good, diag = false, ("value %d: %a, want %a"):format(i, y[i], wd[i]); break
    end
  end
  ok(good, c.name .. ": dequantized values", diag)
  -- metrics
  local e = qs.error(t, q)
  good, diag = true, nil
  for _, k in ipairs{"mse", "max_abs", "mean_abs", "sqnr_db", "cosine", "bias"} do
    local want, got = num(c[k]), e[k]
    local tol = 1e-6 * (want == math.huge and 0 or math.max(math.abs(want), k == "bias" and num(c.mean_abs) or 0)) + 1e-30
    if not (got == want or math.abs(got - want) <= tol) then
      good, diag = false, ("%s: %.17g, want %.17g"):format(k, got, want); break
    end
  end
  ok(good, c.name .. ": metrics", diag)
  ok(e.clipped == tonumber(c.clipped), c.name .. ": clipped fraction",
     ("%.17g, want %s"):format(e.clipped, c.clipped))
end
