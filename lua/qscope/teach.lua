-- Teaching: qs.explain (a step-by-step table of one quantization) and
-- qs.lesson (the lessons in lua/lessons/).  Loaded by lib.lua.
local qs = ...

local fmt, concat = string.format, table.concat

-- float32 rounding of a double (the engine computes in float32)
local function f32(x)
  return (string.unpack("f", string.pack("f", x)))
end

local rounders = {
  nearest = function(v)
    local f = math.floor(v)
    local d = v - f
    if d > 0.5 then return f + 1 elseif d < 0.5 then return f end
    return f % 2 == 0 and f or f + 1
  end,
  away = function(v)
    local a = math.floor(math.abs(v) + 0.5)
    return v < 0 and -a or a
  end,
  up = function(v) return math.floor(v + 0.5) end,
  floor = math.floor,
  ceil = math.ceil,
  trunc = function(v) return v < 0 and math.ceil(v) or math.floor(v) end,
}
local rounding_text = {
  nearest = "round to nearest, ties to even",
  away = "round to nearest, ties away from zero",
  up = "round to nearest, ties toward +inf",
  floor = "round down (floor)", ceil = "round up (ceil)",
  trunc = "round toward zero", stochastic = "stochastic rounding: up with probability frac(r/S)",
}

-- The shortest decimal that reads back as the same float32: r/S is shown
-- exactly enough that the rounding step can be checked by eye (3.4999998
-- rounds to 3, 3.5 to 4).
local function short32(v)
  if v ~= v or v == math.huge or v == -math.huge then return qs.cell(v) end
  for p = 5, 9 do
    local s = fmt("%." .. p .. "g", v)
    if f32(tonumber(s)) == v then return s end
  end
  return fmt("%.9g", v)
end

local function num(v)
  if v == nil then return "" end
  if math.type(v) == "integer" then return tostring(v) end
  return qs.cell(v)
end

