-- Lesson 5: rounding rules.
return {
  title = "Rounding: nearest, floor, stochastic",
  run = function(L)
    L.say[[
Rounding to nearest gives the smallest error per value.  Truncating
(floor) shifts every value down by S/2 on average: a bias that adds up in
a dot product.  Stochastic rounding rounds up with probability frac(r/S):
larger error per value, but unbiased on average.]]
    L.tensor("g", "gaussian.npy")
    L.show('qs.format_table(qs.sweep{tensors = g, format = "int4", rounding = {"nearest", "floor", "stochastic"}, progress = false}, {"rounding", "sqnr_db", "mse", "bias"})')
    L.look("bias: about -S/2 for floor, near 0 for nearest and stochastic")
    L.look("mse: stochastic pays about twice the error of nearest")
    L.show('qs.explain({0.3, 0.3, 0.3, 0.3, 1.4}, {format = "int4", amax = 1.4, rounding = "stochastic", seed = 1})')
    L.look("the same value 0.3 gets different codes: their mean tends to 0.3/S")
    L.view{format = "int4", rounding = "stochastic"}
  end,
}
