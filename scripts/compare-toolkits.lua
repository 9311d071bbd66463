-- compare-toolkits.lua: one tensor through each toolkit's usual recipe
-- side by side: its preset (scale and zero-point conventions, rounding),
-- scheme, granularity and calibration.
--
--   qscope scripts/compare-toolkits.lua [tensor.npy [bits [out.csv]]]
--
-- Defaults: samples/linear_weight.npy, 8 bits.  A recipe this qscope
-- cannot run (a preset or method it lacks) shows its error in the table.
local path = arg[1] or (qs.samples_dir .. "/linear_weight.npy")
local bits = math.tointeger(tonumber(arg[2] or "8")) or error("bits: an integer")
local out = arg[3]

-- The recipes: what each toolkit does by default for weights (W) and
-- activations (A).  Formats are written for 8 bits and renamed below.
local recipes = {
  {label = "PyTorch W", preset = "torch", format = "int8", scheme = "symmetric",
    granularity = "channel", calib = "minmax"},
  {label = "PyTorch A", preset = "torch", format = "uint8", scheme = "asymmetric",
    calib = "hist_l2"},
  {label = "ONNX Runtime W", preset = "onnxruntime", format = "int8",
    scheme = "symmetric", granularity = "channel", calib = "minmax"},
  {label = "ONNX Runtime A", preset = "onnxruntime", format = "uint8",
    scheme = "asymmetric", calib = "minmax"},
  {label = "TensorRT W", preset = "tensorrt", format = "int8", scheme = "symmetric",
    narrow = true, granularity = "channel", calib = "minmax"},
  {label = "TensorRT A", preset = "tensorrt", format = "int8", scheme = "symmetric",
    narrow = true, calib = "entropy"},
  {label = "ggml Q8_0", preset = "ggml", format = "int8", scheme = "symmetric",
    group = 32, calib = "minmax"},
  {label = "AIMET TF-enhanced", preset = "aimet", format = "uint8",
    scheme = "asymmetric", calib = "sqnr"},
}
for _, r in ipairs(recipes) do r.format = r.format:gsub("8$", tostring(bits)) end

local rows = qs.sweep{tensors = path, specs = recipes}
local name = (path:match("([^/]+)$") or path):gsub("%.npy$", "")
print(("%s through each toolkit's recipe at %d bits:"):format(name, bits))
print(qs.format_table(rows, {"label", "preset", "format", "scheme", "granularity",
  "calib", "storage_bits", "sqnr_db", "mse", "max_abs", "clipped", "error"}))
local best = qs.best(rows, {by = "mse", per = false})[1]
if best then
  print()
  print(("lowest MSE: %s (%.2f dB)"):format(best.label, best.sqnr_db))
end
if out then
  assert(qs.report.save(rows, out))
  print("wrote " .. out)
end
