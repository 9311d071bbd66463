-- .npy reading against tests/data/npy/fixtures.txt (scripts/make-fixtures.py):
-- files written by numpy or with hand-written headers, each with the dtype,
-- shape and every value numpy reads; broken files, each with the problems
-- one of which the message must name.
--   ok FILE DTYPE [SHAPE] VALUES...  loads; dtype, shape, size; every value
--                                    exactly (C order; the sign of zero;
--                                    NaN); qs.save + qs.load gives it back
--   err FILE PROBLEM | PROBLEM ...   qs.load returns nil and a message that
--                                    names FILE and one PROBLEM (no raise)
local tap = require "tap"
local top = assert(os.getenv("top_srcdir"), "top_srcdir is not set")
local dir = top .. "/tests/data/npy/"

local entries = {}
for line in io.lines(dir .. "fixtures.txt") do
  if not line:match("^#") and line:match("%S") then
    local kind, file, rest = line:match("^(%S+) (%S+) ?(.*)$")
    entries[#entries + 1] = {kind = kind, file = file, rest = rest}
  end
end

local n = 0
for _, e in ipairs(entries) do n = n + (e.kind == "ok" and 3 or 2) end
tap.plan(n)

local special = {nan = 0 / 0, inf = math.huge, ["-inf"] = -math.huge}

local function expected(dtype, w)
  if dtype == "bool" then return w == "true" end
  if dtype:match("^float") then return special[w] or tonumber(w) end
  return math.tointeger(tonumber(w)) or tonumber(w)
end

local function same(got, want, dtype)
  if dtype:match("^float") then
    if want ~= want then return got ~= got end
    if got ~= want then return false end
    if want == 0 then return 1 / got == 1 / want end -- sign of zero
    return true
  end
  if dtype:match("int") then
    -- integers come back as Lua integers (uint64 past 2^63-1 as floats)
    if math.type(want) == "integer" and math.type(got) ~= "integer" then return false end
  end
  return got == want
end

local function show(v)
  if math.type(v) == "float" then return ("%a"):format(v) end
  return tostring(v)
end

-- every value of t against the list; returns ok, first difference
local function check_values(t, want, dtype)
  if t.size ~= #want then return false, ("size %d, want %d"):format(t.size, #want) end
  for k = 1, #want do
    local got = t[k]
    if not same(got, want[k], dtype) then
      return false, ("element %d: got %s (%s), want %s"):format(k, show(got),
        math.type(got) or type(got), show(want[k]))
    end
  end
  return true
end

local tmpdir = os.tmpname()
os.remove(tmpdir)
assert(os.execute("mkdir -p '" .. tmpdir .. "'"))

for _, e in ipairs(entries) do
  local path = dir .. e.file
  if e.kind == "ok" then
    local dtype, shape, vals = e.rest:match("^(%S+) %[([^%]]*)%] ?(.*)$")
    local want_shape, want = {}, {}
    for d in shape:gmatch("%d+") do want_shape[#want_shape + 1] = tonumber(d) end
    for w in vals:gmatch("%S+") do want[#want + 1] = expected(dtype, w) end
    local good, t, msg = pcall(qs.load, path)
    if not good or not t then
      tap.ok(false, e.file .. ": loads", good and msg or ("raised: " .. tostring(t)))
      tap.skip("not loaded", 2)
    else
      local size = 1
      for _, d in ipairs(want_shape) do size = size * d end
      local sh = t.shape
      local ok_shape = #sh == #want_shape and t.size == size
      for k = 1, #want_shape do ok_shape = ok_shape and sh[k] == want_shape[k] end
      tap.ok(t.dtype == dtype and ok_shape,
        ("%s: %s [%s]"):format(e.file, dtype, shape),
        ("got %s [%s] size %s"):format(t.dtype, table.concat(sh, ","), t.size))
      local v_ok, why = check_values(t, want, dtype)
      tap.ok(v_ok, e.file .. ": every value as numpy reads it", why)
      -- saved and loaded again: the same dtype, shape and values
      local out = tmpdir .. "/" .. e.file
      local saved, serr = qs.save(t, out)
      local u, uerr = saved and qs.load(out)
      if not u then
        tap.ok(false, e.file .. ": save + load", serr or uerr)
      else
        local r_ok, rwhy = check_values(u, want, dtype)
        local rsh = u.shape
        r_ok = r_ok and u.dtype == dtype and #rsh == #want_shape
        for k = 1, #want_shape do r_ok = r_ok and rsh[k] == want_shape[k] end
        tap.ok(r_ok, e.file .. ": save + load gives it back",
          rwhy or ("got %s [%s]"):format(u.dtype, table.concat(rsh, ",")))
      end
      os.remove(out)
    end
  else
    local problems = {}
    for p in (e.rest .. " | "):gmatch("%s*(.-)%s+|") do
      if p ~= "" then problems[#problems + 1] = p end
    end
    local good, t, msg = pcall(qs.load, path)
    tap.ok(good and t == nil and type(msg) == "string",
      e.file .. ": nil and a message, no error raised",
      good and ("got %s, %s"):format(tostring(t), tostring(msg)) or ("raised: " .. tostring(t)))
    local m = type(msg) == "string" and msg or ""
    local named = m:find(e.file, 1, true) ~= nil
    -- the problem is looked for in the message without the file's name
    local rest = m:lower()
    local at = rest:find(path:lower(), 1, true)
    if at then rest = rest:sub(1, at - 1) .. rest:sub(at + #path) end
    at = rest:find(e.file:lower(), 1, true)
    if at then rest = rest:sub(1, at - 1) .. rest:sub(at + #e.file) end
    local found = false
    for _, p in ipairs(problems) do
      if rest:find(p:lower(), 1, true) then found = true end
    end
    tap.ok(named and found,
      ("%s: the message names the file and the problem (%s)"):format(e.file, table.concat(problems, " or ")),
      ("message: %q"):format(m))
  end
end
os.remove(tmpdir)
tap.done()
