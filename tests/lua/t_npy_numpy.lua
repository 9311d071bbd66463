-- .npy files written by numpy (tests/data/npy/make_npy.py): every dtype in
-- both byte orders, C and Fortran order, ranks 0 to 5, versions 1.0 to 3.0,
-- special float values.  Each file's dtype, shape and every value must be
-- what numpy reads.
local dir = (os.getenv("top_srcdir") or "..") .. "/tests/data/npy/"
local special = {nan = 0 / 0, inf = math.huge, ["-inf"] = -math.huge}
local lines = {}
for line in io.lines(dir .. "manifest.txt") do lines[#lines + 1] = line end
print("1.." .. #lines)
for i, line in ipairs(lines) do
  local file, dtype, shape, vals = line:match("^(%S+) (%S+) %(([^)]*)%) ?(.*)$")
  local t, msg = qs.load(dir .. file)
  local good, diag = t ~= nil, msg
  if good then
    local want = {}
    for d in shape:gmatch("%d+") do want[#want + 1] = tonumber(d) end
    good = t.dtype == dtype and #t.shape == #want
    diag = ("dtype %s shape {%s}"):format(t.dtype, table.concat(t.shape, ","))
    for k = 1, #want do good = good and t.shape[k] == want[k] end
    local k = 0
    for w in vals:gmatch("%S+") do
      k = k + 1
      local v = t[k]
      local exp
      if dtype == "bool" then exp = w ~= "0"
      elseif dtype:match("^float") then exp = tonumber(w) or special[w]
      else exp = math.tointeger(tonumber(w)) or tonumber(w) end
      local same = v == exp or (exp ~= exp and v ~= v)
      if same and dtype:match("^float") and exp == 0 then
        same = (1 / v) == (1 / exp) -- the sign of zero
      end
      if not same and good then
        good, diag = false, ("element %d: %s, want %s"):format(k, tostring(v), w)
      end
    end
    if k ~= t.size and good then good, diag = false, ("size %d, want %d"):format(t.size, k) end
  end
  print((good and "ok " or "not ok ") .. i .. " - " .. file .. " (" .. dtype .. ")")
  if not good then print("# " .. tostring(diag)) end
end
