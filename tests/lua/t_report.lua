-- qs.report: CSV (RFC 4180 quoting, exact numbers), JSON, Markdown, the
-- atomic save and the CSV reader (a sweep's CSV reads back exactly).
local src = os.getenv("top_srcdir") or ".."
local n, plan = 0, 20
print("1.." .. plan)
local function ok(c, name, diag)
  n = n + 1
  print((c and "ok " or "not ok ") .. n .. " - " .. name)
  if not c and diag ~= nil then print("# " .. tostring(diag):gsub("\n", "\n# ")) end
  return c
end
local function slurp(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p '" .. tmp .. "'"))

local rows = qs.rows({
  {name = "plain", n = 3, x = 0.1, flag = true},
  {name = "a,b", n = -7, x = 1 / 3, flag = false},
  {name = 'say "hi"', x = 0 / 0},
  {name = "two\nlines", n = 0, x = math.huge},
  {name = " padded", x = -math.huge},
}, {"name", "n", "x", "flag"})

local csv = qs.report.csv(rows)
local want = 'name,n,x,flag\n' ..
  'plain,3,0.1,true\n' ..
  '"a,b",-7,0.3333333333333333,false\n' ..
  '"say ""hi""",,nan,\n' ..
  '"two\nlines",0,inf,\n' ..
  '" padded",,-inf,\n'
ok(csv == want, "CSV: quoting, doubled quotes, shortest exact numbers, nan/inf, empty nil", csv)

local json = qs.report.json(rows)
local wantj = '[\n' ..
  '  {"name": "plain", "n": 3, "x": 0.1, "flag": true},\n' ..
  '  {"name": "a,b", "n": -7, "x": 0.3333333333333333, "flag": false},\n' ..
  '  {"name": "say \\"hi\\"", "n": null, "x": null, "flag": null},\n' ..
  '  {"name": "two\\nlines", "n": 0, "x": null, "flag": null},\n' ..
  '  {"name": " padded", "n": null, "x": null, "flag": null}\n' ..
  ']\n'
ok(json == wantj, "JSON: an array of objects in column order, null for nan/inf/absent", json)
ok(qs.report.json(qs.rows({}, {"a"})) == "[]\n", "JSON of no rows is []")

local md = qs.report.markdown(qs.rows({{k = "a|b", v = 1.5}, {k = "c", v = 20}}, {"k", "v"}))
ok(md == "| k | v |\n| --- | ---: |\n| a\\|b | 1.5 |\n| c | 20 |\n",
  "Markdown: header, rule, numbers right-aligned, | escaped", md)

-- save: format from the extension, contents as the string functions
for _, ext in ipairs{"csv", "json", "md", "txt"} do
  local p = tmp .. "/rows." .. ext
  local r, err = qs.report.save(rows, p)
  local body = slurp(p)
  local expect = ({csv = csv, json = json, md = qs.report.markdown(rows),
    txt = qs.format_table(rows) .. "\n"})[ext]
  ok(r == true and body == expect, "save ." .. ext, err or body)
end
ok(qs.report.save(rows, tmp .. "/rows.dat", {format = "csv"}) and
  slurp(tmp .. "/rows.dat") == csv, "opts.format overrides the extension")
local s, e = pcall(qs.report.save, rows, tmp .. "/rows.xls")
ok(not s and tostring(e):find("cannot tell the format of", 1, true), "an unknown extension raises", e)

-- failures leave nothing behind
local r, err = qs.report.save(rows, tmp .. "/nodir/rows.csv")
ok(r == nil and type(err) == "string" and err:find("nodir", 1, true),
  "a missing directory: nil, message", err)
assert(os.execute("mkdir '" .. tmp .. "/adir'"))
r, err = qs.report.save(rows, tmp .. "/adir", {format = "csv"})
ok(r == nil and err ~= nil, "renaming over a directory fails with nil, message", err)
local names = qs.listdir(tmp)
ok(table.concat(names, " ") == "adir rows.csv rows.dat rows.json rows.md rows.txt",
  "no temporary files are left", table.concat(names, " "))
assert(qs.report.save(qs.rows({{a = 1}}, {"a"}), tmp .. "/rows.csv"))
ok(slurp(tmp .. "/rows.csv") == "a\n1\n", "saving again replaces the file")

-- read_csv: the same values back
local back = assert(qs.report.read_csv(tmp .. "/rows.dat"))
ok(#back == 5 and back[2].name == "a,b" and back[3].name == 'say "hi"' and
  back[4].name == "two\nlines" and back[5].name == " padded", "read_csv: quoted fields")
ok(back[1].n == 3 and back[2].x == 1 / 3 and back[3].x ~= back[3].x and
  back[4].x == math.huge and back[1].flag == true and back[3].n == nil,
  "read_csv: numbers, nan, inf, booleans, empty")
ok(table.concat(back.columns, ",") == "name,n,x,flag", "read_csv: the header gives the columns")
local miss, merr = qs.report.read_csv(tmp .. "/none.csv")
ok(miss == nil and merr:find("none.csv", 1, true), "read_csv of a missing file: nil, message", merr)

-- a real sweep: every field read back equal
local sw = qs.sweep{tensors = src .. "/tests/data/sweep/a.npy", bits = {3, 8},
  calib = {"minmax", "mse"}, progress = false}
assert(qs.report.save(sw, tmp .. "/sweep.csv"))
local rb = assert(qs.report.read_csv(tmp .. "/sweep.csv"))
local same, diag = #rb == #sw, nil
for i, row in ipairs(sw) do
  for _, c in ipairs(sw.fields) do
    local v, w = row[c], rb[i] and rb[i][c]
    if type(v) == "number" or type(v) == "string" then
      if v ~= w and not (v ~= v and w ~= w) then same, diag = false, c .. ": " .. tostring(v) .. " vs " .. tostring(w) end
    end
  end
end
ok(same, "a sweep's CSV reads back with every number exact", diag)
ok(slurp(tmp .. "/sweep.csv"):match("^tensor,path,shape,numel,format,bits,") ~= nil,
  "the sweep CSV header starts with the fields")

for _, p in ipairs(qs.listdir(tmp)) do os.remove(tmp .. "/" .. p) end
os.remove(tmp)
