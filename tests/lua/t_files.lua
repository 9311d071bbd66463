-- Checkpoint files (tests/data/files/, made by make_files.py with numpy and
-- torch): every tensor of manifest.txt loads with its dtype, shape and
-- values; row ranges and channels equal the same parts of the whole;
-- listings, errors, and the safetensors writer.
local dir = (os.getenv("top_srcdir") or "..") .. "/tests/data/files/"
local n, fails = 0, 0
local function ok(cond, name, diag)
  n = n + 1
  print((cond and "ok " or "not ok ") .. n .. " - " .. name)
  if not cond then
    fails = fails + 1
    if diag then print("# " .. tostring(diag)) end
  end
end
local special = {nan = 0 / 0, inf = math.huge, ["-inf"] = -math.huge}
local function same(v, w, dtype)
  local exp
  if dtype == "bool" then exp = w ~= "0"
  elseif dtype:match("^float") or dtype == "bfloat16" then exp = tonumber(w) or special[w]
  else exp = math.tointeger(tonumber(w)) or tonumber(w) end
  if exp ~= exp then return v ~= v end
  if v ~= exp then return false end
  if type(exp) == "number" and exp == 0 and dtype ~= "bool" and math.type(exp) == "float" then
    return 1 / v == 1 / exp
  end
  return true
end

