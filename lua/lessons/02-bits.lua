-- Lesson 2: the bit width.
return {
  title = "Bit width: about 6 dB per bit",
  run = function(L)
    L.say[[
Each extra bit doubles the number of levels and halves the step S, so the
rounding noise power drops by 4: about 6.02 dB more signal-to-noise ratio
(SQNR) per bit, as long as nothing is clipped.]]
    L.tensor("g", "gaussian.npy")
    L.show('qs.format_table(qs.sweep{tensors = g, bits = {2, 3, 4, 5, 6, 7, 8}, progress = false}, {"format", "sqnr_db", "mse", "max_abs"})')
    L.look("the SQNR column: steps of about 6 dB")
    L.look("max_abs: the largest error halves with every bit")
    L.view{format = "int4"}
    L.look("in the workbench, + and - change the bit width: watch the grid and the SQNR")
  end,
}