-- The per-element parameter index (0-based) of flat element i (0-based).
local function param_index(t, spec, i)
  local shape = t.shape
  if spec.granularity == "channel" then
    local a = spec.axis or 0
    if a < 0 then a = a + #shape end
    local inner = 1
    for d = a + 2, #shape do inner = inner * shape[d] end
    return (i // inner) % shape[a + 1]
  elseif spec.granularity == "group" then
    local len = shape[#shape] or 1
    local g = spec.group
    local ng = (len + g - 1) // g
    return (i // len) * ng + (i % len) // g
  end
  return 0
end

local function param(v, p)
  if type(v) == "number" then return v end
  return v[p + 1]
end

local function explain_tostring(r)
  return r.header .. "\n" .. qs.format_table(r, r.columns) .. "\n" .. r.footer
end

--- qs.explain(x [, spec [, {max = 32}]]) -> rows: step by step, how each
-- value of x (a tensor, or a list of numbers) is quantized: the range,
-- the scale S and zero point Z with their formulas, then per value r:
-- r/S, the rounding, the code Q = clamp(round(r/S) + Z, qmin, qmax), the
-- dequantized r~ = S (Q - Z) and its error.  Codes and dequantized
-- values are the engine's (qs.quantize); r/S and the rounding are
-- recomputed in float32 to show the steps.  Prints as a table.
function qs.explain(x, spec, opts)
  local t = x
  if type(x) == "table" then
    for i, v in ipairs(x) do
      if type(v) ~= "number" then
        error(fmt("bad argument #1 to 'explain' (element %d is a %s, not a number)",
          i, type(v)), 2)
      end
    end
    if #x == 0 then error("bad argument #1 to 'explain' (no values)", 2) end
    t = qs.tensor(x)
  elseif not qs.is_tensor(x) then
    error("bad argument #1 to 'explain' (tensor or list of numbers expected, got " ..
      type(x) .. ")", 2)
  end
  spec = spec or {format = "int8"}
  if type(spec) ~= "table" then
    error("bad argument #2 to 'explain' (spec table expected, got " .. type(spec) .. ")", 2)
  end
  opts = opts or {}
  local maxn = opts.max or 32
  local ok, q = pcall(qs.quantize, t, spec)
  if not ok then error(q, 2) end
  local sp = q.spec
  local integer = type(sp.format) == "string" and sp.format:match("^u?int%d+$") ~= nil
    and q.qmin ~= nil and q.scale ~= nil
  local deq = q:dequant()
  local codes = integer and q.codes or nil
  local n = math.min(t.size, maxn)
  local head = {}
  head[1] = fmt("Quantize %d value%s to %s, %s, per %s, calibration %s, %s",
    t.size, t.size == 1 and "" or "s", sp.format, sp.scheme or "?",
    sp.granularity or "tensor", sp.calib or "?", sp.rounding or "nearest")
  local per_tensor = sp.granularity == "tensor" or sp.granularity == nil
  local scale, zp = q.scale, q.zero_point
  if integer and per_tensor then
    local lo, hi = q.lo, q.hi
    local lo0, hi0 = math.min(lo, 0), math.max(hi, 0)
    local nb = tonumber(sp.format:match("%d+"))
    head[#head + 1] = fmt("  range    [lo, hi] = [%s, %s]%s", num(lo), num(hi),
      (lo0 ~= lo or hi0 ~= hi) and fmt(", widened to hold 0: [%s, %s]", num(lo0), num(hi0)) or "")
    if sp.preset then
      head[#head + 1] = fmt("  scale    S = %s (the %s preset's formula)", num(scale), sp.preset)
      head[#head + 1] = fmt("  zero pt  Z = %s", num(zp))
    elseif sp.scheme == "asymmetric" then
      head[#head + 1] = fmt("  scale    S = (hi - lo) / (2^N - 1) = %s / %d = %s",
        num(f32(hi0 - lo0)), 2 ^ nb // 1 - 1, num(scale))
      head[#head + 1] = fmt("  zero pt  Z = qmin - round(lo / S) = %d - round(%s) = %s",
        q.qmin, num(f32(lo0 / scale)), num(zp))
    elseif sp.format:match("^uint") then
      head[#head + 1] = fmt("  scale    S = hi / (2^N - 1) = %s / %d = %s", num(hi0),
        2 ^ nb // 1 - 1, num(scale))
      head[#head + 1] = "  zero pt  Z = 0 (symmetric, unsigned: negative values clip to 0)"
    else
      local amax = math.max(-lo0, hi0)
      head[#head + 1] = fmt("  scale    S = amax / (2^(N-1) - 1) = %s / %d = %s",
        num(amax), 2 ^ (nb - 1) // 1 - 1, num(scale))
      head[#head + 1] = "  zero pt  Z = 0 (symmetric)"
    end
  elseif integer then
    head[#head + 1] = fmt("  one S and Z per %s (%d of them): columns S and Z",
      sp.granularity, (type(scale) == "number") and 1 or scale.size)
  end
  if integer then
    head[#head + 1] = fmt("  codes    Q in [qmin, qmax] = [%d, %d]", q.qmin, q.qmax)
    head[#head + 1] = "  quantize Q(r) = clamp(round(r/S) + Z, qmin, qmax)   dequantize r~ = S (Q - Z)"
    head[#head + 1] = "  rounding " .. (rounding_text[sp.rounding] or sp.rounding)
  else
    head[#head + 1] = fmt("  %s: each value becomes the nearest value the format represents, r~",
      sp.format)
  end
  local rows, disagree = {}, 0
  local rnd = rounders[sp.rounding]
  for i = 1, n do
    local r = t[i]
    rows[i] = {i = i, r = r, ["r~"] = deq[i], error = deq[i] - r}
  end
  if integer then
    for i = 1, n do
      local row, r = rows[i], t[i]
      local p = param_index(t, sp, i - 1)
      local S, Z = param(scale, p), param(zp, p)
      if not per_tensor then row.S, row.Z = S, Z end
      local Q = codes[i]
      row.Q = Q
      if r == r and math.abs(r) ~= math.huge then
        local v = f32(r / S)
        row["r/S"] = v
        local rv = rnd and rnd(v)
        if rv then
          rv = math.tointeger(rv) or rv
          row.round = rv
          if rv + Z < q.qmin or rv + Z > q.qmax then row.note = "clipped" end
          local want = math.min(math.max(rv + Z, q.qmin), q.qmax)
          if want ~= Q then
            row.note = "engine differs"
            disagree = disagree + 1
          end
        else
          row.round = Q - Z
        end
      else
        row.note = r ~= r and "NaN -> Z" or "inf -> Z"
      end
    end
  end
  -- r/S as right-aligned text, exact to float32
  local w = 0
  for _, row in ipairs(rows) do
    if row["r/S"] then
      row["r/S"] = short32(row["r/S"])
      w = math.max(w, #row["r/S"])
    end
  end
  for _, row in ipairs(rows) do
    local s = row["r/S"] or ""
    row["r/S"] = (" "):rep(w - #s) .. s
  end
  local cols = {"i", "r"}
  if integer then
    if not per_tensor then cols[#cols + 1] = "S"; cols[#cols + 1] = "Z" end
    for _, c in ipairs{"r/S", "round", "Q"} do cols[#cols + 1] = c end
  end
  cols[#cols + 1] = "r~"
  cols[#cols + 1] = "error"
  for _, r in ipairs(rows) do
    if r.note then cols[#cols + 1] = "note" break end
  end
  local m = q.metrics
  local foot = {}
  if n < t.size then foot[#foot + 1] = fmt("  (%d of %d values shown)", n, t.size) end
  local half = integer and per_tensor and fmt(" (S/2 = %s)", num(scale / 2)) or ""
  foot[#foot + 1] = fmt("  error: MSE %s, SQNR %s dB, max |r~ - r| %s%s, %d clipped",
    num(m.mse), num(m.sqnr_db), num(m.max_abs), half, m.n_clipped)
  if disagree > 0 then
    foot[#foot + 1] = fmt("  %d code%s computed differently by the engine than the " ..
      "plain formula (the preset's own arithmetic)", disagree, disagree == 1 and "" or "s")
  end
  local out = qs.rows(rows, cols)
  out.header = concat(head, "\n")
  out.footer = concat(foot, "\n")
  out.q = q
  local mt = {}
  for k, v in pairs(getmetatable(out)) do mt[k] = v end
  mt.__tostring = explain_tostring
  return setmetatable(out, mt)
end

-- Lessons ----------------------------------------------------------------------

local function lesson_dir()
  return os.getenv("QSCOPE_LESSONS") or (qs.lua_dir .. "/lessons")
end

local function lesson_files()
  local names, err = qs.listdir(lesson_dir())
  if not names then return nil, err end
  local out = {}
  for _, n in ipairs(names) do
    if n:match("%.lua$") then out[#out + 1] = lesson_dir() .. "/" .. n end
  end
  return out
end

local function load_lesson(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then error(err, 0) end
  local l = chunk()
  if type(l) ~= "table" or type(l.run) ~= "function" then
    error(path .. ": a lesson returns {title = ..., run = function(L) ... end}", 0)
  end
  return l
end

--- qs.lessons() -> rows: number, title and file of each lesson.
function qs.lessons()
  local files, err = lesson_files()
  if not files then return nil, err end
  local rows = {}
  for i, p in ipairs(files) do
    local ok, l = pcall(load_lesson, p)
    rows[i] = {n = i, title = ok and l.title or ("(broken: " .. tostring(l) .. ")"),
      file = p:match("([^/]+)$")}
  end
  return qs.rows(rows, {"n", "title", "file"})
end

-- The helper a lesson's run(L) gets: it works in the workbench (the ui
-- table is there) and headless (it prints instead).
local function helper(out)
  local L = {}
  local bench = type(rawget(_G, "ui")) == "table"
  L.workbench = bench
  L.samples = qs.samples_dir
  function L.say(text)
    out("\n" .. text:gsub("^%s*\n", ""):gsub("\n%s*$", "") .. "\n")
  end
  function L.look(text)
    out("  -> look at: " .. text .. "\n")
  end
  --- L.tensor(name, t_or_path): load a tensor, make it the global `name`
  -- and, in the workbench, show it.
  function L.tensor(name, v)
    local t = v
    if type(v) == "string" then
      local path = v:find("/") and v or (qs.samples_dir .. "/" .. v)
      local err
      t, err = qs.load(path)
      if not t then error(err, 2) end
    end
    _G[name] = t
    L.current = t
    if bench then
      local idx = ui.add(t, name)
      ui.set{tensor = idx}
    end
    out(fmt("  %s = %s\n", name, tostring(t)))
    return t
  end
  --- L.view(settings [, t]): set the workbench view (ui.set), or headless
  -- print what it would show: the quantization of the tensor (the last
  -- one L.tensor made, by default).
  function L.view(settings, t)
    t = t or L.current
    if bench then
      ui.set(settings)
      return
    end
    local spec = {}
    for k, v in pairs(settings) do
      if k ~= "tensor" and k ~= "log" and k ~= "zoom" then spec[k] = v end
    end
    if t then out("  " .. tostring(qs.quantize(t, spec)) .. "\n") end
  end
  --- L.show(code): print a command, run it, print its value (what a
  -- student types at the prompt).
  function L.show(code)
    out("qscope> " .. code .. "\n")
    local f = load("return " .. code, "=lesson", "t") or assert(load(code, "=lesson", "t"))
    local res = table.pack(f())
    if res.n > 0 then
      local parts = {}
      for i = 1, res.n do parts[i] = tostring(res[i]) end
      out(concat(parts, "\t") .. "\n")
    end
    return table.unpack(res, 1, res.n)
  end
  return L
end

--- qs.lesson(n) -> the lesson's title: run lesson n (a number, or part
-- of a file name) of lua/lessons/: it sets up tensors (as globals, and in
-- the workbench as views) and prints what to look at.
function qs.lesson(n)
  local files, err = lesson_files()
  if not files then error("no lessons: " .. err, 2) end
  local path
  if math.type(n) == "integer" then
    path = files[n]
  elseif type(n) == "string" then
    for _, p in ipairs(files) do
      if p:match("([^/]+)$"):find(n, 1, true) then path = p break end
    end
  else
    error("bad argument #1 to 'lesson' (lesson number or name expected, got " .. type(n) .. ")", 2)
  end
  if not path then
    error(fmt("bad argument #1 to 'lesson' (no lesson %s: there are %d, see qs.lessons())",
      tostring(n), #files), 2)
  end
  local l = load_lesson(path)
  local out = function(s) io.write(s) end
  local i = 1
  for k, p in ipairs(files) do if p == path then i = k end end
  out(fmt("Lesson %d: %s\n", i, l.title))
  l.run(helper(out))
  return l.title
end

-- Random tensors ------------------------------------------------------------------

local M53 = 2.0 ^ -53

--- qs.random(shape [, {dist = "normal", scale = 1, seed = 1}]) -> a
-- float32 tensor of the shape (a number or a list) with values drawn from
-- "normal", "uniform" (in [-scale, scale)), "laplace" or "relu"
-- (max(0, normal)).  A pure function of the seed and the index
-- (SplitMix64, Box-Muller), the same on every machine: for lessons,
-- tests and examples.
function qs.random(shape, opts)
  if type(shape) == "number" then shape = {shape} end
  if type(shape) ~= "table" then
    error("bad argument #1 to 'random' (shape expected, got " .. type(shape) .. ")", 2)
  end
  opts = opts or {}
  local dist, scale = opts.dist or "normal", opts.scale or 1
  local seed = math.tointeger(opts.seed or 1)
  if not seed then error("bad argument #2 to 'random' (seed must be an integer)", 2) end
  local n = 1
  for i, d in ipairs(shape) do
    if math.type(d) ~= "integer" or d < 0 then
      error(fmt("bad argument #1 to 'random' (dimension %d is not a count)", i), 2)
    end
    n = n * d
  end
  local state = seed * 0x632BE59BD9B4E019
  local function u01()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    z = z ~ (z >> 31)
    return ((z >> 11) + 0.5) * M53
  end
  local v = {}
  local log, sqrt, cos, sin, pi = math.log, math.sqrt, math.cos, math.sin, math.pi
  if dist == "normal" or dist == "relu" then
    local relu = dist == "relu"
    for i = 1, n, 2 do
      local r, a = sqrt(-2 * log(u01())), 2 * pi * u01()
      local x, y = scale * r * cos(a), scale * r * sin(a)
      if relu then x, y = math.max(x, 0), math.max(y, 0) end
      v[i] = x
      if i < n then v[i + 1] = y end
    end
  elseif dist == "uniform" then
    for i = 1, n do v[i] = scale * (2 * u01() - 1) end
  elseif dist == "laplace" then
    for i = 1, n do
      local u = u01() - 0.5
      v[i] = -scale * (u < 0 and -1 or 1) * log(1 - 2 * math.abs(u))
    end
  else
    error(fmt("bad argument #2 to 'random' (unknown dist '%s' (accepted: normal, " ..
      "uniform, laplace, relu))", tostring(dist)), 2)
  end
  return qs.tensor(v, shape)
end
