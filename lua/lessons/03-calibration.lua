-- Lesson 3: choosing the clipping range.
return {
  title = "Calibration: clipping the outliers",
  run = function(L)
    L.say[[
A linear layer's weight: N(0, 0.02) with four input columns 20 times wider.
Min/max calibration stretches the 4-bit grid over the outliers, so the
bulk of the weights falls into a few levels.  Other methods clip the
outliers and round the rest more finely.]]
    L.tensor("w", "linear_weight.npy")
    L.show('qs.format_table(qs.compare(w, {format = "int4"}), {"calib", "lo", "hi", "sqnr_db", "clipped"})')
    L.look("minmax clips nothing but is not the best; the best methods clip a fraction of a percent")
    L.look("entropy-style methods clip hard: good for activations, poor for these weights")
    L.view{format = "int4", calib = "mse"}
    L.look("in the workbench, c cycles the methods: the markers on the histogram move")
  end,
}
