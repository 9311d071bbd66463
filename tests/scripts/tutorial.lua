-- tutorial.lua: run every command of docs/tutorial.md and check its
-- output (TAP), so the tutorial never rots.
--
--   cd <source dir> && qscope tests/scripts/tutorial.lua docs/tutorial.md
--   cd <source dir> && qscope tests/scripts/tutorial.lua docs/tutorial.md --update
--
-- ```lua blocks run in one Lua state, in order, like a session at the
-- prompt; ```sh blocks run with sh in the source directory, `qscope`
-- being $QSCOPE.  A ```text block right after a command block is its
-- expected output: words must match, numbers to 2e-3 relative (the last
-- printed digit of a metric may differ between machines).  A command
-- without one must run without error (its own asserts are the check).
-- A line `<!-- needs format: a b -->` before a block skips it, visibly,
-- unless the engine accepts one of the formats (features still to come).
-- Paths under /tmp are redirected into a private temporary directory.
-- --update rewrites the file with the outputs of this run.
local path = arg[1] or "docs/tutorial.md"
local update = arg[2] == "--update"
local qscope = os.getenv("QSCOPE") or "qscope"
local tprint, twrite = print, io.write

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p '" .. tmp .. "'"))

local lines = {}
for l in io.lines(path) do lines[#lines + 1] = l end

-- blocks: {lang, first, last (fence lines), code, needs, out (text block)}
local blocks, i = {}, 1
local pending_needs
while i <= #lines do
  local l = lines[i]
  local needs = l:match("^<!%-%- needs format: (.-) %-%->$")
  if needs then pending_needs = needs end
  local lang = l:match("^```(%w*)")
  if lang then
    local j = i + 1
    while j <= #lines and not lines[j]:match("^```%s*$") do j = j + 1 end
    local b = {lang = lang, first = i, last = j,
      code = table.concat(lines, "\n", i + 1, j - 1)}
    if lang == "lua" or lang == "sh" then
      b.needs = pending_needs
      blocks[#blocks + 1] = b
    elseif lang == "text" and blocks[#blocks] and not blocks[#blocks].out then
      -- the output of the command block just before (blank lines between)
      local prev = blocks[#blocks]
      local only_blank = true
      for k = prev.last + 1, i - 1 do
        if lines[k]:match("%S") then only_blank = false end
      end
      if only_blank then prev.out = b end
    end
    pending_needs = nil
    i = j + 1
  else
    if l:match("%S") and not needs then pending_needs = pending_needs and nil end
    i = i + 1
  end
end

local function accepts(list)
  for f in list:gmatch("%S+") do
    if pcall(qs.quantize, qs.tensor({0.5, -1}), {format = f}) then return f end
  end
end

-- /tmp paths in a command, redirected into the private directory
local function redirect(code)
  local t = tmp:gsub("%%", "%%%%")
  return (code:gsub("/tmp([/%s\"'])", t .. "%1"):gsub("/tmp$", t))
end

local function norm(s)
  s = s:gsub(tmp:gsub("%p", "%%%0"), "/tmp")
  local out = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do out[#out + 1] = (l:gsub("%s+$", "")) end
  while #out > 0 and out[#out] == "" do out[#out] = nil end
  return out
end

-- words equal, numbers within 2e-3 relative
local function same(got, want)
  if #got ~= #want then
    return false, ("%d lines, expected %d"):format(#got, #want)
  end
  for k = 1, #got do
    local a, b = {}, {}
    for w in got[k]:gmatch("%S+") do a[#a + 1] = w end
    for w in want[k]:gmatch("%S+") do b[#b + 1] = w end
    local good = #a == #b
    for m = 1, math.min(#a, #b) do
      if a[m] ~= b[m] then
        local x, y = tonumber(a[m]), tonumber(b[m])
        if not (x and y and math.abs(x - y) <= 2e-3 * math.max(math.abs(x), math.abs(y)) + 1e-12) then
          good = false
        end
      end
    end
    if not good then return false, ("line %d: got  %s\n        want %s"):format(k, got[k], want[k]) end
  end
  return true
end

local function run_lua(code)
  local buf = {}
  print = function(...)
    local n = select("#", ...)
    local t = {}
    for k = 1, n do t[k] = tostring((select(k, ...))) end
    buf[#buf + 1] = table.concat(t, "\t") .. "\n"
  end
  io.write = function(...)
    for _, s in ipairs{...} do buf[#buf + 1] = tostring(s) end
    return io.stdout
  end
  local chunk, err = load(redirect(code), "=tutorial", "t")
  local ok = chunk ~= nil
  if chunk then ok, err = pcall(chunk) end
  print, io.write = tprint, twrite
  return ok, table.concat(buf), err
end

local function run_sh(code)
  local script = tmp .. "/block.sh"
  local f = assert(io.open(script, "w"))
  f:write("qscope() { '", qscope, "' \"$@\"; }\n", redirect(code), "\n")
  f:close()
  local p = io.popen("sh '" .. script .. "' 2>&1")
  local out = p:read("a")
  local ok, _, status = p:close()
  return ok, out, ok and nil or ("exit status " .. tostring(status))
end

local runnable = 0
for _, b in ipairs(blocks) do runnable = runnable + 1 end
tprint("1.." .. runnable)
local n, outputs = 0, {}
for _, b in ipairs(blocks) do
  n = n + 1
  local first = b.code:match("[^\n]*")
  local name = ("%s:%d %s"):format(path:match("[^/]+$"), b.first, first)
  if b.needs and not accepts(b.needs) then
    tprint(("ok %d - %s # SKIP feature %s not available"):format(n, name, b.needs))
  else
    local ok, out, err
    if b.lang == "lua" then ok, out, err = run_lua(b.code) else ok, out, err = run_sh(b.code) end
    outputs[b] = out
    local good, diag = ok, err
    if ok and b.out and not update then
      good, diag = same(norm(out), norm(b.out.code))
    end
    tprint(("%s %d - %s"):format(good and "ok" or "not ok", n, name))
    if not good then
      tprint("# " .. tostring(diag):gsub("\n", "\n# "))
      if ok then tprint("# output:\n# " .. out:gsub("\n", "\n# ")) end
    end
  end
end

if update then
  local out, k = {}, 1
  while k <= #lines do
    local b
    for _, x in ipairs(blocks) do if x.first == k then b = x end end
    if b then
      for m = b.first, b.last do out[#out + 1] = lines[m] end
      k = b.last + 1
      local o = outputs[b] and norm(outputs[b])
      if b.out then k = b.out.last + 1 end
      if o and #o > 0 then
        out[#out + 1] = "```text"
        for _, l in ipairs(o) do out[#out + 1] = l end
        out[#out + 1] = "```"
      elseif b.out and not outputs[b] then
        for m = b.out.first, b.out.last do out[#out + 1] = lines[m] end
      end
    else
      out[#out + 1] = lines[k]
      k = k + 1
    end
  end
  local f = assert(io.open(path, "w"))
  f:write(table.concat(out, "\n"), "\n")
  f:close()
end

for _, name in ipairs(qs.listdir(tmp) or {}) do os.remove(tmp .. "/" .. name) end
os.remove(tmp)
