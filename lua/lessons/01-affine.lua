-- Lesson 1: what one quantizer does to a handful of numbers.
return {
  title = "Uniform affine quantization: scale, zero point, rounding",
  run = function(L)
    L.say[[
A b-bit uniform quantizer keeps 2^b levels, evenly spaced S apart.  A real
value r becomes the integer code Q(r) = clamp(round(r/S) + Z, qmin, qmax)
and comes back as r~ = S (Q - Z).  S (the scale) is the step; Z (the zero
point) is the code of 0.  Six numbers on a symmetric 4-bit grid:]]
    L.show('qs.explain({-1.2, -0.4, 0, 0.35, 0.9, 2.1}, {format = "int4"})')
    L.look("S = amax / 7: the largest magnitude, 2.1, lands exactly on code 7")
    L.look("every error is at most S/2: rounding, nothing clipped")
    L.say[[

The same numbers on an asymmetric unsigned grid: the range [lo, hi] is
mapped onto codes 0..15 and the zero point moves so that 0 stays exact.]]
    L.show('qs.explain({-1.2, -0.4, 0, 0.35, 0.9, 2.1}, {format = "uint4", scheme = "asymmetric"})')
    L.look("a smaller S than the symmetric grid: no levels are wasted below -1.2")
    L.say[[

Now a whole tensor: 65536 samples of N(0, 1) on the symmetric int4 grid.]]
    L.tensor("g", "gaussian.npy")
    L.view{format = "int4", calib = "minmax"}
    L.look("the grid ticks under the histogram: 15 levels over the whole range")
    L.look("the error pane: SQNR, MSE and the maximum error S/2")
  end,
}
