-- tap.lua: a small TAP producer for Lua tests (tests/lua/t_*.lua, run by
-- the qscope binary under automake's tap-driver).  Depends on nothing but
-- the Lua standard library.
--
--   local tap = require "tap"
--   tap.plan(3)
--   tap.ok(x > 0, "x is positive")
--   tap.near(got, want, 1e-9, "rmse")   -- |got - want| <= tol * max(1, |want|)
--   tap.is(t.dtype, "float32", "dtype")
--   tap.like(msg, "bad argument #1", "message")
--   tap.done()
--
-- A failed check prints "not ok" and '#' lines with what was expected and
-- what came; the script still ends normally (exit status 0 once the plan
-- ran: tap-driver counts the "not ok" lines).  done() prints a summary
-- comment and, when no plan was given, the plan.
local M = {}

local planned, count, failed = nil, 0, 0

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if math.type(v) == "float" then
    if v ~= v then return "nan" end
    return string.format("%.17g", v)
  end
  return tostring(v)
end

local function diag(s)
  for line in (tostring(s) .. "\n"):gmatch("(.-)\n") do
    io.write("#   ", line, "\n")
  end
end
M.diag = diag

function M.note(s) io.write("# ", tostring(s), "\n") end

function M.plan(n)
  assert(math.type(n) == "integer" and n >= 0, "plan: count expected")
  planned = n
  io.write("1..", n, "\n")
end

-- The result of one check; extra is printed as a diagnostic on failure.
function M.ok(cond, name, extra)
  count = count + 1
  -- one line; '#' escaped so that no name reads as a TAP directive
  name = name and (" - " .. tostring(name):gsub("\n", " "):gsub("#", "\\#")) or ""
  if cond then
    io.write("ok ", count, name, "\n")
  else
    failed = failed + 1
    io.write("not ok ", count, name, "\n")
    local info = debug.getinfo(2, "Sl")
    if info and info.short_src then
      local lvl = 2
      -- report the caller of near/is/like, not tap.lua itself
      while info and info.short_src:match("tap%.lua$") do
        lvl = lvl + 1
        info = debug.getinfo(lvl, "Sl")
      end
      if info then diag(("at %s:%d"):format(info.short_src, info.currentline)) end
    end
    if extra ~= nil then diag(extra) end
  end
  return cond and true or false
end

-- Numbers within tol, relative to max(1, |want|) unless abs is true;
-- infinities must be equal, NaN matches only NaN.
function M.near(got, want, tol, name, abs)
  local good
  if type(got) ~= "number" or type(want) ~= "number" then
    good = false
  elseif want ~= want then
    good = got ~= got
  elseif want == math.huge or want == -math.huge then
    good = got == want
  else
    local scale = abs and 1 or math.max(1, math.abs(want))
    good = math.abs(got - want) <= tol * scale
  end
  return M.ok(good, name, not good and
    ("got:  %s\nwant: %s (tolerance %s)"):format(show(got), show(want), show(tol)) or nil)
end

-- Numbers within a relative tolerance: |got - want| <= tol * |want|
-- (0 only matches 0).
function M.rel(got, want, tol, name)
  local good
  if type(got) ~= "number" or type(want) ~= "number" then
    good = false
  elseif want ~= want then
    good = got ~= got
  elseif want == math.huge or want == -math.huge then
    good = got == want
  else
    good = math.abs(got - want) <= tol * math.abs(want)
  end
  return M.ok(good, name, not good and
    ("got:  %s\nwant: %s (relative tolerance %s)"):format(show(got), show(want), show(tol)) or nil)
end

-- Equality (==, so 1 == 1.0); NaN is equal to NaN.
function M.is(got, want, name)
  local good = got == want or (got ~= got and want ~= want)
  return M.ok(good, name, not good and
    ("got:  %s\nwant: %s"):format(show(got), show(want)) or nil)
end

-- A string matching a Lua pattern.
function M.like(str, pattern, name)
  local good = type(str) == "string" and str:find(pattern) ~= nil
  return M.ok(good, name, not good and
    ("got:  %s\nwant: a match for %s"):format(show(str), show(pattern)) or nil)
end

-- f() must raise an error whose message matches pattern (nil: any).
function M.raises(f, pattern, name)
  local good, err = pcall(f)
  if good then
    return M.ok(false, name, "no error raised")
  end
  if pattern == nil then return M.ok(true, name) end
  return M.like(tostring(err), pattern, name)
end

function M.skip(reason, n)
  for _ = 1, n or 1 do
    count = count + 1
    io.write("ok ", count, " # SKIP ", reason or "", "\n")
  end
end

function M.skip_all(reason)
  io.write("1..0 # SKIP ", reason or "", "\n")
  planned = 0
end

function M.failures() return failed end

function M.done()
  if planned == nil then
    io.write("1..", count, "\n")
  elseif planned ~= count then
    io.write("# planned ", planned, " tests but ran ", count, "\n")
  end
  if failed > 0 then
    io.write("# failed ", failed, " of ", count, "\n")
  end
  io.flush()
end

return M
