-- Lesson 6: the error that matters is the layer's output.
return {
  title = "Layer outputs: integer-only matmul and requantization",
  run = function(L)
    L.say[[
An integer-only layer multiplies int8 codes and sums them in int32, then
turns the int32 sums into output codes with one fixed-point multiplier
M = S_w S_x / S_y = m 2^(shift-31) (TFLite's dyadic requantization).
Here the linear weight times a batch of 32 post-ReLU inputs:]]
    L.tensor("w", "linear_weight.npy")
    _G.x = qs.random({32, 512}, {dist = "relu", seed = 1})
    L.say("  x = qs.random({32, 512}, {dist = \"relu\", seed = 1})")
    L.show('qs.layer_error(w, x, {weight = {format = "int8", granularity = "channel"}, input = {format = "uint8", scheme = "asymmetric"}})')
    L.look("weight: the weight's own SQNR; W q: the output with the weight quantized")
    L.look("integer: what the int8 kernel returns, next to the float fake-quant W,X q")
    L.show('qs.quantize_multiplier(0.0072474273)')
    L.look("M = 1992157647 * 2^(-7-31): 31 bits of the multiplier, kept in an int32")
  end,
}