-- numpy's C-order index arithmetic, written here independently of the
-- engine: the flat indices of t[..., a:b, ...] along axis k (1-based).
local function part_indices(shape, k, a, b)
  local inner, outer = 1, 1
  for i = k + 2, #shape do inner = inner * shape[i] end
  for i = 1, k do outer = outer * shape[i] end
  local dim, out = shape[k + 1], {}
  for o = 0, outer - 1 do
    for c = a, b - 1 do
      for j = 0, inner - 1 do out[#out + 1] = (o * dim + c) * inner + j + 1 end
    end
  end
  return out
end

local entries = {}
for line in io.lines(dir .. "manifest.txt") do
  local file, name, dtype, shape, vals = line:match("^(%S+) (%S+) (%S+) %(([^)]*)%) ?(.*)$")
  local sh = {}
  for d in shape:gmatch("%d+") do sh[#sh + 1] = tonumber(d) end
  local v = {}
  for w in vals:gmatch("%S+") do v[#v + 1] = w end
  entries[#entries + 1] = {file = file, name = name, dtype = dtype, shape = sh, vals = v}
end

-- 1. every tensor whole
for _, e in ipairs(entries) do
  local t, msg = qs.load(dir .. e.file, e.name)
  local good, diag = t ~= nil, msg
  if good then
    good = t.dtype == e.dtype and #t.shape == #e.shape and t.size == #e.vals
    diag = ("dtype %s shape {%s} size %d"):format(t.dtype, table.concat(t.shape, ","), t.size)
    for k = 1, #e.shape do good = good and t.shape[k] == e.shape[k] end
    for k = 1, good and #e.vals or 0 do
      if not same(t[k], e.vals[k], e.dtype) then
        good, diag = false, ("element %d: %s, want %s"):format(k, tostring(t[k]), e.vals[k])
        break
      end
    end
  end
  ok(good, ("%s %s (%s)"):format(e.file, e.name, e.dtype), diag)
end

-- 2. parts: first rows, a channel on the last axis, float32 conversion
for _, e in ipairs(entries) do
  if #e.shape >= 2 and e.shape[1] >= 2 then
    local last = #e.shape - 1
    local ch = e.shape[#e.shape] - 1
    local cases = {
      {{rows = {1, e.shape[1]}}, part_indices(e.shape, 0, 1, e.shape[1]), "rows"},
      {{axis = last, channel = ch}, part_indices(e.shape, last, ch, ch + 1), "channel"},
      {{axis = -1, range = {0, 1}, dtype = "float32"}, part_indices(e.shape, last, 0, 1), "range f32"},
    }
    for _, c in ipairs(cases) do
      local t, msg = qs.load(dir .. e.file, e.name, c[1])
      local good, diag = t ~= nil and t.size == #c[2], msg
      if good then
        local dt = c[1].dtype and "float32" or e.dtype
        good = t.dtype == dt
        for k, idx in ipairs(c[2]) do
          local w = e.vals[idx]
          if dt == "float32" and e.dtype == "bool" then
            w = w == "0" and "0.0" or "1.0"
          elseif dt == "float32" and e.dtype ~= "float32" then
            -- the element as a double, then rounded to float32
            local x = tonumber(w) or special[w]
            if x == x then
              w = ("%.17g"):format(string.unpack("f", string.pack("f", x + 0.0)))
              if w == "inf" or w == "-inf" then w = w end
            else
              w = "nan"
            end
          end
          if not same(t[k], w, dt) then
            good, diag = false, ("element %d: %s, want %s"):format(k, tostring(t[k]), w)
            break
          end
        end
      elseif t then
        diag = ("size %d, want %d"):format(t.size, #c[2])
      end
      ok(good, ("%s %s %s"):format(e.file, e.name, c[3]), diag)
    end
  end
end

-- 3. listings
local l = assert(qs.list(dir .. "dtypes.safetensors"))
ok(l.format == "safetensors" and #l == 15 and l.metadata.format == "pt"
   and l.metadata.source == "make_files.py", "dtypes.safetensors listing", #l)
local names = {}
for _, e in ipairs(l) do names[#names + 1] = e.name end
ok(table.concat(names, " ") == "bf16 bool f8_e4m3 f8_e5m2 f16 f32 f64 i8 i16 i32 i64 u8 u16 u32 u64",
   "listing in natural order", table.concat(names, " "))
local bf = l[1]
ok(bf.dtype == "bfloat16" and bf.file_dtype == "BF16" and bf.size == 9 and bf.bytes == 18
   and bf.supported and bf.shape[1] == 3 and bf.file == dir .. "dtypes.safetensors"
   and bf.offset > 8, "a listing entry's fields")
l = assert(qs.list(dir .. "sharded/model.safetensors.index.json"))
names = {}
for _, e in ipairs(l) do names[#names + 1] = e.name end
ok(l.format == "safetensors-index" and #l == 13 and names[1] == "embed"
   and names[4] == "model.layers.2.weight" and names[13] == "model.layers.11.weight"
   and l.metadata.total_size == "656", "sharded listing, natural order", table.concat(names, " "))
ok(l[2].file:match("model%-00001%-of%-00002%.safetensors$")
   and l[3].file:match("model%-00002%-of%-00002%.safetensors$"), "entries name their shard")
local ld = assert(qs.list(dir .. "sharded"))
ok(#ld == 13 and ld.format == "safetensors-index", "a directory lists its index")
l = assert(qs.list(dir .. "arrays_deflated.npz"))
ok(l.format == "npz" and #l == 5 and l[1].name == "a" and l[2].file_dtype == ">i2"
   and l[4].name == "f" and l[4].shape[3] == 4, "npz listing")
l = assert(qs.list(dir .. "model.gguf"))
local q
for _, e in ipairs(l) do if e.name == "q" then q = e end end
ok(l.format == "gguf" and #l == 5 and q and not q.supported and q.dtype == "Q8_0"
   and q.bytes == 34 and l.metadata["general.architecture"] == "llama"
   and l.metadata["llama.block_count"] == "1" and l.metadata["test.f32"] == "0.25"
   and l.metadata["test.flag"] == "true" and l.metadata["tokenizer.ggml.tokens"] == nil,
   "gguf listing: quantized listed, scalar metadata kept, arrays skipped")
l = assert(qs.list(dir .. "bomb.npz"))
ok(#l == 1 and l[1].size == 4096 * 4096 and l[1].bytes == 4096 * 4096 * 4, "bomb listing reads the header only")

-- 4. errors: nil, message naming the file
local function fails_with(pat, name, ...)
  local t, msg = qs.load(...)
  ok(t == nil and type(msg) == "string" and msg:find(pat, 1, true) ~= nil, name, msg)
end
fails_with("holds 15 tensors; name the one to load", "no name, many tensors", dir .. "dtypes.safetensors")
fails_with("no tensor 'nope'", "unknown tensor", dir .. "dtypes.safetensors", "nope")
fails_with("no member 'nope'", "unknown member", dir .. "arrays.npz", "nope")
fails_with("has ggml type Q8_0, which cannot be loaded", "quantized GGUF tensor", dir .. "model.gguf", "q")
fails_with("range [2, 9) outside axis 0 of length 6", "rows past the end", dir .. "layout.safetensors", "w", {rows = {2, 9}})
fails_with("axis 5 out of range for a 2-d tensor", "axis past the rank", dir .. "layout.safetensors", "w", {axis = 5, channel = 0})
fails_with("a 0-d tensor has no axis", "part of a 0-d tensor", dir .. "layout.safetensors", "scalar", {rows = {0, 1}})
fails_with("No such file or directory", "missing file", dir .. "nope.safetensors", "w")
fails_with("unknown file format", "unknown format", dir .. "manifest.txt", "x")
local function raises(pat, name, f)
  local okc, msg = pcall(f)
  ok(not okc and tostring(msg):find(pat, 1, true) ~= nil, name, msg)
end
raises("unknown option 'row'", "unknown option raises", function() qs.load(dir .. "layout.safetensors", "w", {row = {0, 1}}) end)
raises("give one of rows, range, channel", "contradictory options raise",
       function() qs.load(dir .. "layout.safetensors", "w", {rows = {0, 1}, channel = 2}) end)
raises("start 3 > stop 1", "reversed range raises", function() qs.load(dir .. "layout.safetensors", "w", {rows = {3, 1}}) end)
raises("accepted: float32", "dtype other than float32 raises",
       function() qs.load(dir .. "layout.safetensors", "w", {dtype = "int8"}) end)

-- 5. the .npy path of qs.load is unchanged; a .npy file also takes parts
local npy = (os.getenv("top_srcdir") or "..") .. "/tests/data/npy/f4_le.npy"
local whole = assert(qs.load(npy))
local first = assert(qs.load(npy, {rows = {0, 1}}))
ok(whole.name == npy and first.size * whole.shape[1] == whole.size and first[1] == whole[1],
   ".npy whole and a row range")
local t, msg = qs.load(dir .. "nope.npy")
ok(t == nil and msg == dir .. "nope.npy: No such file or directory", ".npy error message unchanged", msg)

-- 6. NaN and Inf load as they are and are counted apart by stats
local f32 = assert(qs.load(dir .. "dtypes.safetensors", "f32"))
local s = f32:stats()
ok(s.nan == 1 and s.inf == 1 and s.count == 4, "NaN and Inf counted by stats", ("%d %d %d"):format(s.nan, s.inf, s.count))

-- a tensor of nothing but NaN and Inf: loads; every statistic leaves them
-- out and counts them; quantization calibrates on nothing (scale 1)
local tmp0 = os.getenv("TMPDIR") or "/tmp"
local nanf = ("%s/qs_t_files_nan_%d.safetensors"):format(tmp0, math.floor(qs.clock() * 1e6) % 1000000)
assert(qs.save_tensors(nanf, {x = qs.tensor({0 / 0, math.huge, -math.huge, 0 / 0, 0 / 0, math.huge})}))
local xn = assert(qs.load(nanf, "x"))
local sn = xn:stats()
ok(sn.count == 0 and sn.nan == 3 and sn.inf == 3 and sn.min ~= sn.min, "all-NaN/Inf tensor: stats count them")
local qn = qs.quantize(xn, {format = "int8"})
ok(qn.scale == 1 and qn.metrics.count == 0 and qn.metrics.nan == 3 and qn.metrics.inf == 3,
   "all-NaN/Inf tensor: quantized with scale 1, nothing measured")
local pn = assert(qs.load(nanf, "x", {rows = {1, 3}}))
ok(pn[1] == math.huge and pn[2] == -math.huge, "all-NaN/Inf tensor: a part keeps the values")
os.remove(nanf)

-- 7. the writer: round trip of every dtype, refusal to replace an input
local tmp = os.getenv("TMPDIR") or "/tmp"
local out = ("%s/qs_t_files_%d.safetensors"):format(tmp, math.floor(qs.clock() * 1e6) % 1000000)
local all = {}
for _, e in ipairs(assert(qs.list(dir .. "dtypes.safetensors"))) do
  all[e.name] = assert(qs.load(dir .. "dtypes.safetensors", e.name))
end
all.part = assert(qs.load(dir .. "layout.safetensors", "w", {axis = 1, channel = 3}))
ok(qs.save_tensors(out, all) == true, "save_tensors writes every dtype")
local back = assert(qs.list(out))
ok(#back == 16, "written file lists 16 tensors", #back)
local good = true
for name, t0 in pairs(all) do
  local t1 = qs.load(out, name)
  good = good and t1 and t1.dtype == t0.dtype and t1.size == t0.size
  for k = 1, good and t0.size or 0 do
    local a, b = t0[k], t1[k]
    good = good and (a == b or (a ~= a and b ~= b))
  end
end
ok(good, "every tensor reads back identically")
local held = assert(qs.load(out, "f32"))
local r, m = qs.save_tensors(out, {f32 = held})
ok(r == nil and m:find("would replace the file tensor 'f32' was loaded from", 1, true), "refuses to replace an input", m)
ok(qs.save_tensors(out, {f32 = held}, {overwrite = true}) == true, "replaces it when asked")
ok(held[4] == all.f32[4] and #assert(qs.list(out)) == 1, "the mapped tensor survives the replacement")
os.remove(out)

-- 8. a header of exactly the reference cap (100,000,000 bytes of JSON and
-- spaces) is read, quickly: it is parsed in place from the file mapping
local cap = ("%s/qs_t_files_cap_%d.safetensors"):format(tmp, math.floor(qs.clock() * 1e6) % 1000000)
local js = '{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}'
local f = assert(io.open(cap, "wb"))
f:write(string.pack("<I8", 100000000), js)
local spaces, left = (" "):rep(1 << 20), 100000000 - #js
while left > 0 do
  local k = math.min(left, #spaces)
  f:write(k == #spaces and spaces or spaces:sub(1, k))
  left = left - k
end
f:write("\7\9")
f:close()
local t0 = qs.clock()
local xt = qs.load(cap, "x")
local dt = qs.clock() - t0
ok(xt and xt[2] == 9, "a 100,000,000-byte header is read")
ok(dt < 10, ("... in %.2f s"):format(dt))
local fw = assert(io.open(cap, "r+b"))
fw:write(string.pack("<I8", 100000001))
fw:close()
local r8, m8 = qs.list(cap)
ok(r8 == nil and m8:find("header of 100000001 bytes exceeds the limit of 100000000", 1, true),
   "one byte more is refused before reading", m8)
os.remove(cap)

print("1.." .. n)
