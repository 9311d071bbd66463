-- Teaching: qs.explain's steps against the engine's codes and by hand,
-- every rounding rule recomputed, the lessons run headless, qs.random.
local n, plan = 0, 26
print("1.." .. plan)
local function ok(c, name, diag)
  n = n + 1
  print((c and "ok " or "not ok ") .. n .. " - " .. name)
  if not c and diag ~= nil then print("# " .. tostring(diag):gsub("\n", "\n# ")) end
  return c
end
local function f32(x) return (string.unpack("f", string.pack("f", x))) end
local function col(rows, k)
  local t = {}
  for i, r in ipairs(rows) do t[i] = tostring(r[k]) end
  return table.concat(t, ",")
end

local vals = {-1.2, -0.4, 0, 0.35, 0.9, 2.1}
local e = qs.explain(vals, {format = "int4"})
local text = tostring(e)
local S = f32(f32(2.1) / 7)
ok(e.q.scale == S, "int4 symmetric: S = amax / 7 in float32")
ok(text:find("S = amax / (2^(N-1) - 1) = 2.1 / 7 = 0.3", 1, true) and
  text:find("Q(r) = clamp(round(r/S) + Z, qmin, qmax)", 1, true) and
  text:find("r~ = S (Q - Z)", 1, true) and text:find("[qmin, qmax] = [-8, 7]", 1, true),
  "the header names the formulas with the numbers", text)
ok(col(e, "Q") == "-4,-1,0,1,3,7", "codes", col(e, "Q"))
local good = true
for i, r in ipairs(e) do
  if r.Q ~= e.q.codes[i] or r["r~"] ~= f32(S * r.Q) or r.error ~= r["r~"] - r.r then good = false end
end
ok(good, "codes are the engine's; r~ = S Q; error = r~ - r")
ok(e[2]["r/S"]:match("^%s*(.-)$") == "-1.3333335" and e[1]["r/S"]:match("^%s*(.-)$") == "-4.0000005",
  "r/S is shown exactly enough to check the rounding (float32 quotient)", e[2]["r/S"])
ok(text:find("max |r~ - r| 0.1 (S/2 = 0.15), 0 clipped", 1, true) ~= nil, "the footer sums up the error", text)

local a = qs.explain(vals, {format = "uint4", scheme = "asymmetric"})
ok(a.q.zero_point == 5 and col(a, "Q") == "0,3,5,7,9,15" and
  tostring(a):find("Z = qmin - round(lo / S) = 0 - round(-5.4545) = 5", 1, true),
  "asymmetric uint4: the zero point and its formula", tostring(a))
local c = qs.explain({0.5, 2, -3}, {format = "int4", amax = 1})
ok(col(c, "Q") == "3,7,-8" and c[2].note == "clipped" and c[3].note == "clipped" and c[1].note == nil,
  "values outside the range are clipped and marked", col(c, "note"))
local ch = qs.explain(qs.tensor({-1, 2, 3, 4, 10, 20, -30, 40}, {2, 4}),
  {format = "int4", granularity = "channel"})
ok(ch[1].S == ch.q.scale[1] and ch[5].S == ch.q.scale[2] and ch.columns[3] == "S" and ch.columns[4] == "Z",
  "per channel: S and Z columns, each row's own")
ok(ch[2]["r/S"]:match("%S+") == "3.4999998" and ch[2].round == 3 and ch[6]["r/S"]:match("%S+") == "3.5"
  and ch[6].round == 4, "ties to even: 3.4999998 -> 3, 3.5 -> 4")
local g = qs.explain(qs.random({3, 10}, {seed = 4}), {format = "int3", group = 4})
local notes = 0
for _, r in ipairs(g) do if r.note then notes = notes + 1 end end
ok(#g == 30 and notes == 0 and g[5].S == g.q.scale[2] and g[11].S == g.q.scale[4],
  "per group: element -> group mapping, codes agree")

-- every deterministic rule recomputed equals the engine
local t = qs.random(200, {seed = 9, scale = 3})
for _, rule in ipairs{"nearest", "away", "up", "floor", "ceil", "trunc"} do
  local x = qs.explain(t, {format = "int5", rounding = rule, amax = 2.5}, {max = 200})
  local bad = 0
  for _, r in ipairs(x) do if r.note == "engine differs" then bad = bad + 1 end end
  ok(bad == 0 and #x == 200, "rounding " .. rule .. ": the table's codes are the engine's", bad)
end
local st = qs.explain(t, {format = "int4", rounding = "stochastic", seed = 3}, {max = 5})
ok(#st == 5 and tostring(st):find("(5 of 200 values shown)", 1, true) and st[1].round == st[1].Q,
  "stochastic: the rounding column is the engine's draw; max limits the rows")
local s1, e1 = pcall(qs.explain, {1, "x"})
ok(not s1 and e1:find("element 2 is a string", 1, true), "a non-number raises", e1)
local s2, e2 = pcall(qs.explain, {1, 2}, {format = "int99"})
ok(not s2 and e2:find("unknown format", 1, true), "a bad spec raises the engine's message", e2)

-- lessons, headless
local out = {}
local write = io.write
io.write = function(...) for _, s in ipairs{...} do out[#out + 1] = s end end
local list = qs.lessons()
local titles_ok = #list >= 6
for _, l in ipairs(list) do if l.title:find("broken", 1, true) then titles_ok = false end end
local ran, errs = 0, {}
for i = 1, #list do
  local okr, err = pcall(qs.lesson, i)
  if okr then ran = ran + 1 else errs[#errs + 1] = tostring(err) end
end
io.write = write
local all = table.concat(out)
ok(titles_ok, "qs.lessons lists the lessons with titles", tostring(list))
ok(ran == #list, "every lesson runs headless", table.concat(errs, "\n"))
ok(all:find("Lesson 1: Uniform affine quantization", 1, true) and all:find("-> look at:", 1, true)
  and all:find("qscope> qs.explain(", 1, true), "lessons print commands and what to look at")
ok(qs.is_tensor(rawget(_G, "g")) and qs.is_tensor(rawget(_G, "w")), "lessons leave their tensors as globals")
local s3, e3 = pcall(qs.lesson, 99)
ok(not s3 and e3:find("no lesson 99", 1, true), "an unknown lesson raises", e3)

-- qs.random
local r1, r2 = qs.random(1000, {seed = 5}), qs.random(1000, {seed = 5})
local same = true
for i = 1, 1000 do if r1[i] ~= r2[i] then same = false end end
local big = qs.random(100000, {seed = 1}):stats()
local u = qs.random(10000, {dist = "uniform", scale = 2}):stats()
local rl = qs.random(10000, {dist = "relu"}):stats()
local lp = qs.random(100000, {dist = "laplace"}):stats()
ok(same and math.abs(big.mean) < 0.02 and math.abs(big.std - 1) < 0.02 and u.min >= -2 and u.max < 2
  and rl.min == 0 and math.abs(lp.std - math.sqrt(2)) < 0.03,
  "qs.random: deterministic, normal/uniform/relu/laplace moments",
  ("%g %g %g %g %g"):format(big.mean, big.std, u.min, rl.min, lp.std))
